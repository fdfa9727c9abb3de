/*
 * The secret never leaks through the C API.
 *
 * Every entry point of pseudolink.h is called with a known secret, and everything it gives back
 * or leaves behind is scanned for that secret in raw, hex (lower and upper case), base64
 * (standard, unpadded, URL-safe) and fragment form: every text output (check value,
 * fingerprint, header, encoded rows), pl_last_error_message after every call (failures
 * included), whatever the library writes to stdout and stderr (fds 1 and 2 are redirected to
 * files while it runs), and every file written: encoded extracts, manifests, rejects, links and
 * their summaries. The same scan must find every form when it is planted, so the test cannot
 * pass vacuously. It also checks the audit trail of pl_encoder_encode_file and
 * pl_link_files_with_options with an agreement and purpose (and of the deprecated
 * pl_encode_file_with_agreement, pl_encode_file_with_options and pl_link_files_with_agreement):
 * who, where, when, agreement, purpose, fingerprints, key check value, counts. (`cli/tests/e2e/secrets.rs` and `python/tests/test_secret_scan.py` do the same
 * for the CLI and the Python API.)
 *
 * Usage: secret_scan AGENCY_A_CSV AGENCY_B_CSV (two raw extracts of `pseudolink synth`).
 * Run by `make c-test` under valgrind and, separately, built with AddressSanitizer and UBSan.
 * Prints "N passed, M failed, K items scanned" last and exits non-zero on any failure.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "pseudolink.h"
#include "test_util.h"
#include "check.h"

static long scanned;

/* ---- the known secret and its forms ---- */

static const uint8_t SECRET[32] = {
    0x9c, 0x4e, 0x17, 0xd2, 0x63, 0xa8, 0x0f, 0xb5, 0x71, 0x2d, 0xe6, 0x38, 0xc1, 0x5a, 0x94, 0x0b,
    0x7f, 0xe2, 0x46, 0x89, 0x3c, 0xd7, 0x10, 0x6b, 0xae, 0x25, 0xf8, 0x53, 0x9e, 0x04, 0xc7, 0x61,
};

#define N_FORMS 9
static struct {
    const char *name;
    uint8_t bytes[64];
    size_t len;
} forms[N_FORMS];

static void hex_of(const uint8_t *in, size_t n, char *out, int upper) {
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Base64 of `in` into `out` (NUL-terminated); `url` selects the URL-safe alphabet, `pad` '='. */
static void base64_of(const uint8_t *in, size_t n, char *out, int url, int pad) {
    const char *a = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                        : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n) v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n) v |= in[i + 2];
        out[o++] = a[(v >> 18) & 63];
        out[o++] = a[(v >> 12) & 63];
        if (i + 1 < n) out[o++] = a[(v >> 6) & 63];
        else if (pad) out[o++] = '=';
        if (i + 2 < n) out[o++] = a[v & 63];
        else if (pad) out[o++] = '=';
    }
    out[o] = '\0';
}

static void set_form(int i, const char *name, const void *bytes, size_t len) {
    forms[i].name = name;
    memcpy(forms[i].bytes, bytes, len);
    forms[i].len = len;
}

static char secret_hex[65], secret_hex_upper[65], secret_b64[45];

static void make_forms(void) {
    char buf[80];
    set_form(0, "raw", SECRET, 32);
    hex_of(SECRET, 32, secret_hex, 0);
    set_form(1, "hex", secret_hex, 64);
    hex_of(SECRET, 32, secret_hex_upper, 1);
    set_form(2, "HEX", secret_hex_upper, 64);
    base64_of(SECRET, 32, secret_b64, 0, 1);
    set_form(3, "base64", secret_b64, strlen(secret_b64));
    base64_of(SECRET, 32, buf, 0, 0);
    set_form(4, "base64 unpadded", buf, strlen(buf));
    base64_of(SECRET, 32, buf, 1, 0);
    set_form(5, "base64 url-safe", buf, strlen(buf));
    /* A partial leak is a leak: 12 bytes' worth of the hex, from the middle, in both cases. */
    set_form(6, "hex fragment", secret_hex + 10, 24);
    set_form(7, "HEX fragment", secret_hex_upper + 10, 24);
    /* Half the raw bytes. */
    set_form(8, "raw half", SECRET + 8, 16);
}

static int contains(const uint8_t *hay, size_t n, const uint8_t *needle, size_t m) {
    if (m == 0 || n < m) return 0;
    for (size_t i = 0; i + m <= n; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, m) == 0) return 1;
    return 0;
}

/* How many forms of the secret occur in `data`; each is reported under `what`. */
static int leaks_in(const char *what, const void *data, size_t n, int report) {
    int found = 0;
    for (int i = 0; i < N_FORMS; i++) {
        if (contains(data, n, forms[i].bytes, forms[i].len)) {
            found++;
            if (report) fprintf(stderr, "LEAK: %s of the secret in %s\n", forms[i].name, what);
        }
    }
    return found;
}

