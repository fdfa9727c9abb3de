/*
 * The bad-input corpus (tests/bad_inputs/cases.json) through libpseudolink.
 *
 * Usage: bad_inputs CORPUS_DIR WORK_DIR
 * Every case the C API can express runs in a child process (fork) with a time limit, so a hang, an
 * abort or a crash fails its case and the others still run; the parent never calls the library
 * (its threads would not survive a fork). The child calls pl_schema_from_path,
 * pl_secret_from_path, pl_encoder_new, pl_encode_file (or, for a case with a rejects file,
 * pl_encoder_encode_file with pl_encode_options_set_rejects), pl_link_files (or, for a case with
 * allow_unverified or a model, pl_link_files_with_options) and pl_evaluate_files, and checks the pl_result against the case's kind,
 * the last error message (the core's) for the expected substring and line (for a case that
 * succeeds, the warnings read with pl_last_warning_message), that a failed call left no output (complete or .partial), and, where rows were read, the
 * manifest's counts against the extract and the rejects file.
 *
 * A case the C API cannot express names "c" in its "skip" (with the reason); any other case that
 * this runner cannot run is a failure, so a new case is never silently untested.
 * BAD_INPUT_CASE=<id> runs one case. Run by `make c-test`, built with AddressSanitizer and UBSan.
 * Prints "N run, M skipped, K failed" last and exits non-zero on any failure.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "pseudolink.h"
#include "test_util.h"

/* Longest a case may run (the generated 10 MB and million-row files included, debug build). */
#ifndef TIME_LIMIT_SECONDS
#define TIME_LIMIT_SECONDS 300
#endif

/* ---- small helpers ---- */

/* A string member of an object, or NULL. */
static const char *get_str(const jval *obj, const char *key) {
    const jval *v = json_get(obj, key);
    return v != NULL && v->type == J_STRING ? v->str : NULL;
}

/* A number member of an object as an integer, or -1. */
static long long get_int(const jval *obj, const char *key) {
    const jval *v = json_get(obj, key);
    return v != NULL && v->type == J_NUMBER ? strtoll(v->str, NULL, 10) : -1;
}

/* Two JSON values are equal (objects regardless of key order; numbers by their text). */
static int json_equal(const jval *a, const jval *b) {
    if (a == NULL || b == NULL) return a == b;
    if (a->type != b->type) return 0;
    switch (a->type) {
    case J_STRING:
    case J_NUMBER: return a->len == b->len && memcmp(a->str, b->str, a->len) == 0;
    case J_ARRAY:
        if (a->n != b->n) return 0;
        for (size_t i = 0; i < a->n; i++)
            if (!json_equal(a->items[i], b->items[i])) return 0;
        return 1;
    case J_OBJECT:
        if (a->n != b->n) return 0;
        for (size_t i = 0; i < a->n; i++)
            if (!json_equal(a->items[i], json_get(b, a->keys[i]))) return 0;
        return 1;
    default: return 1;
    }
}

/* Data rows of a CSV file with a header (quote-aware; -1 if it cannot be read). */
static long long csv_rows(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return -1;
    long long records = 0;
    int quoted = 0, in_record = 0, c;
    while ((c = getc(f)) != EOF) {
        if (c == '"') quoted = !quoted;
        if (c == '\n' && !quoted) {
            records++;
            in_record = 0;
        } else {
            in_record = 1;
        }
    }
    fclose(f);
    if (in_record) records++;
    return records > 0 ? records - 1 : 0;
}

/* ---- the child: one case through the C API ---- */

static int problems;
static const char *case_id;

static void fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("FAIL %s: ", case_id);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    problems++;
}

/* The pl_result of an error kind, or -1. */
static long code_of_kind(const char *kind) {
    static const struct {
        const char *kind;
        pl_result code;
    } map[] = {
        {"ok", PL_OK},
        {"ok_with_rejections", PL_OK},
        {"invalid", PL_INVALID_ARGUMENT},
        {"input", PL_INPUT_ERROR},
        {"schema", PL_SCHEMA_ERROR},
        {"secret", PL_SECRET_ERROR},
        {"mismatch", PL_MISMATCH},
        {"io", PL_IO_ERROR},
        {"model", PL_MODEL_ERROR},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].kind, kind) == 0) return (long)map[i].code;
    return -1;
}

