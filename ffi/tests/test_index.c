/*
 * C test of the person index functions (pl_index_open, pl_index_match_record, pl_index_close),
 * every error path included, and that pl_index_match_record gives the row `pseudolink index add`
 * wrote to assigned.csv for the same record.
 *
 * Usage: test_index FIXTURES_DIR, with what `make c-fixtures` writes there: `index/` (made by
 * `pseudolink index create` from a.csv and b.csv, sources a and b), `one.enc.csv` (one record of
 * agency b, encoded) and `one.assigned.csv` (what `pseudolink index add --source b2` wrote for
 * it on a copy of the index). Run by `make c-test` under valgrind and with ASan+UBSan.
 * Prints "N passed, M failed" last and exits non-zero on any failure.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pseudolink.h"
#include "test_util.h"
#include "check.h"

/* Line `n` (1 = the first) of `text`, without its newline, into `out` (NUL-terminated). */
static int line_of(const char *text, int n, char *out, size_t cap) {
    const char *p = text;
    for (int i = 1; i < n; i++) {
        p = strchr(p, '\n');
        if (p == NULL) return 0;
        p++;
    }
    size_t len = strcspn(p, "\r\n");
    if (len == 0 || len >= cap) return 0;
    memcpy(out, p, len);
    out[len] = '\0';
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s FIXTURES_DIR\n", argv[0]);
        return 2;
    }
    char dir[1024], path[1100];
    snprintf(dir, sizeof dir, "%s/index", argv[1]);
    static char row[8192], expected[1024];
    size_t len = 0;
    snprintf(path, sizeof path, "%s/one.enc.csv", argv[1]);
    char *extract = read_file(path, &len);
    snprintf(path, sizeof path, "%s/one.assigned.csv", argv[1]);
    char *assigned = read_file(path, &len);
    if (extract == NULL || assigned == NULL || !line_of(extract, 2, row, sizeof row) ||
        !line_of(assigned, 2, expected, sizeof expected)) {
        fprintf(stderr, "cannot read the fixtures in %s\n", argv[1]);
        free(extract);
        free(assigned);
        return 2;
    }

    /* Opening: NULL arguments, a folder without an index, then the index. */
    pl_index *index = NULL;
    CHECK_RC(pl_index_open(NULL, &index), PL_NULL_POINTER);
    CHECK_RC(pl_index_open(dir, NULL), PL_NULL_POINTER);
    CHECK_RC(pl_index_open("", &index), PL_INVALID_ARGUMENT);
    CHECK_RC(pl_index_open(argv[1], &index), PL_INVALID_ARGUMENT);
    CHECK(strstr(last_error(), "holds no person index") != NULL);
    CHECK(index == NULL);
    CHECK_RC(pl_index_open(dir, &index), PL_OK);
    CHECK(index != NULL);
    /* One process at a time, and one handle at a time. */
    pl_index *second = NULL;
    CHECK_RC(pl_index_open(dir, &second), PL_IO_ERROR);
    CHECK(strstr(last_error(), "in use") != NULL);
    CHECK(second == NULL);

    /* The answer is the row `pseudolink index add` wrote for the same record. */
    char buf[512];
    size_t written = 0;
    const char *source = "b2";
    CHECK_RC(pl_index_match_record(index, source, strlen(source), row, strlen(row), buf,
                                   sizeof buf, &written),
             PL_OK);
    CHECK(written == strlen(expected) && memcmp(buf, expected, written) == 0);
    if (!(written == strlen(expected) && memcmp(buf, expected, written) == 0)) {
        fprintf(stderr, "    got      %.*s\n    expected %s\n", (int)written, buf, expected);
    }
    CHECK(strstr(expected, ",match,") != NULL);
    /* Asking again gives the same answer (nothing was stored). */
    char again[512];
    size_t written2 = 0;
    CHECK_RC(pl_index_match_record(index, source, strlen(source), row, strlen(row), again,
                                   sizeof again, &written2),
             PL_OK);
    CHECK(written2 == written && memcmp(again, buf, written) == 0);

    /* Buffer too small: the size needed, nothing written; a size query with NULL, 0. */
    char tiny[4] = {'x', 'x', 'x', 'x'};
    size_t needed = 0;
    CHECK_RC(pl_index_match_record(index, source, strlen(source), row, strlen(row), tiny,
                                   sizeof tiny, &needed),
             PL_BUFFER_TOO_SMALL);
    CHECK(needed == written && tiny[0] == 'x');
    needed = 0;
    CHECK_RC(pl_index_match_record(index, source, strlen(source), row, strlen(row), NULL, 0,
                                   &needed),
             PL_BUFFER_TOO_SMALL);
    CHECK(needed == written);

    /* Bad arguments. */
    CHECK_RC(pl_index_match_record(NULL, source, strlen(source), row, strlen(row), buf,
                                   sizeof buf, &written),
             PL_NULL_POINTER);
    CHECK_RC(pl_index_match_record(index, source, strlen(source), row, strlen(row), buf,
                                   sizeof buf, NULL),
             PL_NULL_POINTER);
    CHECK_RC(pl_index_match_record(index, NULL, 3, row, strlen(row), buf, sizeof buf, &written),
             PL_NULL_POINTER);
    const char *bad_utf8 = "b\xff";
    CHECK_RC(pl_index_match_record(index, bad_utf8, 2, row, strlen(row), buf, sizeof buf,
                                   &written),
             PL_INVALID_UTF8);
    CHECK_RC(pl_index_match_record(index, "a:b", 3, row, strlen(row), buf, sizeof buf, &written),
             PL_INVALID_ARGUMENT);
    const char *garbage = "x,not-hex";
    CHECK_RC(pl_index_match_record(index, source, strlen(source), garbage, strlen(garbage), buf,
                                   sizeof buf, &written),
             PL_INPUT_ERROR);
    CHECK_RC(pl_index_match_record(index, source, strlen(source), "", 0, buf, sizeof buf,
                                   &written),
             PL_INPUT_ERROR);

    pl_index_close(index);
    pl_index_close(NULL);
    /* Closed: it can be opened again. */
    index = NULL;
    CHECK_RC(pl_index_open(dir, &index), PL_OK);
    pl_index_close(index);

    free(extract);
    free(assigned);
    printf("test_index: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