/* Scans one item: it must hold no form of the secret. */
static void scan_at(const char *what, const void *data, size_t n, int line) {
    scanned++;
    check_at(leaks_in(what, data, n, 1) == 0, what, line);
}
#define SCAN(what, data, n) scan_at((what), (data), (n), __LINE__)

/* Scans the last error message (after a failure or a success). */
static void scan_error_at(const char *call, int line) {
    char msg[8192];
    size_t n = 0;
    pl_result r = pl_last_error_message(msg, sizeof msg, &n);
    check_at(r == PL_OK, "pl_last_error_message", line);
    if (r != PL_OK) return;
    char what[512];
    snprintf(what, sizeof what, "the last error message after %s", call);
    scan_at(what, msg, n, line);
}

/* Calls `call`, checks its result is `want`, and scans the last error message. */
#define CALL(call, want)                                                                   \
    do {                                                                                   \
        pl_result rc_ = (call);                                                            \
        check_at(rc_ == (want), #call " returned " #want, __LINE__);                       \
        if (rc_ != (want)) fprintf(stderr, "    it returned %u\n", (unsigned)rc_);         \
        scan_error_at(#call, __LINE__);                                                    \
    } while (0)

/* ---- files ---- */

static char tmpdir[64], keys[128], out[128];

static const char *in_dir(const char *dir, const char *name) {
    static char paths[64][256];
    static int n;
    char *p = paths[n++ % 64];
    snprintf(p, sizeof paths[0], "%s/%s", dir, name);
    return p;
}

static int write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (f == NULL) return 0;
    size_t w = fwrite(data, 1, len, f);
    int ok = fclose(f) == 0 && w == len;
    return ok && chmod(path, 0600) == 0;
}

/* Scans every file in `dir` (reporting leaks when `report`); returns how many files were
 * scanned and sets `*leaky` to how many hold a form of the secret. */
static int scan_dir(const char *dir, int report, int *leaky) {
    *leaky = 0;
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    if (d == NULL) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        const char *path = in_dir(dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        size_t len = 0;
        char *data = read_file(path, &len);
        CHECK(data != NULL);
        if (data != NULL) {
            scanned++;
            n++;
            if (leaks_in(path, data, len, report) > 0) (*leaky)++;
        }
        free(data);
    }
    closedir(d);
    return n;
}

/* Removes every file in `dir`, then `dir`. */
static void remove_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (d == NULL) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') remove(in_dir(dir, e->d_name));
    closedir(d);
    rmdir(dir);
}

/* ---- the scanner is not vacuous ---- */

static void test_the_scanner_finds_every_planted_form(void) {
    for (int i = 0; i < N_FORMS; i++) {
        uint8_t buf[256];
        memset(buf, 'x', sizeof buf);
        memcpy(buf + 100, forms[i].bytes, forms[i].len);
        CHECK(leaks_in(forms[i].name, buf, sizeof buf, 0) >= 1);
    }
    char text[256];
    snprintf(text, sizeof text, "{\"note\": \"key %s\"}", secret_hex_upper);
    CHECK(leaks_in("planted HEX", text, strlen(text), 0) >= 2); /* HEX and its fragment */
    snprintf(text, sizeof text, "secret=%s;", secret_b64);
    CHECK(leaks_in("planted base64", text, strlen(text), 0) >= 2); /* padded and unpadded */
    /* Planted in a file, the directory scan finds it (counted as failures, then taken back). */
    char dir[160];
    snprintf(dir, sizeof dir, "%s/planted", tmpdir);
    CHECK(mkdir(dir, 0700) == 0);
    uint8_t blob[40] = {0};
    memcpy(blob + 4, SECRET, 32);
    CHECK(write_file(in_dir(dir, "leak.bin"), blob, sizeof blob));
    int leaky = 0;
    CHECK(scan_dir(dir, 0, &leaky) == 1);
    CHECK(leaky == 1);
    remove_dir(dir);
    /* Clean data has no leak. */
    char clean[65];
    memset(clean, 'a', 64);
    clean[64] = '\0';
    CHECK(leaks_in("clean", clean, 64, 0) == 0);
}

/* ---- the API ---- */