/* The case's resolved arguments, each a path (or NULL). */
typedef struct {
    const char *op;
    char schema[4096], secret[4096], input[4096], left[4096], right[4096], model[4096];
    char links[4096], truth[4096];
    int rejects;
    int allow_unverified;
    char work[1024];
} plan;

static void in_work(char *out, size_t cap, const plan *p, const char *name) {
    snprintf(out, cap, "%s/%s", p->work, name);
}

/* Runs the case's operation; returns its pl_result, copies the last error message into `msg`
 * (before the handles are freed) and the warnings of the call that loads the secret or links
 * into `warn`. */
static pl_result run_op(const plan *p, char *msg, size_t cap, char *warn, size_t warn_cap,
                        pl_evaluation *evaluation) {
    pl_result rc = PL_OK;
    char out[2048], rejects[2048], links[2048];
    in_work(out, sizeof out, p, "out.csv");
    in_work(rejects, sizeof rejects, p, "rejects.csv");
    in_work(links, sizeof links, p, "links.csv");
    pl_schema *schema = NULL;
    pl_secret *secret = NULL;
    pl_encoder *encoder = NULL;
    pl_link_options *options = NULL;
    warn[0] = '\0';
    if (strcmp(p->op, "schema_check") == 0) {
        rc = pl_schema_from_path(p->schema, &schema);
    } else if (strcmp(p->op, "check_key") == 0) {
        rc = pl_secret_from_path(p->secret, &secret);
        snprintf(warn, warn_cap, "%s", last_warning());
        if (rc == PL_OK) {
            char kcv[64];
            size_t n = 0;
            rc = pl_secret_check_value(secret, kcv, sizeof kcv, &n);
            if (rc == PL_OK && n != 16) fail("key check value of %zu characters", n);
        }
    } else if (strcmp(p->op, "encode") == 0) {
        rc = pl_schema_from_path(p->schema, &schema);
        if (rc == PL_OK) {
            rc = pl_secret_from_path(p->secret, &secret);
            snprintf(warn, warn_cap, "%s", last_warning());
        }
        if (rc == PL_OK) rc = pl_encoder_new(schema, secret, &encoder);
        if (rc == PL_OK && !p->rejects) {
            rc = pl_encode_file(encoder, p->input, out, NULL);
        } else if (rc == PL_OK) {
            /* With a rejects file, through the options (the same run as pl_encode_file's). */
            pl_encode_options *eo = NULL;
            rc = pl_encode_options_new(&eo);
            if (rc == PL_OK) rc = pl_encode_options_set_rejects(eo, rejects);
            if (rc == PL_OK) rc = pl_encoder_encode_file(encoder, p->input, out, eo);
            pl_encode_options_free(eo);
        }
    } else if (strcmp(p->op, "evaluate") == 0) {
        rc = pl_evaluate_files(p->links, p->truth, false, evaluation);
    } else if (strcmp(p->op, "link") == 0) {
        rc = pl_schema_from_path(p->schema, &schema);
        if (rc == PL_OK && !p->allow_unverified && p->model[0] == '\0') {
            rc = pl_link_files(schema, p->left, p->right, links, 0.9);
            snprintf(warn, warn_cap, "%s", last_warning());
        } else if (rc == PL_OK) {
            rc = pl_link_options_new(&options);
            if (rc == PL_OK) rc = pl_link_options_set_allow_unverified(options, p->allow_unverified);
            if (rc == PL_OK && p->model[0] != '\0') rc = pl_link_options_set_model(options, p->model);
            if (rc == PL_OK) rc = pl_link_files_with_options(schema, p->left, p->right, links, options);
            snprintf(warn, warn_cap, "%s", last_warning());
        }
    }
    snprintf(msg, cap, "%s", rc == PL_OK ? "" : last_error());
    pl_link_options_free(options);
    pl_encoder_free(encoder);
    pl_secret_free(secret);
    pl_schema_free(schema);
    return rc;
}

/* Output or .partial files left in the work folder. */
static void check_no_output(const plan *p) {
    static const char *outputs[] = {"out.csv", "rejects.csv", "links.csv"};
    DIR *d = opendir(p->work);
    if (d == NULL) {
        fail("cannot list %s", p->work);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        int partial = n >= 8 && strcmp(e->d_name + n - 8, ".partial") == 0;
        int output = 0;
        for (size_t i = 0; i < sizeof outputs / sizeof outputs[0]; i++)
            if (strncmp(e->d_name, outputs[i], strlen(outputs[i])) == 0) output = 1;
        if (partial || output) fail("a failed call left %s", e->d_name);
    }
    closedir(d);
}

