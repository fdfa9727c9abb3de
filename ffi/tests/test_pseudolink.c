/*
 * C test of libpseudolink: calls every function of pseudolink.h, including every error path,
 * and checks pl_encode_record and pl_encode_file against the golden vectors
 * (tests/vectors/encode.json) that the Rust and Python tests read too.
 *
 * Usage: test_pseudolink VECTORS_JSON EXPECTED_VERSION LEFT RIGHT CLI_LINKS
 * LEFT and RIGHT are encoded extracts (with manifests) and CLI_LINKS what `pseudolink link
 * --left LEFT --right RIGHT --threshold 0.9` wrote for them: pl_link_files must write the same.
 * Run by `make c-test` under valgrind and, separately, built with AddressSanitizer and UBSan.
 * Prints "N passed, M failed" last and exits non-zero on any failure.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "pseudolink.h"
#include "test_util.h"
#include "check.h"

/* The last warnings contain `part`. */
#define CHECK_WARNING(part)                                                                    \
    do {                                                                                       \
        const char *m_ = last_warning();                                                       \
        int ok_ = strstr(m_, (part)) != NULL;                                                  \
        check_at(ok_, "last warning contains \"" part "\"", __LINE__);                         \
        if (!ok_) fprintf(stderr, "    warnings were: %s\n", m_);                              \
    } while (0)

/* Checks that `got` is `want`; on a mismatch prints the call and its last error message. */
/* The last error message contains `part`. */
#define CHECK_MSG(part)                                                                        \
    do {                                                                                       \
        const char *m_ = last_error();                                                         \
        int ok_ = strstr(m_, (part)) != NULL;                                                  \
        check_at(ok_, "last error contains \"" part "\"", __LINE__);                           \
        if (!ok_) fprintf(stderr, "    message was: %s\n", m_);                                \
    } while (0)

static int bytes_eq(const char *a, size_t an, const char *b, size_t bn) {
    return an == bn && memcmp(a, b, an) == 0;
}

/* Whether the files at `a` and `b` can be read and hold the same bytes. */
static int same_file(const char *a, const char *b) {
    size_t a_len = 0, b_len = 0;
    char *a_text = read_file(a, &a_len), *b_text = read_file(b, &b_len);
    int same = a_text != NULL && b_text != NULL && bytes_eq(a_text, a_len, b_text, b_len);
    free(a_text);
    free(b_text);
    return same;
}

/* Whether the file at `path` (a manifest or summary) contains `part`. */
static int manifest_has(const char *path, const char *part) {
    size_t len = 0;
    char *text = read_file(path, &len);
    int found = text != NULL && strstr(text, part) != NULL;
    free(text);
    return found;
}

/* ---- files ---- */

static char tmpdir[64];
static char paths[128][256];
static int n_paths;

/* A path in the test's temporary directory, removed at the end. */
static const char *tmp_path(const char *name) {
    if (n_paths >= 128) abort();
    snprintf(paths[n_paths], sizeof paths[0], "%s/%s", tmpdir, name);
    return paths[n_paths++];
}

static int write_file(const char *path, const char *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (f == NULL) return 0;
    size_t w = fwrite(data, 1, len, f);
    return fclose(f) == 0 && w == len;
}

/* Appends `s` (length n) as a CSV cell to `out`, quoted when needed. */
static void csv_cell(char *out, size_t cap, const char *s, size_t n) {
    size_t len = strlen(out);
    int quote = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r') quote = 1;
    if (quote && len < cap - 1) out[len++] = '"';
    for (size_t i = 0; i < n && len < cap - 2; i++) {
        if (s[i] == '"') out[len++] = '"';
        out[len++] = s[i];
    }
    if (quote && len < cap - 1) out[len++] = '"';
    out[len] = '\0';
}

static void append(char *out, size_t cap, const char *s) {
    size_t len = strlen(out);
    snprintf(out + len, cap - len, "%s", s);
}

/* ---- the vectors ---- */

typedef struct {
    const jval *root, *cases;
    const jval *secret_hex, *kcv, *schema_json, *fingerprint, *today, *header;
} vectors;

static int hex_to_bytes(const char *hex, uint8_t *out, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) return 0;
        out[i] = (uint8_t)v;
    }
    return 1;
}

/* The values of a case as the arrays pl_encode_record takes. */
static size_t case_values(const jval *c, const char **values, size_t *lengths, size_t cap) {
    const jval *vals = json_get(c, "values");
    if (vals == NULL || vals->type != J_ARRAY || vals->n > cap) return 0;
    for (size_t i = 0; i < vals->n; i++) {
        values[i] = vals->items[i]->str;
        lengths[i] = vals->items[i]->len;
    }
    return vals->n;
}

/* ---- tests ---- */

static void test_version(const char *expected) {
    const char *v = pl_version();
    CHECK(v != NULL);
    CHECK(v != NULL && strcmp(v, expected) == 0);
    CHECK(pl_version() == v); /* static */
}

static void test_last_error(void) {
    char buf[256];
    size_t n = 99;
    pl_schema *s = NULL;
    /* After a failure the message is there, and reading it does not change it. */
    CHECK_RC(pl_schema_from_json("{", 1, &s), PL_SCHEMA_ERROR);
    CHECK_RC(pl_last_error_message(NULL, 0, &n), PL_BUFFER_TOO_SMALL);
    size_t needed = n;
    CHECK(needed > 10);
    memset(buf, 'x', sizeof buf);
    CHECK_RC(pl_last_error_message(buf, 3, &n), PL_BUFFER_TOO_SMALL);
    CHECK(n == needed);
    CHECK(buf[0] == 'x' && buf[1] == 'x' && buf[2] == 'x'); /* nothing written */
    CHECK_RC(pl_last_error_message(buf, n, &n), PL_OK);
    CHECK(n == needed);
    CHECK(strncmp(buf, "schema error", 12) == 0);
    CHECK_RC(pl_last_error_message(buf, sizeof buf, NULL), PL_NULL_POINTER);
    CHECK_RC(pl_last_error_message(NULL, 5, &n), PL_NULL_POINTER);
    CHECK_RC(pl_last_error_message(buf, sizeof buf, &n), PL_OK);
    CHECK(n == needed); /* still the same message */
    /* A successful call clears it. */
    char fp[64];
    CHECK_RC(pl_schema_example(NULL, 0, &n), PL_BUFFER_TOO_SMALL);
    size_t ex_len = n;
    char *ex = malloc(ex_len);
    CHECK_RC(pl_schema_example(ex, ex_len, &n), PL_OK);
    CHECK_RC(pl_last_error_message(buf, sizeof buf, &n), PL_OK);
    CHECK(n == 0);
    CHECK_RC(pl_schema_from_json(ex, ex_len, &s), PL_OK);
    CHECK_RC(pl_schema_fingerprint(s, fp, sizeof fp, &n), PL_OK);
    CHECK(n == 32);
    pl_schema_free(s);
    free(ex);
}