static pl_schema *example_schema(void) {
    char json[16384];
    size_t n = 0;
    pl_schema *s = NULL;
    CALL(pl_schema_example(json, sizeof json, &n), PL_OK);
    SCAN("pl_schema_example", json, n);
    size_t json_len = n;
    CALL(pl_schema_from_json(json, n, &s), PL_OK);
    char fp[64];
    CALL(pl_schema_fingerprint(s, fp, sizeof fp, &n), PL_OK);
    SCAN("pl_schema_fingerprint", fp, n);
    /* From a file, written where everything is scanned. */
    const char *path = in_dir(out, "schema.json");
    CHECK(write_file(path, json, json_len));
    pl_schema *f = NULL;
    CALL(pl_schema_from_path(path, &f), PL_OK);
    pl_schema_free(f);
    CALL(pl_schema_from_path(in_dir(out, "no-such-schema.json"), &f), PL_IO_ERROR);
PL_TEST_DEPRECATED_BEGIN
    CALL(pl_schema_from_file(path, strlen(path), &f), PL_OK);
PL_TEST_DEPRECATED_END
    pl_schema_free(f);
    return s;
}

static void kcv_of(const pl_secret *s, char *kcv) {
    size_t n = 0;
    CALL(pl_secret_check_value(s, kcv, 16, &n), PL_OK);
    kcv[n] = '\0';
    SCAN("pl_secret_check_value", kcv, n);
}

static pl_secret *test_secrets(char *kcv) {
    pl_secret *s = NULL;
    CALL(pl_secret_from_bytes(SECRET, 32, &s), PL_OK);
    kcv_of(s, kcv);
    char small[4];
    size_t n = 0;
    CALL(pl_secret_check_value(s, small, sizeof small, &n), PL_BUFFER_TOO_SMALL);
    SCAN("a too-small check value buffer", small, sizeof small);

    /* The secret files pseudolink keygen writes, in both cases, with and without a newline. */
    char text[80];
    const char *files[] = {"lower.hex", "upper.hex", "crlf.hex"};
    const char *contents[] = {secret_hex, secret_hex_upper, secret_hex};
    const char *ends[] = {"\n", "", "\r\n"};
    for (int i = 0; i < 3; i++) {
        snprintf(text, sizeof text, "%s%s", contents[i], ends[i]);
        const char *path = in_dir(keys, files[i]);
        CHECK(write_file(path, text, strlen(text)));
        pl_secret *f = NULL;
        CALL(pl_secret_from_path(path, &f), PL_OK);
        char other[17];
        kcv_of(f, other);
        CHECK(strcmp(other, kcv) == 0);
        pl_secret_free(f);
        CALL(pl_secret_from_path_strict(path, &f), PL_OK);
        kcv_of(f, other);
        CHECK(strcmp(other, kcv) == 0);
        pl_secret_free(f);
    }

    /* Bad secrets made from the known one: the messages describe, never echo. */
    uint8_t longer[33];
    memcpy(longer, SECRET, 32);
    longer[32] = 0;
    pl_secret *bad = NULL;
    CALL(pl_secret_from_bytes(SECRET, 31, &bad), PL_SECRET_ERROR);
    CALL(pl_secret_from_bytes(longer, 33, &bad), PL_SECRET_ERROR);
    CALL(pl_secret_from_bytes(SECRET, 0, &bad), PL_SECRET_ERROR);
    CALL(pl_secret_from_bytes(NULL, 32, &bad), PL_NULL_POINTER);
    CALL(pl_secret_from_bytes(SECRET, 32, NULL), PL_NULL_POINTER);
    CHECK(bad == NULL);
    struct {
        const char *name;
        char text[200];
        size_t len;
    } bad_files[9];
    int nb = 0;
#define BAD(file, ...)                                                                   \
    do {                                                                                 \
        bad_files[nb].name = (file);                                                     \
        snprintf(bad_files[nb].text, sizeof bad_files[nb].text, __VA_ARGS__);            \
        bad_files[nb].len = strlen(bad_files[nb].text);                                  \
        nb++;                                                                            \
    } while (0)
    BAD("short.hex", "%.63s", secret_hex);
    BAD("long.hex", "%s0", secret_hex);
    BAD("twice.hex", "%s%s", secret_hex, secret_hex);
    BAD("nonhex.hex", "%.63sg", secret_hex);
    BAD("base64.hex", "%s", secret_b64);
    BAD("prefixed.hex", "0x%s", secret_hex);
    BAD("empty.hex", "%s", "");
    BAD("raw.bin", "%s", "");
    memcpy(bad_files[nb - 1].text, SECRET, 32);
    bad_files[nb - 1].len = 32;
    BAD("raw-newline.bin", "%s", "");
    memcpy(bad_files[nb - 1].text, SECRET, 32);
    bad_files[nb - 1].text[32] = '\n';
    bad_files[nb - 1].len = 33;
#undef BAD
    for (int i = 0; i < nb; i++) {
        const char *path = in_dir(keys, bad_files[i].name);
        CHECK(write_file(path, bad_files[i].text, bad_files[i].len));
        pl_result r = pl_secret_from_path(path, &bad);
        CHECK(r == PL_SECRET_ERROR);
        scan_error_at(bad_files[i].name, __LINE__);
        r = pl_secret_from_path_strict(path, &bad);
        CHECK(r == PL_SECRET_ERROR);
        scan_error_at(bad_files[i].name, __LINE__);
        CHECK(bad == NULL);
    }
    const char *missing = in_dir(keys, "missing.hex");
    CALL(pl_secret_from_path(missing, &bad), PL_IO_ERROR);
    CALL(pl_secret_from_path_strict(missing, &bad), PL_IO_ERROR);
    /* The secret pasted where the name of its file belongs is not echoed back. */
    CALL(pl_secret_from_path(secret_hex, &bad), PL_IO_ERROR);
    CALL(pl_secret_from_path(secret_hex_upper, &bad), PL_IO_ERROR);
    CALL(pl_secret_from_path(secret_b64, &bad), PL_IO_ERROR);
    CALL(pl_secret_from_path_strict(secret_hex, &bad), PL_IO_ERROR);
    const char *under = in_dir(keys, secret_hex);
    CALL(pl_secret_from_path(under, &bad), PL_IO_ERROR);
    /* Not UTF-8, with the secret's raw bytes as the path (it has no zero byte). */
    char raw_path[33];
    memcpy(raw_path, SECRET, 32);
    raw_path[32] = '\0';
    CHECK(strlen(raw_path) == 32);
    CALL(pl_secret_from_path(raw_path, &bad), PL_INVALID_UTF8);
    CALL(pl_secret_from_path(NULL, &bad), PL_NULL_POINTER);
    CALL(pl_secret_from_path("", &bad), PL_INVALID_ARGUMENT);
    CHECK(bad == NULL);
    return s;
}