static void check_partial(const plan *p) {
    DIR *d = opendir(p->work);
    if (d == NULL) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n >= 8 && strcmp(e->d_name + n - 8, ".partial") == 0)
            fail("partial file left: %s", e->d_name);
    }
    closedir(d);
}

static void check_encoded(const plan *p, const jval *expect, const char *kind) {
    char path[2048];
    in_work(path, sizeof path, p, "out.csv.manifest.json");
    size_t len = 0;
    char *text = read_file(path, &len);
    if (text == NULL) {
        fail("no manifest written");
        return;
    }
    jval *manifest = json_parse(text, len);
    const jval *counts = json_get(manifest, "counts");
    long long read = get_int(counts, "rows_read"), encoded = get_int(counts, "encoded"),
              rejected = get_int(counts, "rejected");
    if (read < 0 || encoded < 0 || rejected < 0 || read != encoded + rejected)
        fail("counts do not add up: read %lld, encoded %lld, rejected %lld", read, encoded, rejected);
    const jval *want = json_get(expect, "counts");
    if (want != NULL && !json_equal(counts, want))
        fail("counts read %lld, encoded %lld, rejected %lld differ from the expected ones", read,
             encoded, rejected);
    in_work(path, sizeof path, p, "out.csv");
    long long rows = csv_rows(path);
    if (rows != encoded) fail("%lld rows in the extract, manifest says %lld", rows, encoded);
    in_work(path, sizeof path, p, "rejects.csv");
    long long listed = exists(path) ? csv_rows(path) : 0;
    if (listed != rejected) fail("%lld rows in the rejects file, manifest says %lld", listed, rejected);
    if ((strcmp(kind, "ok_with_rejections") == 0) != (rejected > 0))
        fail("kind %s but %lld rows rejected", kind, rejected);
    const jval *by_reason = json_get(manifest, "rejected_by_reason");
    want = json_get(expect, "rejected_by_reason");
    if (want != NULL ? !json_equal(by_reason, want)
                     : (by_reason == NULL || by_reason->type != J_OBJECT || by_reason->n != 0))
        fail("rejected_by_reason is not the expected one");
    want = json_get(expect, "missing");
    for (size_t i = 0; want != NULL && i < want->n; i++)
        if (!json_equal(json_get(json_get(manifest, "missing"), want->keys[i]), want->items[i]))
            fail("missing.%s is not the expected one", want->keys[i]);
    want = json_get(expect, "ignored_columns");
    if (want != NULL && !json_equal(json_get(manifest, "ignored_columns"), want))
        fail("ignored_columns is not the expected one");
    json_free(manifest);
    free(text);
}

/* The expected counts of an evaluate case against what pl_evaluate_files gave. */
static void check_evaluation(const pl_evaluation *got, const jval *expect) {
    const jval *want = json_get(expect, "evaluation");
    static const char *keys[] = {"true_positives", "false_positives", "false_negatives"};
    const unsigned long long values[] = {got->true_positives, got->false_positives,
                                         got->false_negatives};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        long long v = get_int(want, keys[i]);
        if (v >= 0 && (unsigned long long)v != values[i])
            fail("evaluation %s = %llu, expected %lld", keys[i], values[i], v);
    }
    if (got->precision < 0 || got->precision > 1 || got->recall < 0 || got->recall > 1 ||
        got->f1 < 0 || got->f1 > 1)
        fail("evaluation outside 0..1: precision %g, recall %g, f1 %g", got->precision,
             got->recall, got->f1);
}

