/*
 * Helpers shared by the C test programs (test_pseudolink.c, bad_inputs.c, secret_scan.c):
 * reading a whole file, whether a path exists, the last error / warning messages of this
 * thread, and the brackets of tests that call deprecated functions. `static inline` so that a program that does not use one gets no unused-function error.
 */
#ifndef PSEUDOLINK_TEST_UTIL_H
#define PSEUDOLINK_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "pseudolink.h"

/* Around tests of the deprecated functions, which must keep working until they are removed:
 * their calls are not warned about (-Werror would make the warnings errors). */
#define PL_TEST_DEPRECATED_BEGIN \
    _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wdeprecated-declarations\"")
#define PL_TEST_DEPRECATED_END _Pragma("GCC diagnostic pop")

/* The whole file at `path`, NUL-terminated (free it), its length in `*len`; NULL if unreadable. */
static inline char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    while (buf != NULL) {
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (n < cap) break;
        char *bigger = realloc(buf, 2 * cap + 1);
        if (bigger == NULL) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    fclose(f);
    if (buf == NULL) return NULL;
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Whether something exists at `path`. */
static inline int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* The last error message of this thread, NUL-terminated, in a static buffer. */
static inline const char *last_error(void) {
    static char msg[8192];
    size_t n = 0;
    if (pl_last_error_message(msg, sizeof msg - 1, &n) != PL_OK) return "<pl_last_error_message failed>";
    msg[n] = '\0';
    return msg;
}

/* The warnings of the last call on this thread, NUL-terminated, in a static buffer. */
static inline const char *last_warning(void) {
    static char msg[8192];
    size_t n = 0;
    if (pl_last_warning_message(msg, sizeof msg - 1, &n) != PL_OK) return "<pl_last_warning_message failed>";
    msg[n] = '\0';
    return msg;
}

#endif