PL_TEST_DEPRECATED_BEGIN
/* The deprecated path forms (pointer and length): the same loads, the same silence. */
static void test_deprecated_secret_files(const char *kcv) {
    const char *path = in_dir(keys, "lower.hex"); /* written by test_secrets */
    pl_secret *f = NULL;
    char other[17];
    CALL(pl_secret_from_file(path, strlen(path), &f), PL_OK);
    kcv_of(f, other);
    CHECK(strcmp(other, kcv) == 0);
    pl_secret_free(f);
    CALL(pl_secret_from_file_strict(path, strlen(path), &f), PL_OK);
    kcv_of(f, other);
    CHECK(strcmp(other, kcv) == 0);
    pl_secret_free(f);
    pl_secret *bad = NULL;
    const char *short_key = in_dir(keys, "short.hex");
    CALL(pl_secret_from_file(short_key, strlen(short_key), &bad), PL_SECRET_ERROR);
    CALL(pl_secret_from_file_strict(short_key, strlen(short_key), &bad), PL_SECRET_ERROR);
    CALL(pl_secret_from_file(secret_hex, 64, &bad), PL_IO_ERROR);
    CALL(pl_secret_from_file_strict(secret_hex_upper, 64, &bad), PL_IO_ERROR);
    CALL(pl_secret_from_file(secret_b64, strlen(secret_b64), &bad), PL_IO_ERROR);
    CALL(pl_secret_from_file((const char *)SECRET, 32, &bad), PL_INVALID_UTF8);
    CALL(pl_secret_from_file(NULL, 5, &bad), PL_NULL_POINTER);
    CALL(pl_secret_from_file("", 0, &bad), PL_INVALID_ARGUMENT);
    CHECK(bad == NULL);
}
PL_TEST_DEPRECATED_END

