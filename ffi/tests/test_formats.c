/*
 * C test of the input options of pl_encoder_encode_file (pl_encode_options_set_encoding,
 * _set_delimiter, _set_column, _set_columns_file, _set_sheet, _set_source): every file of the
 * council-style corpus of tests/formats (Windows-1252, UTF-16, semicolons, pipes, a byte order
 * mark, renamed columns, an Excel workbook, a Parquet file), encoded with the options it needs,
 * gives the same bytes as the UTF-8 CSV people.csv, as from the CLI
 * (cli/tests/e2e/formats.rs) and Python (python/tests/test_formats.py); and bad values are
 * refused with PL_INVALID_ARGUMENT and a message naming them.
 *
 * Usage: test_formats CORPUS_DIR OUT_DIR (OUT_DIR exists). Run by `make c-test` under valgrind
 * and with ASan+UBSan. Prints "N passed, M failed" last and exits non-zero on any failure.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pseudolink.h"
#include "test_util.h"
#include "check.h"

/* One corpus file and the options it is read with (NULL: not set). */
struct corpus_case {
    const char *file;
    const char *encoding;
    const char *delimiter;
    const char *columns_file; /* relative to the corpus */
    int renamed;              /* the mappings of columns.json, one pl_encode_options_set_column each */
    const char *sheet;
};

static const struct corpus_case CASES[] = {
    {"people-windows-1252.csv", "windows-1252", NULL, NULL, 0, NULL},
    {"people-excel-unicode.txt", NULL, "tab", NULL, 0, NULL},
    {"people-excel-unicode.txt", "utf-16", "\t", NULL, 0, NULL},
    {"people-utf16be.csv", "utf-16be", NULL, NULL, 0, NULL},
    {"people-semicolon.csv", NULL, ";", NULL, 0, NULL},
    {"people-pipe.csv", NULL, "|", NULL, 0, NULL},
    {"people-bom-crlf.csv", NULL, NULL, NULL, 0, NULL},
    {"people-renamed.csv", NULL, NULL, NULL, 1, NULL},
    {"people-renamed.csv", NULL, NULL, "columns.json", 0, NULL},
    {"people-renamed.csv", NULL, NULL, "columns.csv", 0, NULL},
    {"people.xlsx", NULL, NULL, NULL, 0, NULL},
    {"people.xlsx", NULL, NULL, NULL, 0, "People"},
    {"people.parquet", NULL, NULL, NULL, 0, NULL},
};

static const char *const RENAMED[] = {
    "record_id=PersonID", "first_name=Forename", "last_name=Surname", "date_of_birth=DOB",
    "postcode=Post Code",
};