/* The child's work: run, check, exit 0 (as expected) or 1. */
static int child(const plan *p, const jval *expect) {
    const char *kind = get_str(expect, "kind");
    long want = code_of_kind(kind != NULL ? kind : "");
    if (want < 0) {
        fail("unknown kind %s", kind != NULL ? kind : "(none)");
        return 1;
    }
    static char msg[8192], warn[8192];
    pl_evaluation evaluation;
    memset(&evaluation, 0, sizeof evaluation);
    pl_result rc = run_op(p, msg, sizeof msg, warn, sizeof warn, &evaluation);
    if (rc == PL_PANIC) fail("a panic in the library: %s", msg);
    if ((long)rc != want) fail("returned %u, expected %ld (%s): %s", (unsigned)rc, want, kind, msg);
    if (want != PL_OK) {
        const char *m = get_str(expect, "message");
        if (m != NULL && strstr(msg, m) == NULL) fail("message lacks \"%s\": %s", m, msg);
        long long line = get_int(expect, "line");
        if (line >= 0) {
            char needle[64];
            snprintf(needle, sizeof needle, "line %lld", line);
            if (strstr(msg, needle) == NULL) fail("message does not name %s: %s", needle, msg);
        }
        check_no_output(p);
    } else {
        /* An ok case's message is a warning the CLI prints: here the same core warning, read with
         * pl_last_warning_message after loading the secret or linking. Without a message there
         * must be no secret or unverified-input warning. */
        const char *m = get_str(expect, "message");
        if (m != NULL && strstr(warn, m) == NULL) fail("no warning contains \"%s\": %s", m, warn);
        if (m == NULL && (strstr(warn, "other users") != NULL || strstr(warn, "manifest") != NULL))
            fail("unexpected warnings: %s", warn);
        check_partial(p);
        if (strcmp(p->op, "encode") == 0) check_encoded(p, expect, kind);
        if (strcmp(p->op, "evaluate") == 0) check_evaluation(&evaluation, expect);
        if (strcmp(p->op, "link") == 0) {
            char path[2048];
            in_work(path, sizeof path, p, "links.csv");
            if (!exists(path)) fail("no links file written");
        }
    }
    fflush(stdout);
    return problems == 0 ? 0 : 1;
}

/* ---- the parent: resolve each case's files, fork, wait with a time limit ---- */

/* Writes a `generate` recipe (text parts, each repeated) to `path`, as the CLI runner does. */
static int generate(const jval *recipe, const char *path) {
    if (recipe == NULL || recipe->type != J_ARRAY) return 0;
    FILE *f = fopen(path, "wb");
    if (f == NULL) return 0;
    enum { CHUNK = 1 << 20 };
    char *chunk = malloc(CHUNK);
    int ok = chunk != NULL;
    for (size_t i = 0; ok && i < recipe->n; i++) {
        const jval *text = json_get(recipe->items[i], "text");
        long long repeat = get_int(recipe->items[i], "repeat");
        if (repeat < 0) repeat = 1;
        if (text == NULL || text->type != J_STRING || text->len == 0 || text->len > CHUNK) {
            ok = 0;
            break;
        }
        /* Whole copies of the text per write. */
        long long per_chunk = (long long)(CHUNK / text->len);
        for (long long k = 0; k < per_chunk; k++)
            memcpy(chunk + (size_t)k * text->len, text->str, text->len);
        while (ok && repeat > 0) {
            long long n = repeat < per_chunk ? repeat : per_chunk;
            size_t bytes = (size_t)n * text->len;
            ok = fwrite(chunk, 1, bytes, f) == bytes;
            repeat -= n;
        }
    }
    free(chunk);
    return fclose(f) == 0 && ok;
}

/* Resolves a file argument (a path in the corpus or a generate recipe) into `out`. */
static int file_arg(const jval *v, const char *name, const char *corpus, const char *work,
                    char *out, size_t cap) {
    if (v == NULL) return 0;
    if (v->type == J_STRING) {
        snprintf(out, cap, "%s/%s", corpus, v->str);
        return 1;
    }
    if (v->type == J_OBJECT) {
        snprintf(out, cap, "%s/%s.generated.csv", work, name);
        return generate(json_get(v, "generate"), out);
    }
    return 0;
}

/* The argument `key` of a case, else its default. */
static const jval *arg(const jval *args, const jval *defaults, const char *key) {
    const jval *v = json_get(args, key);
    return v != NULL ? v : json_get(defaults, key);
}

/* Copies the secret into the work folder with the case's mode (git does not keep modes). */
static int copy_secret(plan *p, const jval *args, const jval *defaults) {
    size_t len = 0;
    char *bytes = read_file(p->secret, &len);
    if (bytes == NULL) return 1; /* a missing secret stays missing */
    char dst[2048];
    in_work(dst, sizeof dst, p, "secret.hex");
    FILE *f = fopen(dst, "wb");
    int ok = f != NULL && fwrite(bytes, 1, len, f) == len;
    if (f != NULL && fclose(f) != 0) ok = 0;
    free(bytes);
    const jval *mode = arg(args, defaults, "secret_mode");
    if (!ok || chmod(dst, (mode_t)strtol(mode != NULL ? mode->str : "0600", NULL, 8)) != 0) return 0;
    snprintf(p->secret, sizeof p->secret, "%s", dst);
    return 1;
}

