/*
 * The pass/fail counting of the C test programs (test_pseudolink.c, test_index.c,
 * test_formats.c, secret_scan.c): CHECK(cond) and CHECK_RC(call, want) count a pass or print
 * the failing line and count a failure; each program prints "N passed, M failed" from `passed`
 * and `failed` last.
 * Include it once per program, after test_util.h.
 */
#ifndef PSEUDOLINK_TEST_CHECK_H
#define PSEUDOLINK_TEST_CHECK_H

#include <stdio.h>

#include "pseudolink.h"
#include "test_util.h"

static int passed, failed;

static inline void check_at(int ok, const char *what, int line) {
    if (ok) {
        passed++;
    } else {
        failed++;
        fprintf(stderr, "FAIL line %d: %s\n", line, what);
    }
}
#define CHECK(cond) check_at((cond) ? 1 : 0, #cond, __LINE__)

/* Checks that `got` is `want`; on a mismatch prints the call and its last error message. */
static inline void check_rc_at(pl_result got, pl_result want, const char *call, int line) {
    if (got == want) {
        passed++;
    } else {
        failed++;
        fprintf(stderr, "FAIL line %d: %s returned %u, expected %u (%s)\n", line, call, (unsigned)got,
                (unsigned)want, last_error());
    }
}
#define CHECK_RC(call, want) check_rc_at((call), (want), #call, __LINE__)

#endif