static void test_encode_record(const pl_encoder *e, const pl_schema *schema) {
    size_t n_cols = 0, n = 0;
    CALL(pl_schema_input_column_count(schema, &n_cols), PL_OK);
    char name[64];
    for (size_t i = 0; i < n_cols; i++) {
        CALL(pl_schema_input_column(schema, i, name, sizeof name, &n), PL_OK);
        SCAN("pl_schema_input_column", name, n);
    }
    CALL(pl_schema_input_column(schema, n_cols, name, sizeof name, &n), PL_INVALID_ARGUMENT);
    char header[4096];
    CALL(pl_encoder_header(e, header, sizeof header, &n), PL_OK);
    SCAN("pl_encoder_header", header, n);

    /* Records of every shape, including the secret's own forms as values. */
    const char *people[][9] = {
        {"R1", "Olivia", "", "Smith", "2014-03-09", "F", "CV1 2AB", "1 High Street", "9434765919"},
        {"R2", "Mr John", "Paul", "O'Neil", "9/3/14", "M", "cv12ab", "", ""},
        {"R3", "Zoë", "", "Łukasiewicz", "31/02/2014", "9", "CV99 ZZZZ", "", "123"},
        {"R4", "", "", "", "", "", "", "", ""},
        {"R5", secret_hex, secret_hex_upper, secret_b64, secret_hex, "F", secret_hex, secret_b64, ""},
    };
    char row[8192];
    for (size_t p = 0; p < sizeof people / sizeof people[0]; p++) {
        const char *values[9];
        size_t lengths[9];
        for (size_t i = 0; i < 9; i++) {
            values[i] = people[p][i];
            lengths[i] = strlen(people[p][i]);
        }
        CHECK(n_cols == 9);
        if (n_cols != 9) return;
        CALL(pl_encode_record(e, values, lengths, 9, row, sizeof row, &n), PL_OK);
        if (p < 4) {
            SCAN("a row of pl_encode_record", row, n);
        } else {
            /* Values that are the secret's forms come out as keyed hashes of those values. */
            CHECK(leaks_in("an encoded row of secret-shaped values", row, n, 1) == 0);
        }
        CALL(pl_encode_record(e, values, lengths, 9, row, 10, &n), PL_BUFFER_TOO_SMALL);
        CALL(pl_encode_record(e, values, lengths, 8, row, sizeof row, &n), PL_INVALID_ARGUMENT);
        CALL(pl_encode_record(e, NULL, lengths, 9, row, sizeof row, &n), PL_NULL_POINTER);
    }
    const char *values[9] = {"", "Ann", "", "", "", "", "", "", ""};
    size_t lengths[9] = {0, 3, 0, 0, 0, 0, 0, 0, 0};
    CALL(pl_encode_record(e, values, lengths, 9, row, sizeof row, &n), PL_INVALID_ARGUMENT);
    values[1] = "\xff\xfe";
    lengths[1] = 2;
    values[0] = "R9";
    lengths[0] = 2;
    CALL(pl_encode_record(e, values, lengths, 9, row, sizeof row, &n), PL_INVALID_UTF8);
}

/* The JSON of a file, parsed; NULL if it cannot be read or parsed. */
static jval *read_json(const char *path, char **text) {
    size_t len = 0;
    *text = read_file(path, &len);
    if (*text == NULL) return NULL;
    return json_parse(*text, len);
}

static int str_is(const jval *v, const char *want) {
    return v != NULL && v->type == J_STRING && strcmp(v->str, want) == 0;
}

static int non_empty(const jval *v) {
    return v != NULL && v->type == J_STRING && v->len > 0;
}

/* The run record: who, where, when, under which agreement. An encode manifest (sent to the
 * linkage unit) holds the user and host keyed; a link summary holds them as they are. */
static void check_run(const jval *run, const char *agreement, const char *purpose, int keyed) {
    CHECK(run != NULL && run->type == J_OBJECT);
    if (keyed) {
        CHECK(non_empty(json_get(run, "user_keyed")) && json_get(run, "user") == NULL);
        CHECK(non_empty(json_get(run, "host_keyed")) && json_get(run, "host") == NULL);
    } else {
        CHECK(non_empty(json_get(run, "user")));
        CHECK(non_empty(json_get(run, "host")));
    }
    CHECK(non_empty(json_get(run, "started_at")));
    CHECK(non_empty(json_get(run, "finished_at")));
    const jval *s = json_get(run, "started_at"), *f = json_get(run, "finished_at");
    CHECK(s != NULL && f != NULL && s->str != NULL && f->str != NULL && strcmp(s->str, f->str) <= 0);
    CHECK(str_is(json_get(run, "agreement"), agreement));
    CHECK(str_is(json_get(run, "purpose"), purpose));
}

static void check_manifest(const char *extract, const char *kcv, const char *fingerprint,
                           const char *agreement, const char *purpose) {
    char path[300], *text = NULL;
    snprintf(path, sizeof path, "%s.manifest.json", extract);
    jval *m = read_json(path, &text);
    CHECK(m != NULL);
    if (m != NULL) {
        CHECK(str_is(json_get(m, "key_check_value"), kcv));
        CHECK(str_is(json_get(m, "schema_fingerprint"), fingerprint));
        const jval *input = json_get(m, "input"), *output = json_get(m, "output");
        /* The input's name is keyed: it may hold a name, and the manifest travels. */
        CHECK(non_empty(json_get(input, "path_keyed")) && json_get(input, "path") == NULL &&
              non_empty(json_get(input, "blake3")));
        CHECK(non_empty(json_get(output, "path")) && non_empty(json_get(output, "blake3")));
        const jval *counts = json_get(m, "counts");
        CHECK(json_get(counts, "rows_read") != NULL && json_get(counts, "encoded") != NULL &&
              json_get(counts, "rejected") != NULL);
        CHECK(json_get(counts, "encoded") != NULL && atoi(json_get(counts, "encoded")->str) > 0);
        check_run(json_get(m, "run"), agreement, purpose, 1);
    }
    json_free(m);
    free(text);
}