/* Whether the files at `a` and `b` hold the same bytes (and both can be read). */
static int same_bytes(const char *a, const char *b) {
    size_t na = 0, nb = 0;
    char *x = read_file(a, &na);
    char *y = read_file(b, &nb);
    int same = x != NULL && y != NULL && na == nb && na > 0 && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s CORPUS_DIR OUT_DIR\n", argv[0]);
        return 2;
    }
    const char *corpus = argv[1];
    const char *out_dir = argv[2];
    char path[4096], out[4096], ref[4096], extra[8192];

    /* The schema of `pseudolink schema example` and a fixed secret, as the other languages'
     * corpus tests use. */
    size_t n = 0;
    CHECK_RC(pl_schema_example(NULL, 0, &n), PL_BUFFER_TOO_SMALL);
    char *json = malloc(n);
    CHECK(json != NULL);
    if (json == NULL) return 1;
    CHECK_RC(pl_schema_example(json, n, &n), PL_OK);
    struct pl_schema *schema = NULL;
    CHECK_RC(pl_schema_from_json(json, n, &schema), PL_OK);
    free(json);
    uint8_t key[32];
    for (int i = 0; i < 32; i++) key[i] = (uint8_t)i;
    struct pl_secret *secret = NULL;
    CHECK_RC(pl_secret_from_bytes(key, sizeof key, &secret), PL_OK);
    struct pl_encoder *encoder = NULL;
    CHECK_RC(pl_encoder_new(schema, secret, &encoder), PL_OK);
    if (encoder == NULL) return 1;

    /* The reference: the UTF-8 CSV, with the source name recorded. */
    struct pl_encode_options *options = NULL;
    CHECK_RC(pl_encode_options_new(&options), PL_OK);
    CHECK_RC(pl_encode_options_set_source(options, "council", strlen("council")), PL_OK);
    snprintf(path, sizeof path, "%s/people.csv", corpus);
    snprintf(ref, sizeof ref, "%s/people.enc.csv", out_dir);
    CHECK_RC(pl_encoder_encode_file(encoder, path, ref, options), PL_OK);
    snprintf(extra, sizeof extra, "%s.manifest.json", ref);
    size_t len = 0;
    char *manifest = read_file(extra, &len);
    CHECK(manifest != NULL && strstr(manifest, "\"council\"") != NULL);
    free(manifest);
    pl_encode_options_free(options);

    /* Every other form of the same records: the same bytes. */
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        const struct corpus_case *k = &CASES[c];
        options = NULL;
        CHECK_RC(pl_encode_options_new(&options), PL_OK);
        if (k->encoding != NULL) CHECK_RC(pl_encode_options_set_encoding(options, k->encoding, strlen(k->encoding)), PL_OK);
        if (k->delimiter != NULL) CHECK_RC(pl_encode_options_set_delimiter(options, k->delimiter, strlen(k->delimiter)), PL_OK);
        if (k->columns_file != NULL) {
            snprintf(extra, sizeof extra, "%s/%s", corpus, k->columns_file);
            CHECK_RC(pl_encode_options_set_columns_file(options, extra), PL_OK);
        }
        for (size_t r = 0; k->renamed && r < sizeof RENAMED / sizeof RENAMED[0]; r++) {
            CHECK_RC(pl_encode_options_set_column(options, RENAMED[r], strlen(RENAMED[r])), PL_OK);
        }
        if (k->sheet != NULL) CHECK_RC(pl_encode_options_set_sheet(options, k->sheet, strlen(k->sheet)), PL_OK);
        snprintf(path, sizeof path, "%s/%s", corpus, k->file);
        snprintf(out, sizeof out, "%s/case-%zu.enc.csv", out_dir, c);
        pl_result rc = pl_encoder_encode_file(encoder, path, out, options);
        if (rc != PL_OK) fprintf(stderr, "%s: %s\n", k->file, last_error());
        CHECK_RC(rc, PL_OK);
        if (!same_bytes(out, ref)) fprintf(stderr, "case %zu (%s): not the bytes of people.csv\n", c, k->file);
        CHECK(same_bytes(out, ref));
        pl_encode_options_free(options);
    }

    /* Bad values: refused with PL_INVALID_ARGUMENT and a message naming them; the options
     * keep what they had. */
    options = NULL;
    CHECK_RC(pl_encode_options_new(&options), PL_OK);
    CHECK_RC(pl_encode_options_set_delimiter(options, ";", strlen(";")), PL_OK);
    CHECK_RC(pl_encode_options_set_encoding(options, "ebcdic", strlen("ebcdic")), PL_INVALID_ARGUMENT);
    CHECK(strstr(last_error(), "unknown text encoding 'ebcdic'") != NULL);
    CHECK_RC(pl_encode_options_set_delimiter(options, ":", strlen(":")), PL_INVALID_ARGUMENT);
    CHECK(strstr(last_error(), "unknown delimiter ':'") != NULL);
    CHECK_RC(pl_encode_options_set_column(options, "first_name", strlen("first_name")), PL_INVALID_ARGUMENT);
    CHECK(strstr(last_error(), "SCHEMA_COLUMN=INPUT_COLUMN") != NULL);
    CHECK_RC(pl_encode_options_set_column(options, "first_name=Forename", strlen("first_name=Forename")), PL_OK);
    CHECK_RC(pl_encode_options_set_column(options, "first_name=Given", strlen("first_name=Given")), PL_INVALID_ARGUMENT);
    CHECK(strstr(last_error(), "maps 'first_name' twice") != NULL);
    CHECK_RC(pl_encode_options_set_column(options, NULL, 0), PL_OK); /* clears them */
    CHECK_RC(pl_encode_options_set_encoding(options, "\xff", strlen("\xff")), PL_INVALID_UTF8);
    CHECK_RC(pl_encode_options_set_columns_file(options, ""), PL_INVALID_ARGUMENT);
    CHECK_RC(pl_encode_options_set_encoding(NULL, "utf-8", strlen("utf-8")), PL_NULL_POINTER);
    CHECK_RC(pl_encode_options_set_delimiter(NULL, ",", strlen(",")), PL_NULL_POINTER);
    CHECK_RC(pl_encode_options_set_column(NULL, "a=b", strlen("a=b")), PL_NULL_POINTER);
    CHECK_RC(pl_encode_options_set_columns_file(NULL, NULL), PL_NULL_POINTER);
    CHECK_RC(pl_encode_options_set_sheet(NULL, NULL, 0), PL_NULL_POINTER);
    CHECK_RC(pl_encode_options_set_encoding(options, NULL, 3), PL_NULL_POINTER);
    CHECK_RC(pl_encode_options_set_source(NULL, NULL, 0), PL_NULL_POINTER);
    /* The semicolon kept: the semicolon file encodes to the reference. */
    snprintf(path, sizeof path, "%s/people-semicolon.csv", corpus);
    snprintf(out, sizeof out, "%s/kept.enc.csv", out_dir);
    CHECK_RC(pl_encoder_encode_file(encoder, path, out, options), PL_OK);
    CHECK(same_bytes(out, ref));
    /* A renamed input without its mapping names the column to map; a missing mapping file is an
     * I/O error; a sheet the workbook lacks is named. */
    pl_encode_options_free(options);
    options = NULL;
    CHECK_RC(pl_encode_options_new(&options), PL_OK);
    snprintf(path, sizeof path, "%s/people-renamed.csv", corpus);
    CHECK_RC(pl_encoder_encode_file(encoder, path, out, options), PL_INPUT_ERROR);
    CHECK(strstr(last_error(), "--column record_id=<column>") != NULL);
    snprintf(extra, sizeof extra, "%s/no-such-columns.json", corpus);
    CHECK_RC(pl_encode_options_set_columns_file(options, extra), PL_OK);
    CHECK_RC(pl_encoder_encode_file(encoder, path, out, options), PL_IO_ERROR);
    CHECK_RC(pl_encode_options_set_columns_file(options, NULL), PL_OK);
    CHECK_RC(pl_encode_options_set_sheet(options, "Nope", strlen("Nope")), PL_OK);
    snprintf(path, sizeof path, "%s/people.xlsx", corpus);
    CHECK_RC(pl_encoder_encode_file(encoder, path, out, options), PL_INPUT_ERROR);
    CHECK(strstr(last_error(), "Nope") != NULL);
    pl_encode_options_free(options);

    pl_encoder_free(encoder);
    pl_secret_free(secret);
    pl_schema_free(schema);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