static void test_schema(const vectors *v) {
    pl_schema *sentinel = (pl_schema *)&passed; /* any non-NULL address: must stay untouched */
    pl_schema *s = sentinel;
    char buf[8192];
    size_t n = 0;

    /* NULL pointers */
    CHECK_RC(pl_schema_from_json(NULL, 10, &s), PL_NULL_POINTER);
    CHECK_MSG("'json'");
    CHECK_RC(pl_schema_from_json(v->schema_json->str, v->schema_json->len, NULL), PL_NULL_POINTER);
    CHECK_MSG("'out'");
    CHECK_RC(pl_schema_from_json(NULL, 0, &s), PL_SCHEMA_ERROR); /* (NULL, 0) is "" */
    /* invalid UTF-8 */
    CHECK_RC(pl_schema_from_json("{\"version\": \xff}", 15, &s), PL_INVALID_UTF8);
    CHECK_MSG("not valid UTF-8 (at byte 12)");
    /* bad JSON, unknown key, impossible value: messages give the JSON path */
    CHECK_RC(pl_schema_from_json("not json", 8, &s), PL_SCHEMA_ERROR);
    const char *unknown = "{\"version\": 1, \"record_id\": \"id\", \"fields\": [], \"colour\": 1}";
    CHECK_RC(pl_schema_from_json(unknown, strlen(unknown), &s), PL_SCHEMA_ERROR);
    CHECK_MSG("colour");
    const char *bits = "{\"version\": 1, \"record_id\": \"id\", \"fields\": [{\"name\": \"n\", \"kind\": \"name\", "
                       "\"bloom\": {\"bits\": 100, \"hashes\": 10}}]}";
    CHECK_RC(pl_schema_from_json(bits, strlen(bits), &s), PL_SCHEMA_ERROR);
    CHECK_MSG("fields[0].bloom.bits");
    CHECK(s == sentinel); /* outputs written only on success */

    /* success */
    CHECK_RC(pl_schema_from_json(v->schema_json->str, v->schema_json->len, &s), PL_OK);
    CHECK(s != NULL && s != sentinel);

    /* fingerprint: too small, then retry with the size reported */
    memset(buf, 'x', sizeof buf);
    CHECK_RC(pl_schema_fingerprint(s, buf, 10, &n), PL_BUFFER_TOO_SMALL);
    CHECK(n == 32);
    CHECK(buf[0] == 'x');
    CHECK_MSG("32 are needed");
    CHECK_RC(pl_schema_fingerprint(s, buf, n, &n), PL_OK);
    CHECK(bytes_eq(buf, n, v->fingerprint->str, v->fingerprint->len));
    CHECK_RC(pl_schema_fingerprint(NULL, buf, sizeof buf, &n), PL_NULL_POINTER);
    CHECK_MSG("'schema'");
    CHECK_RC(pl_schema_fingerprint(s, buf, sizeof buf, NULL), PL_NULL_POINTER);
    CHECK_RC(pl_schema_fingerprint(s, NULL, 64, &n), PL_NULL_POINTER);

    /* input columns */
    size_t count = 0;
    CHECK_RC(pl_schema_input_column_count(s, &count), PL_OK);
    CHECK(count == 9);
    CHECK_RC(pl_schema_input_column_count(NULL, &count), PL_NULL_POINTER);
    CHECK_RC(pl_schema_input_column_count(s, NULL), PL_NULL_POINTER);
    CHECK_RC(pl_schema_input_column(s, 0, buf, sizeof buf, &n), PL_OK);
    CHECK(bytes_eq(buf, n, "record_id", 9));
    CHECK_RC(pl_schema_input_column(s, 8, buf, sizeof buf, &n), PL_OK);
    CHECK(bytes_eq(buf, n, "nhs_number", 10));
    CHECK_RC(pl_schema_input_column(s, 3, buf, 2, &n), PL_BUFFER_TOO_SMALL);
    CHECK(n == strlen("last_name"));
    CHECK_RC(pl_schema_input_column(s, 3, buf, n, &n), PL_OK);
    CHECK(bytes_eq(buf, n, "last_name", 9));
    CHECK_RC(pl_schema_input_column(s, 9, buf, sizeof buf, &n), PL_INVALID_ARGUMENT);
    CHECK_MSG("out of range");
    CHECK_RC(pl_schema_input_column(NULL, 0, buf, sizeof buf, &n), PL_NULL_POINTER);
    CHECK_RC(pl_schema_input_column(s, 0, buf, sizeof buf, NULL), PL_NULL_POINTER);

    /* the example is the vectors' schema */
    CHECK_RC(pl_schema_example(buf, 10, &n), PL_BUFFER_TOO_SMALL);
    CHECK(n == v->schema_json->len);
    CHECK_RC(pl_schema_example(buf, sizeof buf, &n), PL_OK);
    CHECK(bytes_eq(buf, n, v->schema_json->str, v->schema_json->len));
    CHECK_RC(pl_schema_example(buf, sizeof buf, NULL), PL_NULL_POINTER);
    CHECK_RC(pl_schema_example(NULL, 100, &n), PL_NULL_POINTER);
    pl_schema_free(s);

    /* from a file: a NUL-terminated path */
    const char *path = tmp_path("schema.json");
    CHECK(write_file(path, v->schema_json->str, v->schema_json->len));
    s = NULL;
    CHECK_RC(pl_schema_from_path(path, &s), PL_OK);
    CHECK_RC(pl_schema_fingerprint(s, buf, sizeof buf, &n), PL_OK);
    CHECK(bytes_eq(buf, n, v->fingerprint->str, v->fingerprint->len));
    pl_schema_free(s);
    s = sentinel;
    const char *missing = tmp_path("no-such-schema.json");
    CHECK_RC(pl_schema_from_path(missing, &s), PL_IO_ERROR);
    CHECK_MSG("no-such-schema.json");
    const char *bad = tmp_path("bad-schema.json");
    CHECK(write_file(bad, unknown, strlen(unknown)));
    CHECK_RC(pl_schema_from_path(bad, &s), PL_SCHEMA_ERROR);
    CHECK_MSG("bad-schema.json");
    CHECK_RC(pl_schema_from_path("", &s), PL_INVALID_ARGUMENT);
    CHECK_MSG("'path' is an empty path");
    CHECK_RC(pl_schema_from_path(NULL, &s), PL_NULL_POINTER);
    CHECK_MSG("'path'");
    CHECK_RC(pl_schema_from_path("\xff\xfe", &s), PL_INVALID_UTF8);
    CHECK_RC(pl_schema_from_path(path, NULL), PL_NULL_POINTER);
    CHECK_MSG("'out'");
    CHECK(s == sentinel);

    pl_schema_free(NULL); /* no-op */
}

static void test_secret(const vectors *v) {
    uint8_t key[32];
    CHECK(hex_to_bytes(v->secret_hex->str, key, 32));
    pl_secret *sentinel = (pl_secret *)&failed;
    pl_secret *k = sentinel;
    char buf[64];
    size_t n = 0;

    CHECK_RC(pl_secret_from_bytes(key, 31, &k), PL_SECRET_ERROR);
    CHECK_MSG("exactly 32 bytes, got 31");
    CHECK_RC(pl_secret_from_bytes(key, 0, &k), PL_SECRET_ERROR);
    CHECK_RC(pl_secret_from_bytes(NULL, 32, &k), PL_NULL_POINTER);
    CHECK_RC(pl_secret_from_bytes(key, 32, NULL), PL_NULL_POINTER);
    CHECK(k == sentinel);
    CHECK_RC(pl_secret_from_bytes(key, 32, &k), PL_OK);

    /* key check value: too small, retry */
    CHECK_RC(pl_secret_check_value(k, buf, 15, &n), PL_BUFFER_TOO_SMALL);
    CHECK(n == 16);
    CHECK_RC(pl_secret_check_value(k, buf, n, &n), PL_OK);
    CHECK(bytes_eq(buf, n, v->kcv->str, v->kcv->len));
    CHECK_RC(pl_secret_check_value(NULL, buf, sizeof buf, &n), PL_NULL_POINTER);
    CHECK_RC(pl_secret_check_value(k, buf, sizeof buf, NULL), PL_NULL_POINTER);
    CHECK_RC(pl_secret_check_value(k, NULL, 16, &n), PL_NULL_POINTER);
    pl_secret_free(k);

    /* from a file, as written by `pseudolink keygen` */
    const char *path = tmp_path("secret.hex");
    char text[80];
    snprintf(text, sizeof text, "%s\n", v->secret_hex->str);
    CHECK(write_file(path, text, strlen(text)));
    k = NULL;
    CHECK_RC(pl_secret_from_path(path, &k), PL_OK);
    CHECK_RC(pl_secret_check_value(k, buf, sizeof buf, &n), PL_OK);
    CHECK(bytes_eq(buf, n, v->kcv->str, v->kcv->len));
    pl_secret_free(k);

    k = sentinel;
    const char *missing = tmp_path("no-such-secret.hex");
    CHECK_RC(pl_secret_from_path(missing, &k), PL_IO_ERROR);
    CHECK_MSG("no-such-secret.hex");
    const char *short_key = tmp_path("short.hex");
    CHECK(write_file(short_key, "a1b2c3d4e5f6a7b8\n", 17));
    CHECK_RC(pl_secret_from_path(short_key, &k), PL_SECRET_ERROR);
    CHECK_MSG("64 hexadecimal characters");
    CHECK(strstr(last_error(), "a1b2c3") == NULL); /* never the file's contents */
    const char *empty = tmp_path("empty.hex");
    CHECK(write_file(empty, "", 0));
    CHECK_RC(pl_secret_from_path(empty, &k), PL_SECRET_ERROR);
    CHECK_MSG("is empty");
    CHECK_RC(pl_secret_from_path(NULL, &k), PL_NULL_POINTER);
    CHECK_RC(pl_secret_from_path("", &k), PL_INVALID_ARGUMENT);
    CHECK_RC(pl_secret_from_path("k\xc3", &k), PL_INVALID_UTF8);
    CHECK_RC(pl_secret_from_path(path, NULL), PL_NULL_POINTER);
    CHECK_RC(pl_secret_from_path_strict(NULL, &k), PL_NULL_POINTER);
    CHECK_RC(pl_secret_from_path_strict(path, NULL), PL_NULL_POINTER);
    CHECK_RC(pl_secret_from_path_strict(missing, &k), PL_IO_ERROR);
    CHECK(k == sentinel);

    /* A file others can read: loaded with a warning, refused by the strict variant (as the CLI
     * warns, and refuses with --strict). */
    CHECK(chmod(path, 0600) == 0);
    k = NULL;
    CHECK_RC(pl_secret_from_path(path, &k), PL_OK);
    CHECK_RC(pl_last_warning_message(NULL, 0, &n), PL_OK);
    CHECK(n == 0);
    pl_secret_free(k);
    k = NULL;
    CHECK_RC(pl_secret_from_path_strict(path, &k), PL_OK);
    CHECK(k != NULL);
    pl_secret_free(k);
    CHECK(chmod(path, 0644) == 0);
    k = NULL;
    CHECK_RC(pl_secret_from_path(path, &k), PL_OK);
    CHECK(k != NULL);
    CHECK_WARNING("can be read by other users (mode 644)");
    CHECK_WARNING("chmod 600");
    CHECK(strstr(last_warning(), v->secret_hex->str) == NULL);
    /* The warning follows the buffer protocol and reading it does not clear it. */
    CHECK_RC(pl_last_warning_message(NULL, 0, &n), PL_BUFFER_TOO_SMALL);
    size_t needed = n;
    CHECK(needed > 20);
    memset(buf, 'x', sizeof buf);
    CHECK_RC(pl_last_warning_message(buf, 3, &n), PL_BUFFER_TOO_SMALL);
    CHECK(n == needed && buf[0] == 'x');
    CHECK_RC(pl_last_warning_message(buf, sizeof buf, NULL), PL_NULL_POINTER);
    CHECK_RC(pl_last_warning_message(NULL, 5, &n), PL_NULL_POINTER);
    CHECK_RC(pl_last_error_message(buf, sizeof buf, &n), PL_OK);
    CHECK_RC(pl_last_warning_message(NULL, 0, &n), PL_BUFFER_TOO_SMALL);
    CHECK(n == needed);
    /* The next call clears it. */
    CHECK_RC(pl_secret_check_value(k, buf, sizeof buf, &n), PL_OK);
    CHECK_RC(pl_last_warning_message(NULL, 0, &n), PL_OK);
    CHECK(n == 0);
    pl_secret_free(k);
    k = sentinel;
    CHECK_RC(pl_secret_from_path_strict(path, &k), PL_SECRET_ERROR);
    CHECK_MSG("can be read by other users");
    CHECK_MSG("strict");
    CHECK(k == sentinel);
    CHECK_RC(pl_last_warning_message(NULL, 0, &n), PL_OK);
    CHECK(n == 0); /* refused: an error, not a warning */

    pl_secret_free(NULL); /* no-op */
}