/* "why" is set when the case cannot be expressed with the C API. */
static int prepare(plan *p, const jval *c, const jval *defaults, const char *corpus,
                   const char **why) {
    const jval *args = json_get(c, "args");
    p->op = get_str(c, "op");
    *why = NULL;
    if (p->op == NULL) {
        *why = "no op";
        return 0;
    }
    const jval *model = json_get(args, "model");
    const jval *unverified = arg(args, defaults, "allow_unverified");
    const jval *rejects = arg(args, defaults, "rejects");
    p->rejects = rejects != NULL && rejects->type == J_TRUE;
    if (strcmp(p->op, "schema_check") == 0) {
        return file_arg(arg(args, defaults, "schema"), "schema", corpus, p->work, p->schema,
                        sizeof p->schema);
    }
    if (strcmp(p->op, "check_key") == 0) {
        return file_arg(arg(args, defaults, "secret"), "secret", corpus, p->work, p->secret,
                        sizeof p->secret) &&
               copy_secret(p, args, defaults);
    }
    if (strcmp(p->op, "encode") == 0) {
        return file_arg(arg(args, defaults, "schema"), "schema", corpus, p->work, p->schema,
                        sizeof p->schema) &&
               file_arg(arg(args, defaults, "secret"), "secret", corpus, p->work, p->secret,
                        sizeof p->secret) &&
               copy_secret(p, args, defaults) &&
               file_arg(arg(args, defaults, "input"), "input", corpus, p->work, p->input,
                        sizeof p->input);
    }
    if (strcmp(p->op, "evaluate") == 0) {
        return file_arg(json_get(args, "links"), "links", corpus, p->work, p->links,
                        sizeof p->links) &&
               file_arg(json_get(args, "truth"), "truth", corpus, p->work, p->truth,
                        sizeof p->truth);
    }
    if (strcmp(p->op, "link") == 0) {
        if (model != NULL && model->type != J_NULL &&
            !file_arg(model, "model", corpus, p->work, p->model, sizeof p->model))
            return 0;
        p->allow_unverified = unverified != NULL && unverified->type == J_TRUE;
        return file_arg(arg(args, defaults, "schema"), "schema", corpus, p->work, p->schema,
                        sizeof p->schema) &&
               file_arg(json_get(args, "left"), "left", corpus, p->work, p->left, sizeof p->left) &&
               file_arg(json_get(args, "right"), "right", corpus, p->work, p->right,
                        sizeof p->right);
    }
    *why = "an op the C API does not offer";
    return 0;
}

static void print_file(const char *path) {
    size_t len = 0;
    char *text = read_file(path, &len);
    if (text != NULL && len > 0) fprintf(stdout, "---- stderr ----\n%s\n----\n", text);
    free(text);
}

static void remove_tree(const char *dir) {
    DIR *d = opendir(dir);
    if (d == NULL) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            remove_tree(path);
        } else {
            unlink(path);
        }
    }
    closedir(d);
    rmdir(dir);
}

/* Runs one case in a child; returns 1 if it passed. */
static int run_case(const jval *c, const jval *defaults, const char *corpus, const char *base,
                    int index) {
    plan p;
    memset(&p, 0, sizeof p);
    snprintf(p.work, sizeof p.work, "%s/case-%03d", base, index);
    if (mkdir(p.work, 0700) != 0) {
        printf("FAIL %s: cannot make %s: %s\n", case_id, p.work, strerror(errno));
        return 0;
    }
    const char *why = NULL;
    if (!prepare(&p, c, defaults, corpus, &why)) {
        if (why != NULL)
            printf("FAIL %s: neither run nor skipped: %s; list it under \"skip\": {\"c\": reason}\n",
                   case_id, why);
        else
            printf("FAIL %s: cannot prepare its input files\n", case_id);
        return 0;
    }
    char err_path[2048];
    snprintf(err_path, sizeof err_path, "%s/../case-%03d.stderr", p.work, index);
    fflush(stdout);
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    pid_t pid = fork();
    if (pid < 0) {
        printf("FAIL %s: fork: %s\n", case_id, strerror(errno));
        return 0;
    }
    if (pid == 0) {
        int fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 2);
            close(fd);
        }
        exit(child(&p, json_get(c, "expect")));
    }
    int status = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) break;
        if (w < 0 && errno != EINTR) {
            printf("FAIL %s: waitpid: %s\n", case_id, strerror(errno));
            return 0;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec > TIME_LIMIT_SECONDS) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            printf("FAIL %s: still running after %d s: a hang\n", case_id, TIME_LIMIT_SECONDS);
            return 0;
        }
        struct timespec pause = {0, 20 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (WIFSIGNALED(status)) {
        printf("FAIL %s: killed by signal %d (a crash or abort)\n", case_id, WTERMSIG(status));
    } else if (WIFEXITED(status) && WEXITSTATUS(status) > 1) {
        printf("FAIL %s: exit %d (a sanitizer or the runtime stopped it)\n", case_id,
               WEXITSTATUS(status));
    }
    size_t len = 0;
    char *err = read_file(err_path, &len);
    if (err != NULL && strstr(err, "panicked") != NULL) {
        printf("FAIL %s: a panic was printed\n", case_id);
        ok = 0;
    }
    free(err);
    if (!ok) print_file(err_path);
    long secs = (long)(now.tv_sec - start.tv_sec);
    if (secs > 60) printf("note: case %s took %ld s\n", case_id, secs);
    unlink(err_path);
    remove_tree(p.work);
    return ok;
}