static void check_summary(const char *links, const char *kcv, const char *fingerprint,
                          const char *agreement, const char *purpose) {
    char path[300], *text = NULL;
    snprintf(path, sizeof path, "%s.summary.json", links);
    jval *s = read_json(path, &text);
    CHECK(s != NULL);
    if (s != NULL) {
        CHECK(str_is(json_get(s, "schema_fingerprint"), fingerprint));
        const jval *inputs = json_get(s, "inputs");
        CHECK(inputs != NULL && inputs->type == J_ARRAY && inputs->n == 2);
        for (size_t i = 0; inputs != NULL && i < inputs->n; i++) {
            const jval *in = inputs->items[i], *file = json_get(in, "file");
            CHECK(non_empty(json_get(file, "path")) && non_empty(json_get(file, "blake3")));
            CHECK(str_is(json_get(in, "key_check_value"), kcv));
            CHECK(str_is(json_get(in, "schema_fingerprint"), fingerprint));
            CHECK(json_get(in, "records") != NULL && atoi(json_get(in, "records")->str) > 0);
        }
        const jval *counts = json_get(s, "counts");
        CHECK(json_get(counts, "links") != NULL && atoi(json_get(counts, "links")->str) > 0);
        CHECK(non_empty(json_get(json_get(json_get(s, "outputs"), "links"), "blake3")));
        check_run(json_get(s, "run"), agreement, purpose, 0);
    }
    json_free(s);
    free(text);
}