PL_TEST_DEPRECATED_BEGIN
/* The deprecated pl_schema_from_file and pl_secret_from_file*: paths as pointer and length, the
 * same results as the _from_path functions. */
static void test_deprecated_from_file(const vectors *v) {
    char buf[64], padded[300];
    size_t n = 0;
    /* Exactly `path_len` bytes are read: a path followed by other bytes. */
    const char *schema_path = tmp_path("old-schema.json");
    CHECK(write_file(schema_path, v->schema_json->str, v->schema_json->len));
    snprintf(padded, sizeof padded, "%s.not-this", schema_path);
    pl_schema *s = NULL;
    CHECK_RC(pl_schema_from_file(padded, strlen(schema_path), &s), PL_OK);
    CHECK_RC(pl_schema_fingerprint(s, buf, sizeof buf, &n), PL_OK);
    CHECK(bytes_eq(buf, n, v->fingerprint->str, v->fingerprint->len));
    pl_schema_free(s);
    pl_schema *sentinel = (pl_schema *)&passed;
    s = sentinel;
    CHECK_RC(pl_schema_from_file(padded, strlen(padded), &s), PL_IO_ERROR);
    CHECK_MSG("not-this");
    CHECK_RC(pl_schema_from_file("", 0, &s), PL_INVALID_ARGUMENT);
    CHECK_RC(pl_schema_from_file(NULL, 4, &s), PL_NULL_POINTER);
    CHECK_MSG("'path'");
    CHECK_RC(pl_schema_from_file("\xff\xfe", 2, &s), PL_INVALID_UTF8);
    CHECK_RC(pl_schema_from_file(schema_path, strlen(schema_path), NULL), PL_NULL_POINTER);
    CHECK(s == sentinel);

    const char *key_path = tmp_path("old-secret.hex");
    char text[80];
    snprintf(text, sizeof text, "%s\n", v->secret_hex->str);
    CHECK(write_file(key_path, text, strlen(text)));
    CHECK(chmod(key_path, 0600) == 0);
    snprintf(padded, sizeof padded, "%sXYZ", key_path);
    pl_secret *k = NULL;
    CHECK_RC(pl_secret_from_file(padded, strlen(key_path), &k), PL_OK);
    CHECK_RC(pl_secret_check_value(k, buf, sizeof buf, &n), PL_OK);
    CHECK(bytes_eq(buf, n, v->kcv->str, v->kcv->len));
    pl_secret_free(k);
    k = NULL;
    CHECK_RC(pl_secret_from_file_strict(padded, strlen(key_path), &k), PL_OK);
    CHECK(k != NULL);
    pl_secret_free(k);
    /* Others can read it: a warning, and refused when strict. */
    CHECK(chmod(key_path, 0644) == 0);
    k = NULL;
    CHECK_RC(pl_secret_from_file(key_path, strlen(key_path), &k), PL_OK);
    CHECK_WARNING("can be read by other users (mode 644)");
    pl_secret_free(k);
    pl_secret *key_sentinel = (pl_secret *)&failed;
    k = key_sentinel;
    CHECK_RC(pl_secret_from_file_strict(key_path, strlen(key_path), &k), PL_SECRET_ERROR);
    CHECK_MSG("strict");
    CHECK_RC(pl_secret_from_file(padded, strlen(padded), &k), PL_IO_ERROR);
    CHECK_RC(pl_secret_from_file(NULL, 3, &k), PL_NULL_POINTER);
    CHECK_RC(pl_secret_from_file("", 0, &k), PL_INVALID_ARGUMENT);
    CHECK_RC(pl_secret_from_file("k\xc3", 2, &k), PL_INVALID_UTF8);
    CHECK_RC(pl_secret_from_file(key_path, strlen(key_path), NULL), PL_NULL_POINTER);
    CHECK_RC(pl_secret_from_file_strict(NULL, 3, &k), PL_NULL_POINTER);
    CHECK_RC(pl_secret_from_file_strict(key_path, strlen(key_path), NULL), PL_NULL_POINTER);
    CHECK(k == key_sentinel);
}
PL_TEST_DEPRECATED_END

/* Makes the vectors' encoder (fixed "today"), or NULL. */
static pl_encoder *vector_encoder(const vectors *v) {
    uint8_t key[32];
    unsigned y = 0, m = 0, d = 0;
    pl_schema *s = NULL;
    pl_secret *k = NULL;
    pl_encoder *e = NULL;
    if (!hex_to_bytes(v->secret_hex->str, key, 32) || sscanf(v->today->str, "%4u-%2u-%2u", &y, &m, &d) != 3)
        return NULL;
    if (pl_schema_from_json(v->schema_json->str, v->schema_json->len, &s) == PL_OK &&
        pl_secret_from_bytes(key, 32, &k) == PL_OK)
        pl_encoder_new_with_today(s, k, (uint16_t)y, (uint8_t)m, (uint8_t)d, &e);
    /* The encoder keeps what it needs: schema and secret can go at once. */
    pl_secret_free(k);
    pl_schema_free(s);
    return e;
}

static void test_encoder(const vectors *v) {
    uint8_t key[32];
    CHECK(hex_to_bytes(v->secret_hex->str, key, 32));
    pl_schema *s = NULL;
    pl_secret *k = NULL;
    CHECK_RC(pl_schema_from_json(v->schema_json->str, v->schema_json->len, &s), PL_OK);
    CHECK_RC(pl_secret_from_bytes(key, 32, &k), PL_OK);
    pl_encoder *sentinel = (pl_encoder *)&passed;
    pl_encoder *e = sentinel;

    CHECK_RC(pl_encoder_new(NULL, k, &e), PL_NULL_POINTER);
    CHECK_MSG("'schema'");
    CHECK_RC(pl_encoder_new(s, NULL, &e), PL_NULL_POINTER);
    CHECK_MSG("'secret'");
    CHECK_RC(pl_encoder_new(s, k, NULL), PL_NULL_POINTER);
    CHECK_RC(pl_encoder_new_with_today(s, k, 2026, 2, 30, &e), PL_INVALID_ARGUMENT);
    CHECK_MSG("2026-02-30 is not a date");
    CHECK_RC(pl_encoder_new_with_today(s, k, 0, 1, 1, &e), PL_INVALID_ARGUMENT);
    CHECK_RC(pl_encoder_new_with_today(NULL, k, 2026, 1, 1, &e), PL_NULL_POINTER);
    CHECK_RC(pl_encoder_new_with_today(s, NULL, 2026, 1, 1, &e), PL_NULL_POINTER);
    CHECK_RC(pl_encoder_new_with_today(s, k, 2026, 1, 1, NULL), PL_NULL_POINTER);
    CHECK(e == sentinel);

    CHECK_RC(pl_encoder_new(s, k, &e), PL_OK);
    /* header */
    char buf[4096];
    size_t n = 0;
    CHECK_RC(pl_encoder_header(e, buf, 5, &n), PL_BUFFER_TOO_SMALL);
    CHECK(n == v->header->len);
    CHECK_RC(pl_encoder_header(e, buf, n, &n), PL_OK);
    CHECK(bytes_eq(buf, n, v->header->str, v->header->len));
    CHECK_RC(pl_encoder_header(NULL, buf, sizeof buf, &n), PL_NULL_POINTER);
    CHECK_RC(pl_encoder_header(e, buf, sizeof buf, NULL), PL_NULL_POINTER);
    CHECK_RC(pl_encoder_header(e, NULL, 10, &n), PL_NULL_POINTER);

    /* The encoder that follows today's date agrees with the vectors' fixed-date encoder on a
       date of birth long past. */
    const char *values[16];
    size_t lengths[16];
    const jval *first = v->cases->items[0];
    size_t nv = case_values(first, values, lengths, 16);
    const jval *row = json_get(first, "row");
    CHECK_RC(pl_encode_record(e, values, lengths, nv, buf, sizeof buf, &n), PL_OK);
    CHECK(row != NULL && bytes_eq(buf, n, row->str, row->len));

    pl_encoder_free(e);
    pl_encoder_free(NULL); /* no-op */
    pl_secret_free(k);
    pl_schema_free(s);
}