/* The case's skip reason for C, or NULL; checks the skip entry's shape. */
static const char *skip_reason(const jval *c, int *bad) {
    const jval *skip = json_get(c, "skip");
    if (skip == NULL) return NULL;
    if (skip->type != J_OBJECT) {
        *bad = 1;
        printf("FAIL %s: \"skip\" must map a binding to a reason\n", case_id);
        return NULL;
    }
    const char *reason = NULL;
    for (size_t i = 0; i < skip->n; i++) {
        const jval *r = skip->items[i];
        if (strcmp(skip->keys[i], "c") != 0 && strcmp(skip->keys[i], "python") != 0) {
            *bad = 1;
            printf("FAIL %s: \"skip\" names an unknown binding %s\n", case_id, skip->keys[i]);
        }
        if (r->type != J_STRING || r->len == 0) {
            *bad = 1;
            printf("FAIL %s: no reason for skipping %s\n", case_id, skip->keys[i]);
        } else if (strcmp(skip->keys[i], "c") == 0) {
            reason = r->str;
        }
    }
    return reason;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s CORPUS_DIR WORK_DIR\n", argv[0]);
        return 2;
    }
    const char *corpus = argv[1];
    char manifest_path[4096];
    snprintf(manifest_path, sizeof manifest_path, "%s/cases.json", corpus);
    size_t len = 0;
    char *text = read_file(manifest_path, &len);
    if (text == NULL) {
        fprintf(stderr, "cannot read %s: %s\n", manifest_path, strerror(errno));
        return 2;
    }
    jval *doc = json_parse(text, len);
    const jval *cases = json_get(doc, "cases");
    const jval *defaults = json_get(doc, "defaults");
    if (cases == NULL || cases->type != J_ARRAY || defaults == NULL) {
        fprintf(stderr, "%s is not a bad-input manifest\n", manifest_path);
        return 2;
    }
    char base[4096];
    snprintf(base, sizeof base, "%s/bad-inputs-XXXXXX", argv[2]);
    if (mkdir(argv[2], 0700) != 0 && errno != EEXIST) {
        perror(argv[2]);
        return 2;
    }
    if (mkdtemp(base) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    const char *only = getenv("BAD_INPUT_CASE");
    int run = 0, skipped = 0, failures = 0;
    for (size_t i = 0; i < cases->n; i++) {
        const jval *c = cases->items[i];
        case_id = get_str(c, "id");
        if (case_id == NULL) {
            printf("FAIL case %zu has no id\n", i);
            failures++;
            continue;
        }
        if (only != NULL && strcmp(only, case_id) != 0) continue;
        int bad = 0;
        const char *reason = skip_reason(c, &bad);
        failures += bad;
        if (reason != NULL) {
            printf("skip %s: %s\n", case_id, reason);
            skipped++;
            continue;
        }
        run++;
        if (run_case(c, defaults, corpus, base, (int)i)) {
            printf("ok   %s\n", case_id);
        } else {
            failures++;
        }
        fflush(stdout);
    }
    remove_tree(base);
    json_free(doc);
    free(text);
    printf("%d run, %d skipped, %d failed\n", run, skipped, failures);
    return failures == 0 && run > 0 ? 0 : 1;
}