static void test_files(const pl_encoder *e, const pl_schema *schema, const char *kcv,
                       const char *a_csv, const char *b_csv) {
    char fp[33];
    size_t n = 0;
    CALL(pl_schema_fingerprint(schema, fp, 32, &n), PL_OK);
    fp[n] = '\0';
    const char *agreement = "ISA-7", *purpose = "secret scan";
    char a[256], b[256], links[256];
    snprintf(a, sizeof a, "%s", in_dir(out, "a.enc.csv"));
    snprintf(b, sizeof b, "%s", in_dir(out, "b.enc.csv"));
    snprintf(links, sizeof links, "%s", in_dir(out, "links.csv"));
    pl_encode_options *eo = NULL;
    CALL(pl_encode_options_new(&eo), PL_OK);
    CALL(pl_encode_options_set_rejects(eo, in_dir(out, "a.rejects.csv")), PL_OK);
    CALL(pl_encode_options_set_agreement(eo, agreement, strlen(agreement)), PL_OK);
    CALL(pl_encode_options_set_purpose(eo, purpose, strlen(purpose)), PL_OK);
    CALL(pl_encode_options_set_id_memory(eo, 1), PL_OK);
    CALL(pl_encode_options_set_temp_dir(eo, out), PL_OK);
    CALL(pl_encoder_encode_file(e, a_csv, a, eo), PL_OK);
    CALL(pl_encode_file(e, b_csv, b, NULL), PL_OK);
    check_manifest(a, kcv, fp, agreement, purpose);
    /* The secret's forms as agreement and purpose are the caller's text, recorded as given: not
     * passed here. Invalid ones are refused without being echoed. */
    CALL(pl_encode_options_set_agreement(eo, (const char *)SECRET, 32), PL_INVALID_UTF8);
    CALL(pl_encode_options_set_purpose(eo, (const char *)SECRET, 32), PL_INVALID_UTF8);
    CALL(pl_encode_options_set_rejects(eo, ""), PL_INVALID_ARGUMENT);
    CALL(pl_encode_options_set_temp_dir(eo, NULL), PL_OK);
    CALL(pl_encode_options_set_id_memory(eo, (1u << 20) + 1), PL_INVALID_ARGUMENT);
    CALL(pl_encoder_encode_file(e, a_csv, in_dir(out, "never.csv"), NULL), PL_NULL_POINTER);

    /* Rows that are rejected, with and without a rejects file. */
    /* Cleartext with the secret's forms as names, kept with the keys (not scanned): encodings
     * and rejects must not copy the values. */
    char bad_csv[256];
    snprintf(bad_csv, sizeof bad_csv, "%s", in_dir(keys, "bad.csv"));
    char bad[1024];
    snprintf(bad, sizeof bad,
             "record_id,first_name,last_name\nB1,Ann,Smith\n,%s,Jones\nB1,Dup,Row\nB2,%s\nB3,x,y,z\n",
             secret_hex, secret_b64);
    CHECK(write_file(bad_csv, bad, strlen(bad)));
    CALL(pl_encode_file(e, bad_csv, in_dir(out, "never.csv"), NULL), PL_INPUT_ERROR);
    CALL(pl_encode_options_set_rejects(eo, in_dir(out, "bad.rejects.csv")), PL_OK);
    CALL(pl_encode_options_set_agreement(eo, NULL, 0), PL_OK);
    CALL(pl_encode_options_set_purpose(eo, NULL, 0), PL_OK);
    CALL(pl_encoder_encode_file(e, bad_csv, in_dir(out, "bad.enc.csv"), eo), PL_OK);
    CALL(pl_encoder_encode_file(e, in_dir(tmpdir, "missing.csv"), in_dir(out, "never.csv"), eo),
         PL_IO_ERROR);
    CALL(pl_encode_file(e, in_dir(tmpdir, "missing.csv"), in_dir(out, "never.csv"), NULL),
         PL_IO_ERROR);
    CALL(pl_encode_file(NULL, a_csv, in_dir(out, "never.csv"), NULL), PL_NULL_POINTER);
    pl_encode_options_free(eo);

    /* Linking, with and without the agreement; summaries beside the links. */
    pl_link_options *lo = NULL;
    CALL(pl_link_options_new(&lo), PL_OK);
    CALL(pl_link_options_set_agreement(lo, agreement, strlen(agreement)), PL_OK);
    CALL(pl_link_options_set_purpose(lo, purpose, strlen(purpose)), PL_OK);
    CALL(pl_link_files_with_options(schema, a, b, links, lo), PL_OK);
    check_summary(links, kcv, fp, agreement, purpose);
    CALL(pl_link_files(schema, a, b, in_dir(out, "links-plain.csv"), 0.5), PL_OK);
    CALL(pl_link_options_set_agreement(lo, (const char *)SECRET, 32), PL_INVALID_UTF8);
    CALL(pl_link_options_set_purpose(lo, NULL, 32), PL_NULL_POINTER);
    pl_link_options_free(lo);
    CALL(pl_link_files(schema, a, b, in_dir(out, "never.csv"), 2.0), PL_INVALID_ARGUMENT);
    CALL(pl_link_files(schema, a, in_dir(out, "missing.csv"), in_dir(out, "never.csv"), 0.9),
         PL_INPUT_ERROR);

    /* An extract under another secret: a mismatch, named by check values only. */
    uint8_t other_bytes[32];
    for (int i = 0; i < 32; i++) other_bytes[i] = (uint8_t)(SECRET[i] ^ 0xff);
    pl_secret *other = NULL;
    pl_encoder *oe = NULL;
    CALL(pl_secret_from_bytes(other_bytes, 32, &other), PL_OK);
    CALL(pl_encoder_new(schema, other, &oe), PL_OK);
    pl_secret_free(other);
    char o[256];
    snprintf(o, sizeof o, "%s", in_dir(out, "other.enc.csv"));
    CALL(pl_encode_file(oe, b_csv, o, NULL), PL_OK);
    pl_encoder_free(oe);
    CALL(pl_link_files(schema, a, o, in_dir(out, "never.csv"), 0.9), PL_MISMATCH);
    CALL(pl_link_files(schema, o, a, in_dir(out, "never.csv"), 0.9), PL_MISMATCH);
    /* An extract whose manifest does not match it. */
    size_t len = 0;
    char *text = read_file(a, &len);
    CHECK(text != NULL && len > 200);
    if (text != NULL && len > 200) {
        text[len - 5] = text[len - 5] == 'A' ? 'B' : 'A';
        CHECK(write_file(in_dir(out, "tampered.csv"), text, len));
        char *m = read_file(in_dir(out, "a.enc.csv.manifest.json"), &len);
        CHECK(m != NULL && write_file(in_dir(out, "tampered.csv.manifest.json"), m, len));
        free(m);
        pl_result r = pl_link_files(schema, in_dir(out, "tampered.csv"), b, in_dir(out, "never.csv"), 0.9);
        CHECK(r == PL_MISMATCH || r == PL_INPUT_ERROR);
        scan_error_at("pl_link_files of a tampered extract", __LINE__);
    }
    free(text);
    CHECK(access(in_dir(out, "never.csv"), F_OK) != 0);
}