static void test_encode_record(const vectors *v) {
    pl_encoder *e = vector_encoder(v);
    CHECK(e != NULL);
    if (e == NULL) return;
    char buf[4096];
    size_t n = 0;
    const char *values[16];
    size_t lengths[16];

    /* Every golden vector, byte for byte. */
    size_t matched = 0;
    for (size_t i = 0; i < v->cases->n; i++) {
        const jval *c = v->cases->items[i];
        size_t nv = case_values(c, values, lengths, 16);
        const jval *row = json_get(c, "row");
        const jval *note = json_get(c, "note");
        pl_result r = pl_encode_record(e, values, lengths, nv, buf, sizeof buf, &n);
        if (r == PL_OK && row != NULL && bytes_eq(buf, n, row->str, row->len)) {
            matched++;
        } else {
            fprintf(stderr, "FAIL vector '%s': result %u, row differs\n", note ? note->str : "?", (unsigned)r);
        }
    }
    CHECK(v->cases->n >= 20);
    CHECK(matched == v->cases->n);
    printf("golden vectors: %zu of %zu rows byte-identical to Rust\n", matched, v->cases->n);

    const jval *c0 = v->cases->items[0];
    size_t nv = case_values(c0, values, lengths, 16);
    const jval *row0 = json_get(c0, "row");

    /* Buffer too small, then retry with the size reported; nothing written on failure. */
    memset(buf, 'x', sizeof buf);
    CHECK_RC(pl_encode_record(e, values, lengths, nv, buf, 100, &n), PL_BUFFER_TOO_SMALL);
    CHECK(n == row0->len);
    CHECK(buf[0] == 'x' && buf[99] == 'x');
    CHECK_MSG("are needed");
    char *exact = malloc(n);
    CHECK_RC(pl_encode_record(e, values, lengths, nv, exact, n, &n), PL_OK);
    CHECK(bytes_eq(exact, n, row0->str, row0->len));
    free(exact);
    CHECK_RC(pl_encode_record(e, values, lengths, nv, NULL, 0, &n), PL_BUFFER_TOO_SMALL);
    CHECK(n == row0->len);

    /* NULL pointers */
    CHECK_RC(pl_encode_record(NULL, values, lengths, nv, buf, sizeof buf, &n), PL_NULL_POINTER);
    CHECK_MSG("'encoder'");
    CHECK_RC(pl_encode_record(e, NULL, lengths, nv, buf, sizeof buf, &n), PL_NULL_POINTER);
    CHECK_MSG("'values'");
    CHECK_RC(pl_encode_record(e, values, NULL, nv, buf, sizeof buf, &n), PL_NULL_POINTER);
    CHECK_MSG("'lengths'");
    CHECK_RC(pl_encode_record(e, values, lengths, nv, buf, sizeof buf, NULL), PL_NULL_POINTER);
    CHECK_RC(pl_encode_record(e, values, lengths, nv, NULL, 10, &n), PL_NULL_POINTER);

    /* wrong number of values */
    CHECK_RC(pl_encode_record(e, values, lengths, nv - 1, buf, sizeof buf, &n), PL_INVALID_ARGUMENT);
    CHECK_MSG("n_values is 8 but the schema has 9 input columns");

    /* invalid UTF-8 in one value: named by index and column, never by contents */
    const char *bad[16];
    size_t bad_len[16];
    memcpy(bad, values, nv * sizeof *bad);
    memcpy(bad_len, lengths, nv * sizeof *bad_len);
    bad[3] = "Sm\xc3\x28th";
    bad_len[3] = 6;
    CHECK_RC(pl_encode_record(e, bad, bad_len, nv, buf, sizeof buf, &n), PL_INVALID_UTF8);
    CHECK_MSG("values[3] (column 'last_name') is not valid UTF-8 (at byte 2)");
    CHECK(strstr(last_error(), "Sm") == NULL);

    /* a NULL value with a length */
    bad[3] = NULL;
    CHECK_RC(pl_encode_record(e, bad, bad_len, nv, buf, sizeof buf, &n), PL_NULL_POINTER);
    CHECK_MSG("values[3] (column 'last_name') is NULL");

    /* a NULL value with length 0 is missing, like "" */
    char with_null[4096], with_empty[4096];
    size_t n_null = 0, n_empty = 0;
    bad[3] = NULL;
    bad_len[3] = 0;
    CHECK_RC(pl_encode_record(e, bad, bad_len, nv, with_null, sizeof with_null, &n_null), PL_OK);
    bad[3] = "";
    CHECK_RC(pl_encode_record(e, bad, bad_len, nv, with_empty, sizeof with_empty, &n_empty), PL_OK);
    CHECK(bytes_eq(with_null, n_null, with_empty, n_empty));
    CHECK(!bytes_eq(with_null, n_null, row0->str, row0->len));

    /* empty record id */
    memcpy(bad, values, nv * sizeof *bad);
    memcpy(bad_len, lengths, nv * sizeof *bad_len);
    bad[0] = "  ";
    bad_len[0] = 2;
    CHECK_RC(pl_encode_record(e, bad, bad_len, nv, buf, sizeof buf, &n), PL_INVALID_ARGUMENT);
    CHECK_MSG("record id is empty");

    /* a value that is not a plausible date is encoded as missing, not an error */
    bad[0] = "x1";
    bad_len[0] = 2;
    bad[4] = "31/02/2014";
    bad_len[4] = 10;
    CHECK_RC(pl_encode_record(e, bad, bad_len, nv, buf, sizeof buf, &n), PL_OK);

    /* the encoder still works after all those errors */
    CHECK_RC(pl_encode_record(e, values, lengths, nv, buf, sizeof buf, &n), PL_OK);
    CHECK(bytes_eq(buf, n, row0->str, row0->len));
    pl_encoder_free(e);
}

/* ---- threads: one encoder shared by several threads ---- */

typedef struct {
    const pl_encoder *encoder;
    const vectors *v;
    int rounds;
    int ok;
    int own_error_ok;
} thread_job;

static void *encode_thread(void *arg) {
    thread_job *job = arg;
    char buf[4096];
    size_t n = 0;
    const char *values[16];
    size_t lengths[16];
    job->ok = 1;
    for (int r = 0; r < job->rounds; r++) {
        for (size_t i = 0; i < job->v->cases->n; i++) {
            const jval *c = job->v->cases->items[i];
            size_t nv = case_values(c, values, lengths, 16);
            const jval *row = json_get(c, "row");
            if (pl_encode_record(job->encoder, values, lengths, nv, buf, sizeof buf, &n) != PL_OK ||
                !bytes_eq(buf, n, row->str, row->len))
                job->ok = 0;
        }
    }
    /* The last error is per thread: an error here is seen here only. */
    pl_encode_record(job->encoder, values, lengths, 1, buf, sizeof buf, &n);
    job->own_error_ok = strstr(last_error(), "n_values is 1") != NULL;
    return NULL;
}

static void test_threads(const vectors *v) {
    pl_encoder *e = vector_encoder(v);
    CHECK(e != NULL);
    if (e == NULL) return;
    pl_schema *s = NULL;
    CHECK_RC(pl_schema_from_json("[]", 2, &s), PL_SCHEMA_ERROR); /* this thread's last error */
    enum { N = 4 };
    pthread_t threads[N];
    thread_job jobs[N];
    for (int i = 0; i < N; i++) {
        jobs[i] = (thread_job){e, v, 20, 0, 0};
        CHECK(pthread_create(&threads[i], NULL, encode_thread, &jobs[i]) == 0);
    }
    for (int i = 0; i < N; i++) {
        CHECK(pthread_join(threads[i], NULL) == 0);
        CHECK(jobs[i].ok);
        CHECK(jobs[i].own_error_ok);
    }
    CHECK_MSG("schema error"); /* unchanged by the other threads' errors */
    pl_encoder_free(e);
}

/* ---- files ---- */

/* Writes the vectors as a CSV extract with the schema's header. */
static int write_vectors_csv(const char *path, const vectors *v, const char *extra_rows) {
    size_t cap = 1 << 16;
    char *csv = calloc(1, cap);
    if (csv == NULL) return 0;
    append(csv, cap, "record_id,first_name,middle_name,last_name,date_of_birth,sex,postcode,address_line_1,nhs_number\n");
    for (size_t i = 0; i < v->cases->n; i++) {
        const jval *vals = json_get(v->cases->items[i], "values");
        for (size_t j = 0; j < vals->n; j++) {
            if (j > 0) append(csv, cap, ",");
            csv_cell(csv, cap, vals->items[j]->str, vals->items[j]->len);
        }
        append(csv, cap, "\n");
    }
    append(csv, cap, extra_rows);
    int ok = write_file(path, csv, strlen(csv));
    free(csv);
    return ok;
}

static void test_encode_file(const vectors *v) {
    pl_encoder *e = vector_encoder(v);
    CHECK(e != NULL);
    if (e == NULL) return;
    const char *input = tmp_path("extract.csv");
    const char *output = tmp_path("encoded.csv");
    const char *manifest = tmp_path("encoded.csv.manifest.json");
    CHECK(write_vectors_csv(input, v, ""));

    /* The file's rows are the vectors' rows: pl_encode_file == pl_encode_record == Rust. */
    CHECK_RC(pl_encode_file(e, input, output, NULL), PL_OK);
    size_t len = 0;
    char *out = read_file(output, &len);
    CHECK(out != NULL);
    if (out != NULL) {
        const char *line = out;
        const char *nl = strchr(line, '\n');
        CHECK(nl != NULL && bytes_eq(line, (size_t)(nl - line), v->header->str, v->header->len));
        size_t same = 0;
        for (size_t i = 0; i < v->cases->n && nl != NULL; i++) {
            line = nl + 1;
            nl = strchr(line, '\n');
            const jval *row = json_get(v->cases->items[i], "row");
            if (nl != NULL && bytes_eq(line, (size_t)(nl - line), row->str, row->len)) same++;
        }
        CHECK(same == v->cases->n);
        CHECK(nl != NULL && nl[1] == '\0');
        free(out);
    }
    CHECK(exists(manifest));
    char *m = read_file(manifest, &len);
    CHECK(m != NULL && strstr(m, v->fingerprint->str) != NULL && strstr(m, v->kcv->str) != NULL);
    free(m);

    /* Bad rows without a rejects file: the first stops the run, and nothing is written. */
    const char *bad_input = tmp_path("bad-extract.csv");
    const char *bad_output = tmp_path("bad-encoded.csv");
    const char *rejects = tmp_path("rejects.csv");
    tmp_path("bad-encoded.csv.manifest.json");
    CHECK(write_vectors_csv(bad_input, v, "short,row\nv01,Dup,,Licate,,,,,\n"));
    /* The header is line 1 and every case one line: the bad rows come after them. */
    char first_bad[64], bad_lines[2][16];
    snprintf(first_bad, sizeof first_bad, "bad-extract.csv, line %zu", v->cases->n + 2);
    snprintf(bad_lines[0], sizeof bad_lines[0], "\n%zu,", v->cases->n + 2);
    snprintf(bad_lines[1], sizeof bad_lines[1], "\n%zu,", v->cases->n + 3);
    CHECK_RC(pl_encode_file(e, bad_input, bad_output, NULL), PL_INPUT_ERROR);
    CHECK(strstr(last_error(), first_bad) != NULL);
    CHECK(!exists(bad_output));
    /* With a rejects file: the bad rows go there, the good ones are encoded. */
    CHECK_RC(pl_encode_file(e, bad_input, bad_output, rejects), PL_OK);
    char *rej = read_file(rejects, &len);
    CHECK(rej != NULL && strncmp(rej, "line,reason,field,message,record_id\n", 36) == 0);
    int lines = 0;
    for (const char *p = rej; p != NULL && *p != '\0'; p++) lines += *p == '\n';
    CHECK(lines == 3); /* header and two rejected rows */
    CHECK(rej != NULL && strstr(rej, bad_lines[0]) != NULL && strstr(rej, bad_lines[1]) != NULL);
    free(rej);
    out = read_file(bad_output, &len);
    lines = 0;
    for (const char *p = out; p != NULL && *p != '\0'; p++) lines += *p == '\n';
    CHECK(lines == 1 + (int)v->cases->n);
    free(out);

    /* Missing input; output directory that does not exist. */
    const char *missing = tmp_path("no-such-extract.csv");
    const char *nowhere = tmp_path("no-such-dir/encoded.csv");
    CHECK_RC(pl_encode_file(e, missing, tmp_path("unused.csv"), NULL), PL_IO_ERROR);
    CHECK_MSG("no-such-extract.csv");
    CHECK_RC(pl_encode_file(e, input, nowhere, NULL), PL_IO_ERROR);
    /* Empty input file. */
    const char *empty = tmp_path("empty.csv");
    CHECK(write_file(empty, "", 0));
    CHECK_RC(pl_encode_file(e, empty, tmp_path("unused2.csv"), NULL), PL_INPUT_ERROR);
    CHECK_MSG("empty");
    /* NULL pointers, empty paths, invalid UTF-8 paths. */
    CHECK_RC(pl_encode_file(NULL, input, output, NULL), PL_NULL_POINTER);
    CHECK_RC(pl_encode_file(e, NULL, output, NULL), PL_NULL_POINTER);
    CHECK_MSG("'input_path'");
    CHECK_RC(pl_encode_file(e, input, NULL, NULL), PL_NULL_POINTER);
    CHECK_MSG("'output_path'");
    CHECK_RC(pl_encode_file(e, "", output, NULL), PL_INVALID_ARGUMENT);
    CHECK_RC(pl_encode_file(e, input, output, ""), PL_INVALID_ARGUMENT);
    CHECK_MSG("'rejects_path'");
    CHECK_RC(pl_encode_file(e, "\xff.csv", output, NULL), PL_INVALID_UTF8);

    /* With options (pl_encoder_encode_file): a new handle gives pl_encode_file's bytes; a
       budget for the duplicate id check and a folder for its temporary files give the same
       bytes (the spill itself is tested in Rust: it needs more ids than a test under valgrind
       should encode); the agreement and purpose go to the manifest. */
    pl_encode_options *o = NULL;
    CHECK_RC(pl_encode_options_new(NULL), PL_NULL_POINTER);
    CHECK_MSG("'out'");
    CHECK_RC(pl_encode_options_new(&o), PL_OK);
    const char *opt_output = tmp_path("encoded-options.csv");
    const char *opt_manifest = tmp_path("encoded-options.csv.manifest.json");
    CHECK_RC(pl_encoder_encode_file(e, input, opt_output, o), PL_OK);
    CHECK(same_file(opt_output, output));
    CHECK(manifest_has(opt_manifest, "\"agreement\": null"));
    CHECK_RC(pl_encode_options_set_id_memory(o, 1), PL_OK);
    CHECK_RC(pl_encode_options_set_temp_dir(o, tmpdir), PL_OK);
    /* Pointer and length: "ISA-1" of a longer buffer. */
    CHECK_RC(pl_encode_options_set_agreement(o, "ISA-1 and more", 5), PL_OK);
    CHECK_RC(pl_encode_options_set_purpose(o, "Early Help", strlen("Early Help")), PL_OK);
    CHECK_RC(pl_encoder_encode_file(e, input, opt_output, o), PL_OK);
    CHECK(same_file(opt_output, output));
    CHECK(manifest_has(opt_manifest, "\"agreement\": \"ISA-1\","));
    CHECK(manifest_has(opt_manifest, "\"purpose\": \"Early Help\""));

    /* Rejects through the options: pl_encode_file's rejects and output. */
    const char *opt_rejects = tmp_path("rejects-options.csv");
    const char *bad_opt_output = tmp_path("bad-encoded-options.csv");
    tmp_path("bad-encoded-options.csv.manifest.json");
    CHECK_RC(pl_encoder_encode_file(e, bad_input, bad_opt_output, o), PL_INPUT_ERROR);
    CHECK(strstr(last_error(), first_bad) != NULL);
    CHECK(!exists(bad_opt_output));
    CHECK_RC(pl_encode_options_set_rejects(o, opt_rejects), PL_OK);
    CHECK_RC(pl_encoder_encode_file(e, bad_input, bad_opt_output, o), PL_OK);
    CHECK(same_file(opt_rejects, rejects));
    CHECK(same_file(bad_opt_output, bad_output));

    /* The setters refuse bad arguments, name them, and keep what the options had. */
    const char *never = tmp_path("never.csv");
    CHECK_RC(pl_encode_options_set_id_memory(o, (1u << 20) + 1), PL_INVALID_ARGUMENT);
    CHECK_MSG("id memory");
    CHECK_RC(pl_encode_options_set_temp_dir(o, ""), PL_INVALID_ARGUMENT);
    CHECK_MSG("'temp_dir'");
    CHECK_RC(pl_encode_options_set_temp_dir(o, "\xff"), PL_INVALID_UTF8);
    CHECK_RC(pl_encode_options_set_rejects(o, ""), PL_INVALID_ARGUMENT);
    CHECK_MSG("'rejects_path'");
    CHECK_RC(pl_encode_options_set_rejects(o, "\xc3"), PL_INVALID_UTF8);
    CHECK_RC(pl_encode_options_set_agreement(o, "\xff", 1), PL_INVALID_UTF8);
    CHECK_MSG("'agreement'");
    CHECK_RC(pl_encode_options_set_purpose(o, NULL, 4), PL_NULL_POINTER);
    CHECK_MSG("'purpose'");
    CHECK_RC(pl_encoder_encode_file(e, bad_input, bad_opt_output, o), PL_OK); /* as before */
    CHECK(same_file(opt_rejects, rejects));
    CHECK(manifest_has(tmp_path("bad-encoded-options.csv.manifest.json"), "\"agreement\": \"ISA-1\","));
    CHECK_RC(pl_encode_options_set_rejects(NULL, opt_rejects), PL_NULL_POINTER);
    CHECK_MSG("'options'");
    CHECK_RC(pl_encode_options_set_agreement(NULL, "x", 1), PL_NULL_POINTER);
    CHECK_RC(pl_encode_options_set_purpose(NULL, "x", 1), PL_NULL_POINTER);
    CHECK_RC(pl_encode_options_set_id_memory(NULL, 1), PL_NULL_POINTER);
    CHECK_RC(pl_encode_options_set_temp_dir(NULL, tmpdir), PL_NULL_POINTER);
    /* The run's own arguments. */
    CHECK_RC(pl_encoder_encode_file(e, input, never, NULL), PL_NULL_POINTER);
    CHECK_MSG("'options'");
    CHECK_RC(pl_encoder_encode_file(NULL, input, never, o), PL_NULL_POINTER);
    CHECK_MSG("'encoder'");
    CHECK_RC(pl_encoder_encode_file(e, NULL, never, o), PL_NULL_POINTER);
    CHECK_MSG("'input_path'");
    CHECK_RC(pl_encoder_encode_file(e, input, NULL, o), PL_NULL_POINTER);
    CHECK_MSG("'output_path'");
    CHECK_RC(pl_encoder_encode_file(e, input, "", o), PL_INVALID_ARGUMENT);
    CHECK_RC(pl_encoder_encode_file(e, "\xff.csv", never, o), PL_INVALID_UTF8);
    CHECK_RC(pl_encoder_encode_file(e, missing, never, o), PL_IO_ERROR);
    CHECK_MSG("no-such-extract.csv");
    /* A temporary folder that does not exist is refused by the run, before anything is written. */
    CHECK_RC(pl_encode_options_set_temp_dir(o, tmp_path("no-such-folder")), PL_OK);
    CHECK_RC(pl_encoder_encode_file(e, input, never, o), PL_INVALID_ARGUMENT);
    CHECK_MSG("no-such-folder");
    CHECK(!exists(never));
    CHECK_RC(pl_encode_options_set_temp_dir(o, NULL), PL_OK);

    /* A cancel flag, once requested, stops the run before anything appears; the options keep
     * the flag after it is freed. */
    pl_cancel *cancel = NULL;
    CHECK_RC(pl_cancel_new(&cancel), PL_OK);
    CHECK_RC(pl_encode_options_set_cancel(o, cancel), PL_OK);
    CHECK_RC(pl_encoder_encode_file(e, input, opt_output, o), PL_OK); /* not requested yet */
    CHECK(same_file(opt_output, output));
    remove(opt_output);
    remove(opt_manifest);
    CHECK_RC(pl_cancel_request(cancel), PL_OK);
    pl_cancel_free(cancel);
    CHECK_RC(pl_encoder_encode_file(e, input, never, o), PL_CANCELLED);
    CHECK(!exists(never));
    CHECK_RC(pl_encode_options_set_cancel(o, NULL), PL_OK);
    CHECK_RC(pl_encode_options_set_cancel(NULL, NULL), PL_NULL_POINTER);
    CHECK_MSG("'options'");
    CHECK_RC(pl_cancel_new(NULL), PL_NULL_POINTER);
    CHECK_RC(pl_cancel_request(NULL), PL_NULL_POINTER);
    CHECK_MSG("'cancel'");
    pl_cancel_free(NULL); /* no-op */

    /* Back to the defaults (NULL, 0 and empty texts): pl_encode_file's run again. */
    CHECK_RC(pl_encode_options_set_rejects(o, NULL), PL_OK);
    CHECK_RC(pl_encode_options_set_temp_dir(o, NULL), PL_OK);
    CHECK_RC(pl_encode_options_set_id_memory(o, 0), PL_OK);
    CHECK_RC(pl_encode_options_set_agreement(o, NULL, 0), PL_OK);
    CHECK_RC(pl_encode_options_set_purpose(o, "unused", 0), PL_OK);
    CHECK_RC(pl_encoder_encode_file(e, bad_input, never, o), PL_INPUT_ERROR);
    CHECK_RC(pl_encoder_encode_file(e, input, opt_output, o), PL_OK);
    CHECK(same_file(opt_output, output));
    CHECK(manifest_has(opt_manifest, "\"agreement\": null"));
    CHECK(manifest_has(opt_manifest, "\"purpose\": null"));
    pl_encode_options_free(o);
    pl_encode_options_free(NULL); /* no-op */
    pl_encoder_free(e);
}