PL_TEST_DEPRECATED_BEGIN
/* The deprecated positional forms leave the same audit trail and leak nothing either. */
static void test_deprecated_files(const pl_encoder *e, const pl_schema *schema, const char *kcv,
                                  const char *a_csv) {
    char fp[33];
    size_t n = 0;
    CALL(pl_schema_fingerprint(schema, fp, 32, &n), PL_OK);
    fp[n] = '\0';
    const char *agreement = "ISA-8", *purpose = "secret scan, deprecated";
    char a[256], links[256];
    snprintf(a, sizeof a, "%s", in_dir(out, "a-old.enc.csv"));
    snprintf(links, sizeof links, "%s", in_dir(out, "links-old.csv"));
    CALL(pl_encode_file_with_agreement(e, a_csv, a, in_dir(out, "a-old.rejects.csv"), agreement,
                                       purpose),
         PL_OK);
    check_manifest(a, kcv, fp, agreement, purpose);
    CALL(pl_encode_file_with_options(e, a_csv, in_dir(out, "a-old2.enc.csv"), NULL, agreement,
                                     purpose, 1, out),
         PL_OK);
    check_manifest(in_dir(out, "a-old2.enc.csv"), kcv, fp, agreement, purpose);
    CALL(pl_encode_file_with_agreement(e, a_csv, in_dir(out, "never.csv"), NULL, "\xff", NULL),
         PL_INVALID_UTF8);
    CALL(pl_encode_file_with_agreement(e, a_csv, in_dir(out, "never.csv"), NULL, NULL, "\xc3"),
         PL_INVALID_UTF8);
    CALL(pl_encode_file_with_options(e, a_csv, in_dir(out, "never.csv"), NULL, NULL, NULL, 0,
                                     ""),
         PL_INVALID_ARGUMENT);
    CALL(pl_link_files_with_agreement(schema, a, in_dir(out, "b.enc.csv"), links, 0.9, agreement,
                                      purpose),
         PL_OK);
    check_summary(links, kcv, fp, agreement, purpose);
    CALL(pl_link_files_with_agreement(schema, a, a, in_dir(out, "never.csv"), 0.9, "\xff", NULL),
         PL_INVALID_UTF8);
    CHECK(access(in_dir(out, "never.csv"), F_OK) != 0);
}
PL_TEST_DEPRECATED_END

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s AGENCY_A_CSV AGENCY_B_CSV\n", argv[0]);
        return 2;
    }
    make_forms();
    snprintf(tmpdir, sizeof tmpdir, "/tmp/pseudolink-secret-scan-XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    snprintf(keys, sizeof keys, "%s/keys", tmpdir); /* only this test writes the secret here */
    snprintf(out, sizeof out, "%s/out", tmpdir);    /* everything the library writes */
    if (mkdir(keys, 0700) != 0 || mkdir(out, 0700) != 0) {
        perror("mkdir");
        return 2;
    }
    test_the_scanner_finds_every_planted_form();

    /* What the library prints goes to files while it runs, to be scanned. */
    fflush(stdout);
    fflush(stderr);
    char out_log[160], err_log[160];
    snprintf(out_log, sizeof out_log, "%s/stdout.txt", tmpdir);
    snprintf(err_log, sizeof err_log, "%s/stderr.txt", tmpdir);
    int saved_out = dup(1), saved_err = dup(2);
    int fd_out = open(out_log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int fd_err = open(err_log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (saved_out < 0 || saved_err < 0 || fd_out < 0 || fd_err < 0 || dup2(fd_out, 1) < 0 ||
        dup2(fd_err, 2) < 0) {
        perror("redirecting stdout and stderr");
        return 2;
    }

    const char *version = pl_version();
    SCAN("pl_version", version, strlen(version));
    char kcv[17];
    pl_secret *secret = test_secrets(kcv);
    test_deprecated_secret_files(kcv);
    pl_schema *schema = example_schema();
    pl_encoder *e = NULL;
    CALL(pl_encoder_new(schema, secret, &e), PL_OK);
    pl_encoder *dated = NULL;
    CALL(pl_encoder_new_with_today(schema, secret, 2024, 2, 30, &dated), PL_INVALID_ARGUMENT);
    CALL(pl_encoder_new_with_today(schema, secret, 2024, 2, 29, &dated), PL_OK);
    CALL(pl_encoder_new(NULL, secret, &dated), PL_NULL_POINTER);
    pl_secret_free(secret); /* the encoders keep what they need */
    test_encode_record(e, schema);
    test_encode_record(dated, schema);
    test_files(e, schema, kcv, argv[1], argv[2]);
    test_deprecated_files(e, schema, kcv, argv[1]);
    pl_encoder_free(dated);
    pl_encoder_free(e);
    pl_schema_free(schema);

    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    close(fd_out);
    close(fd_err);
    /* Our own FAIL lines went to the captured stderr too: show them, then scan it. */
    size_t len = 0;
    char *err = read_file(err_log, &len);
    if (err != NULL && len > 0) fwrite(err, 1, len, stderr);
    free(err);
    int leaky = 0;
    int files = scan_dir(out, 1, &leaky);
    CHECK(files >= 14);
    CHECK(leaky == 0);
    int logs = scan_dir(tmpdir, 1, &leaky); /* stdout.txt and stderr.txt */
    CHECK(logs == 2);
    CHECK(leaky == 0);
    CHECK(scanned > 100);

    remove_dir(keys);
    remove_dir(out);
    remove(out_log);
    remove(err_log);
    rmdir(tmpdir);
    printf("%d passed, %d failed, %ld items scanned\n", passed, failed, scanned);
    return failed == 0 ? 0 : 1;
}