PL_TEST_DEPRECATED_BEGIN
/* The deprecated positional forms: the same runs as pl_encoder_encode_file's. */
static void test_deprecated_encode_file(const vectors *v) {
    pl_encoder *e = vector_encoder(v);
    CHECK(e != NULL);
    if (e == NULL) return;
    const char *input = tmp_path("extract.csv"); /* written by test_encode_file */
    const char *output = tmp_path("encoded.csv");
    const char *old_output = tmp_path("encoded-old.csv");
    const char *old_manifest = tmp_path("encoded-old.csv.manifest.json");
    CHECK_RC(pl_encode_file_with_agreement(e, input, old_output, NULL, "ISA-2", "Family hubs"),
             PL_OK);
    CHECK(same_file(old_output, output));
    CHECK(manifest_has(old_manifest, "\"agreement\": \"ISA-2\","));
    CHECK(manifest_has(old_manifest, "\"purpose\": \"Family hubs\""));
    CHECK_RC(pl_encode_file_with_agreement(e, input, old_output, NULL, NULL, NULL), PL_OK);
    CHECK(manifest_has(old_manifest, "\"agreement\": null"));
    CHECK_RC(pl_encode_file_with_options(e, input, old_output, NULL, "ISA-1", NULL, 1, tmpdir),
             PL_OK);
    CHECK(same_file(old_output, output));
    CHECK(manifest_has(old_manifest, "\"agreement\": \"ISA-1\","));
    CHECK_RC(pl_encode_file_with_options(e, input, old_output, NULL, NULL, NULL, 0, NULL), PL_OK);
    CHECK(same_file(old_output, output));
    /* With a rejects file: pl_encode_file's rejects. */
    const char *bad_input = tmp_path("bad-extract.csv");
    const char *old_rejects = tmp_path("rejects-old.csv");
    const char *bad_old_output = tmp_path("bad-encoded-old.csv");
    tmp_path("bad-encoded-old.csv.manifest.json");
    CHECK_RC(pl_encode_file_with_options(e, bad_input, bad_old_output, old_rejects, NULL, NULL, 0,
                                         NULL),
             PL_OK);
    CHECK(same_file(old_rejects, tmp_path("rejects.csv")));
    CHECK_RC(pl_encode_file_with_agreement(e, bad_input, bad_old_output, old_rejects, "A", "P"),
             PL_OK);
    CHECK(same_file(old_rejects, tmp_path("rejects.csv")));
    /* Out of range, empty or invalid arguments: refused before anything is written. */
    const char *never = tmp_path("never.csv");
    CHECK_RC(pl_encode_file_with_options(e, input, never, NULL, NULL, NULL, (1u << 20) + 1, NULL),
             PL_INVALID_ARGUMENT);
    CHECK_MSG("id memory");
    CHECK_RC(pl_encode_file_with_options(e, input, never, NULL, NULL, NULL, 64, ""),
             PL_INVALID_ARGUMENT);
    CHECK_MSG("'temp_dir'");
    CHECK_RC(pl_encode_file_with_options(e, input, never, NULL, NULL, NULL, 64, "\xff"),
             PL_INVALID_UTF8);
    CHECK_RC(pl_encode_file_with_options(e, input, never, NULL, NULL, NULL, 64,
                                         tmp_path("no-such-folder")),
             PL_INVALID_ARGUMENT);
    CHECK_MSG("no-such-folder");
    CHECK_RC(pl_encode_file_with_options(NULL, input, never, "", "\xff", NULL, 0, NULL),
             PL_NULL_POINTER); /* arguments are checked in their order */
    CHECK_MSG("'encoder'");
    CHECK_RC(pl_encode_file_with_options(e, input, never, "", "\xff", NULL, 0, NULL),
             PL_INVALID_ARGUMENT);
    CHECK_MSG("'rejects_path'");
    CHECK_RC(pl_encode_file_with_agreement(e, input, never, NULL, "\xff", NULL), PL_INVALID_UTF8);
    CHECK_MSG("'agreement'");
    CHECK_RC(pl_encode_file_with_agreement(e, input, never, NULL, NULL, "\xc3"), PL_INVALID_UTF8);
    CHECK_MSG("'purpose'");
    CHECK_RC(pl_encode_file_with_agreement(e, NULL, never, NULL, NULL, NULL), PL_NULL_POINTER);
    CHECK(!exists(never));
    pl_encoder_free(e);
}
PL_TEST_DEPRECATED_END

static int count_lines(const char *path) {
    size_t len = 0;
    char *text = read_file(path, &len);
    int lines = 0;
    for (size_t i = 0; text != NULL && i < len; i++) lines += text[i] == '\n';
    free(text);
    return text == NULL ? -1 : lines;
}

static void test_link_files(const char *left, const char *right, const char *cli_links) {
    char json[16384];
    size_t n = 0;
    pl_schema *s = NULL;
    CHECK_RC(pl_schema_example(json, sizeof json, &n), PL_OK);
    CHECK_RC(pl_schema_from_json(json, n, &s), PL_OK);
    const char *out = tmp_path("links.csv");
    const char *summary = tmp_path("links.csv.summary.json");

    /* The same links file as the CLI, byte for byte. */
    CHECK_RC(pl_link_files(s, left, right, out, 0.9), PL_OK);
    size_t got_len = 0, want_len = 0;
    char *got = read_file(out, &got_len);
    char *want = read_file(cli_links, &want_len);
    CHECK(got != NULL && want != NULL);
    CHECK(got != NULL && want != NULL && bytes_eq(got, got_len, want, want_len));
    CHECK(got != NULL && strncmp(got, "left_id,right_id,", 17) == 0);
    free(got);
    free(want);
    CHECK(count_lines(out) > 10);
    char *sum = read_file(summary, &n);
    CHECK(sum != NULL && strstr(sum, "\"left\"") != NULL);
    free(sum);

    /* A lower threshold is accepted (review pairs start at it) and links more pairs. */
    const char *low = tmp_path("links-low.csv");
    tmp_path("links-low.csv.summary.json");
    CHECK_RC(pl_link_files(s, left, right, low, 0.3), PL_OK);
    CHECK(count_lines(low) >= count_lines(out));

    /* Thresholds that are not probabilities. */
    const char *never = tmp_path("links-never.csv");
    CHECK_RC(pl_link_files(s, left, right, never, 1.5), PL_INVALID_ARGUMENT);
    CHECK_MSG("from 0 to 1");
    CHECK_RC(pl_link_files(s, left, right, never, -0.1), PL_INVALID_ARGUMENT);
    CHECK_RC(pl_link_files(s, left, right, never, NAN), PL_INVALID_ARGUMENT);
    /* Missing input, an input that is not an encoded extract, extracts under different secrets. */
    const char *missing = tmp_path("no-such-left.csv");
    CHECK_RC(pl_link_files(s, missing, right, never, 0.9), PL_INPUT_ERROR); /* its manifest is missing */
    CHECK_MSG("no-such-left.csv");
    CHECK_RC(pl_link_files(s, left, right, tmp_path("no-such-dir/links.csv"), 0.9), PL_IO_ERROR);
    CHECK_MSG("no-such-dir");
    pl_result r = pl_link_files(s, tmp_path("extract.csv"), right, never, 0.9);
    CHECK(r == PL_INPUT_ERROR || r == PL_MISMATCH);
    CHECK_RC(pl_link_files(s, tmp_path("encoded.csv"), right, never, 0.9), PL_MISMATCH);
    CHECK_MSG("key check value");
    CHECK(!exists(never));
    /* NULL pointers, empty and invalid UTF-8 paths. */
    CHECK_RC(pl_link_files(NULL, left, right, never, 0.9), PL_NULL_POINTER);
    CHECK_MSG("'schema'");
    CHECK_RC(pl_link_files(s, NULL, right, never, 0.9), PL_NULL_POINTER);
    CHECK_MSG("'left_path'");
    CHECK_RC(pl_link_files(s, left, NULL, never, 0.9), PL_NULL_POINTER);
    CHECK_MSG("'right_path'");
    CHECK_RC(pl_link_files(s, left, right, NULL, 0.9), PL_NULL_POINTER);
    CHECK_MSG("'output_path'");
    CHECK_RC(pl_link_files(s, left, right, "", 0.9), PL_INVALID_ARGUMENT);
    CHECK_RC(pl_link_files(s, "\xc3", right, never, 0.9), PL_INVALID_UTF8);
    CHECK(!exists(never));

    /* With options: the defaults give pl_link_files' links. */
    pl_link_options *o = NULL;
    CHECK_RC(pl_link_options_new(NULL), PL_NULL_POINTER);
    CHECK_RC(pl_link_options_new(&o), PL_OK);
    const char *with = tmp_path("links-options.csv");
    tmp_path("links-options.csv.summary.json");
    CHECK_RC(pl_link_files_with_options(s, left, right, with, o), PL_OK);
    size_t a_len = 0, b_len = 0;
    char *a = read_file(out, &a_len), *b = read_file(with, &b_len);
    CHECK(a != NULL && b != NULL && bytes_eq(a, a_len, b, b_len));
    free(a);
    free(b);
    CHECK(strstr(last_warning(), "unverified") == NULL);
    const char *with_summary_path = tmp_path("links-options.csv.summary.json");
    CHECK(manifest_has(with_summary_path, "\"agreement\": null,"));
    /* The agreement and purpose (pointer and length) go to the summary; empty records none. */
    CHECK_RC(pl_link_options_set_agreement(o, "ISA-3 and more", 5), PL_OK);
    CHECK_RC(pl_link_options_set_purpose(o, "Early Help", strlen("Early Help")), PL_OK);
    CHECK_RC(pl_link_files_with_options(s, left, right, with, o), PL_OK);
    CHECK(same_file(with, out));
    CHECK(manifest_has(with_summary_path, "\"agreement\": \"ISA-3\","));
    CHECK(manifest_has(with_summary_path, "\"purpose\": \"Early Help\""));
    CHECK_RC(pl_link_options_set_agreement(o, "\xff", 1), PL_INVALID_UTF8);
    CHECK_MSG("'agreement'");
    CHECK_RC(pl_link_options_set_purpose(o, NULL, 2), PL_NULL_POINTER);
    CHECK_MSG("'purpose'");
    CHECK_RC(pl_link_options_set_agreement(NULL, "x", 1), PL_NULL_POINTER);
    CHECK_MSG("'options'");
    CHECK_RC(pl_link_options_set_purpose(NULL, "x", 1), PL_NULL_POINTER);
    CHECK_RC(pl_link_files_with_options(s, left, right, with, o), PL_OK);
    CHECK(manifest_has(with_summary_path, "\"agreement\": \"ISA-3\","));
    CHECK_RC(pl_link_options_set_agreement(o, NULL, 0), PL_OK);
    CHECK_RC(pl_link_options_set_purpose(o, "", 0), PL_OK);
    CHECK_RC(pl_link_files_with_options(s, left, right, with, o), PL_OK);
    CHECK(manifest_has(with_summary_path, "\"agreement\": null,\n    \"purpose\": null"));
    CHECK_RC(pl_link_options_set_threshold(o, 0.3), PL_OK);
    CHECK_RC(pl_link_files_with_options(s, left, right, with, o), PL_OK);
    CHECK(count_lines(with) == count_lines(low));
    CHECK_RC(pl_link_options_set_threshold(o, 1.5), PL_OK);
    CHECK_RC(pl_link_files_with_options(s, left, right, never, o), PL_INVALID_ARGUMENT);
    CHECK_MSG("from 0 to 1");
    CHECK_RC(pl_link_options_set_threshold(o, 0.9), PL_OK);
    CHECK_RC(pl_link_options_set_threshold(NULL, 0.9), PL_NULL_POINTER);
    CHECK_RC(pl_link_options_set_allow_unverified(NULL, true), PL_NULL_POINTER);
    CHECK_RC(pl_link_files_with_options(s, left, right, never, NULL), PL_NULL_POINTER);
    CHECK_MSG("'options'");
    CHECK_RC(pl_link_files_with_options(NULL, left, right, never, o), PL_NULL_POINTER);
    /* A requested cancel flag stops the run; nothing is written. */
    pl_cancel *cancel = NULL;
    CHECK_RC(pl_cancel_new(&cancel), PL_OK);
    CHECK_RC(pl_cancel_request(cancel), PL_OK);
    CHECK_RC(pl_link_options_set_cancel(o, cancel), PL_OK);
    pl_cancel_free(cancel);
    CHECK_RC(pl_link_files_with_options(s, left, right, never, o), PL_CANCELLED);
    CHECK(!exists(never));
    CHECK_RC(pl_link_options_set_cancel(o, NULL), PL_OK);
    CHECK_RC(pl_link_options_set_cancel(NULL, NULL), PL_NULL_POINTER);
    /* An extract without its manifest: refused unless allowed, then linked with warnings. */
    const char *bare = tmp_path("bare.csv");
    size_t left_len = 0;
    char *left_text = read_file(left, &left_len);
    CHECK(left_text != NULL && write_file(bare, left_text, left_len));
    free(left_text);
    CHECK_RC(pl_link_files_with_options(s, bare, right, never, o), PL_INPUT_ERROR);
    CHECK_MSG("must travel with its manifest");
    CHECK_RC(pl_link_options_set_allow_unverified(o, true), PL_OK);
    CHECK_RC(pl_link_files_with_options(s, bare, right, with, o), PL_OK);
    CHECK_WARNING("has no usable manifest");
    CHECK_WARNING("manifest not used for");
    /* Linked, though not byte for byte as before: an extract without its manifest brings no
     * pair statistics, so u comes from the other extract's alone. */
    CHECK(count_lines(with) > 1);
    char *with_summary = read_file(tmp_path("links-options.csv.summary.json"), &n);
    CHECK(with_summary != NULL && strstr(with_summary, "has no usable manifest") != NULL);
    CHECK(with_summary != NULL && strstr(with_summary, "\"manifest_verified\": false") != NULL);
    free(with_summary);
    /* Even allowed, a file that is not an encoded extract of the schema is refused. */
    CHECK_RC(pl_link_files_with_options(s, tmp_path("extract.csv"), right, never, o), PL_MISMATCH);
    CHECK_MSG("the header does not match");
    CHECK(!exists(never));
    pl_link_options_free(o);
    pl_link_options_free(NULL); /* no-op */
    pl_schema_free(s);
}

PL_TEST_DEPRECATED_BEGIN
/* The deprecated pl_link_files_with_agreement: pl_link_files' links, the agreement recorded. */
static void test_deprecated_link_files(const char *left, const char *right) {
    char json[16384];
    size_t n = 0;
    pl_schema *s = NULL;
    CHECK_RC(pl_schema_example(json, sizeof json, &n), PL_OK);
    CHECK_RC(pl_schema_from_json(json, n, &s), PL_OK);
    const char *old = tmp_path("links-old.csv");
    const char *old_summary = tmp_path("links-old.csv.summary.json");
    CHECK_RC(pl_link_files_with_agreement(s, left, right, old, 0.9, "ISA-4", "Family hubs"), PL_OK);
    CHECK(same_file(old, tmp_path("links.csv"))); /* written by test_link_files */
    CHECK(manifest_has(old_summary, "\"agreement\": \"ISA-4\","));
    CHECK(manifest_has(old_summary, "\"purpose\": \"Family hubs\""));
    CHECK_RC(pl_link_files_with_agreement(s, left, right, old, 0.3, NULL, NULL), PL_OK);
    CHECK(same_file(old, tmp_path("links-low.csv")));
    CHECK(manifest_has(old_summary, "\"agreement\": null,\n    \"purpose\": null"));
    const char *never = tmp_path("links-never.csv");
    CHECK_RC(pl_link_files_with_agreement(s, left, right, never, 0.9, "\xff", NULL), PL_INVALID_UTF8);
    CHECK_MSG("'agreement'");
    CHECK_RC(pl_link_files_with_agreement(s, left, right, never, 2.0, NULL, NULL), PL_INVALID_ARGUMENT);
    CHECK_RC(pl_link_files_with_agreement(NULL, left, right, never, 0.9, NULL, NULL), PL_NULL_POINTER);
    CHECK_MSG("'schema'");
    CHECK_RC(pl_link_files_with_agreement(s, left, NULL, never, 0.9, NULL, NULL), PL_NULL_POINTER);
    CHECK(!exists(never));
    pl_schema_free(s);
}
PL_TEST_DEPRECATED_END

/* A saved model and evaluation, against what the CLI gives for the same files. */
static void test_model_and_evaluate(const char *dir, const char *left, const char *right,
                                    const char *cli_links) {
    char json[16384], model[1024], cli_model_links[1024], truth[1024], cli_eval[1024];
    snprintf(model, sizeof model, "%s/model.json", dir);
    snprintf(cli_model_links, sizeof cli_model_links, "%s/cli_model_links.csv", dir);
    snprintf(truth, sizeof truth, "%s/synth/truth.csv", dir);
    snprintf(cli_eval, sizeof cli_eval, "%s/cli_evaluation.json", dir);
    size_t n = 0;
    pl_schema *s = NULL;
    CHECK_RC(pl_schema_example(json, sizeof json, &n), PL_OK);
    CHECK_RC(pl_schema_from_json(json, n, &s), PL_OK);
    pl_link_options *o = NULL;
    CHECK_RC(pl_link_options_new(&o), PL_OK);

    /* Saving the trained model: the links are pl_link_files' and the model file appears. */
    const char *saved = tmp_path("model.json");
    const char *out = tmp_path("links-saved.csv");
    tmp_path("links-saved.csv.summary.json");
    CHECK_RC(pl_link_options_set_save_model(o, saved), PL_OK);
    CHECK_RC(pl_link_files_with_options(s, left, right, out, o), PL_OK);
    size_t a_len = 0, b_len = 0;
    char *a = read_file(out, &a_len), *b = read_file(cli_links, &b_len);
    CHECK(a != NULL && b != NULL && bytes_eq(a, a_len, b, b_len));
    free(a);
    free(b);
    char *saved_text = read_file(saved, &n);
    CHECK(saved_text != NULL && strstr(saved_text, "\"comparisons\"") != NULL);
    free(saved_text);

    /* Linking with the CLI's saved model gives the CLI's links, byte for byte. */
    const char *with_model = tmp_path("links-model.csv");
    tmp_path("links-model.csv.summary.json");
    CHECK_RC(pl_link_options_set_save_model(o, NULL), PL_OK);
    CHECK_RC(pl_link_options_set_model(o, model), PL_OK);
    CHECK_RC(pl_link_options_set_threshold(o, 0.3), PL_OK);
    CHECK_RC(pl_link_files_with_options(s, left, right, with_model, o), PL_OK);
    a = read_file(with_model, &a_len);
    b = read_file(cli_model_links, &b_len);
    CHECK(a != NULL && b != NULL && bytes_eq(a, a_len, b, b_len));
    free(a);
    free(b);
    char *summary = read_file(tmp_path("links-model.csv.summary.json"), &n);
    CHECK(summary != NULL && strstr(summary, "model.json") != NULL);
    free(summary);

    /* A model that is not one: refused with PL_MODEL_ERROR, nothing written. */
    const char *never = tmp_path("links-never.csv");
    CHECK_RC(pl_link_options_set_model(o, truth), PL_OK);
    CHECK_RC(pl_link_files_with_options(s, left, right, never, o), PL_MODEL_ERROR);
    CHECK(!exists(never));
    CHECK_RC(pl_link_options_set_model(o, tmp_path("no-such-model.json")), PL_OK);
    pl_result r = pl_link_files_with_options(s, left, right, never, o);
    CHECK(r == PL_IO_ERROR || r == PL_MODEL_ERROR);
    CHECK_MSG("no-such-model.json");
    CHECK(!exists(never));
    CHECK_RC(pl_link_options_set_model(NULL, model), PL_NULL_POINTER);
    CHECK_RC(pl_link_options_set_save_model(NULL, model), PL_NULL_POINTER);
    CHECK_RC(pl_link_options_set_model(o, ""), PL_INVALID_ARGUMENT);
    CHECK_RC(pl_link_options_set_model(o, "\xc3"), PL_INVALID_UTF8);
    pl_link_options_free(o);

    /* Evaluation: the numbers `pseudolink evaluate` printed for the same links and truth. */
    pl_evaluation e;
    memset(&e, 0, sizeof e);
    CHECK_RC(pl_evaluate_files(cli_links, truth, false, &e), PL_OK);
    char *cli = read_file(cli_eval, &n);
    jval *want = cli != NULL ? json_parse(cli, n) : NULL;
    const jval *tp = json_get(want, "true_positives"), *fp = json_get(want, "false_positives"),
               *fn = json_get(want, "false_negatives"), *f1 = json_get(want, "f1"),
               *precision = json_get(want, "precision"), *recall = json_get(want, "recall");
    CHECK(tp != NULL && fp != NULL && fn != NULL && f1 != NULL && precision != NULL &&
          recall != NULL);
    if (tp != NULL && fp != NULL && fn != NULL && f1 != NULL && precision != NULL &&
        recall != NULL) {
        CHECK(e.true_positives == strtoull(tp->str, NULL, 10));
        CHECK(e.false_positives == strtoull(fp->str, NULL, 10));
        CHECK(e.false_negatives == strtoull(fn->str, NULL, 10));
        CHECK(e.f1 == strtod(f1->str, NULL)); /* the same f64, printed shortest round-trip */
        CHECK(e.precision == strtod(precision->str, NULL));
        CHECK(e.recall == strtod(recall->str, NULL));
    }
    CHECK(e.true_positives > 100 && e.f1 > 0.9);
    json_free(want);
    free(cli);
    /* Unordered: the same pairs here (left and right ids come from different agencies). */
    pl_evaluation u;
    memset(&u, 0, sizeof u);
    CHECK_RC(pl_evaluate_files(cli_links, truth, true, &u), PL_OK);
    CHECK(u.true_positives == e.true_positives);
    /* Errors: a links file that is not one names the file; NULLs; nothing written on failure. */
    pl_evaluation untouched;
    memset(&untouched, 0xab, sizeof untouched);
    CHECK_RC(pl_evaluate_files(truth, truth, false, &untouched), PL_INPUT_ERROR);
    CHECK_MSG("truth.csv");
    unsigned char pattern[sizeof untouched];
    memset(pattern, 0xab, sizeof pattern);
    CHECK(memcmp(&untouched, pattern, sizeof pattern) == 0);
    CHECK_RC(pl_evaluate_files(tmp_path("no-such-links.csv"), truth, false, &e), PL_IO_ERROR);
    CHECK_MSG("no-such-links.csv");
    CHECK_RC(pl_evaluate_files(NULL, truth, false, &e), PL_NULL_POINTER);
    CHECK_MSG("'links_path'");
    CHECK_RC(pl_evaluate_files(cli_links, NULL, false, &e), PL_NULL_POINTER);
    CHECK_RC(pl_evaluate_files(cli_links, truth, false, NULL), PL_NULL_POINTER);
    CHECK_MSG("'out'");
    pl_schema_free(s);
}

static void cleanup(void) {
    for (int i = n_paths - 1; i >= 0; i--) remove(paths[i]);
    rmdir(tmpdir);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s VECTORS_JSON EXPECTED_VERSION LINK_FIXTURES_DIR\n", argv[0]);
        return 2;
    }
    /* The fixtures `make c-fixtures` writes with the CLI. */
    static char left[1024], right[1024], cli_links[1024];
    snprintf(left, sizeof left, "%s/a.csv", argv[3]);
    snprintf(right, sizeof right, "%s/b.csv", argv[3]);
    snprintf(cli_links, sizeof cli_links, "%s/cli_links.csv", argv[3]);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/pseudolink-c-test-XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    size_t len = 0;
    char *text = read_file(argv[1], &len);
    if (text == NULL) {
        fprintf(stderr, "cannot read %s: %s\n", argv[1], strerror(errno));
        return 2;
    }
    vectors v = {0};
    v.root = json_parse(text, len);
    v.cases = json_get(v.root, "cases");
    v.secret_hex = json_get(v.root, "secret_hex");
    v.kcv = json_get(v.root, "key_check_value");
    v.schema_json = json_get(v.root, "schema_json");
    v.fingerprint = json_get(v.root, "schema_fingerprint");
    v.today = json_get(v.root, "today");
    v.header = json_get(v.root, "header");
    if (v.cases == NULL || v.cases->type != J_ARRAY || v.cases->n == 0 || v.secret_hex == NULL ||
        v.kcv == NULL || v.schema_json == NULL || v.fingerprint == NULL || v.today == NULL ||
        v.header == NULL) {
        fprintf(stderr, "%s is not a vectors file of the expected shape\n", argv[1]);
        return 2;
    }

    test_version(argv[2]);
    test_last_error();
    test_schema(&v);
    test_secret(&v);
    test_deprecated_from_file(&v);
    test_encoder(&v);
    test_encode_record(&v);
    test_threads(&v);
    test_encode_file(&v);
    test_deprecated_encode_file(&v); /* after test_encode_file: uses its files */
    test_link_files(left, right, cli_links); /* after test_encode_file: uses its files */
    test_deprecated_link_files(left, right); /* after test_link_files: uses its files */
    test_model_and_evaluate(argv[3], left, right, cli_links);

    cleanup();
    json_free((jval *)v.root);
    free(text);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
