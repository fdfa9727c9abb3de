/*
 * Benchmark: pl_encode_record in a loop on one thread, default schema, varied synthetic records.
 * Build and run with `make bench-c` (release library). Prints records per second by wall-clock
 * time and by the thread's CPU time (the latter is what one core does even on a busy machine).
 * Usage: c_encode_record [RECORDS] [ROUNDS]   (defaults 100000 and 5)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pseudolink.h"

#define N_COLS 9

static const char *FIRST[] = {"Oliver", "Amelia", "Mohammed", "Zoë", "Jack", "Isla", "Harry",
                              "Ava", "Noah", "Siobhán", "Leo", "Freya", "Øyvind", "Grace"};
static const char *LAST[] = {"Smith", "Jones", "Taylor", "Brown", "O'Neil-Smith", "Wilson",
                             "Łukasiewicz", "Khan", "Patel", "Evans", "Strauß", "Walker"};
static const char *STREET[] = {"High Street", "Station Road", "Far Gosford Street",
                               "Church Lane", "Mill Road", "Park Avenue"};
static const char *SEX[] = {"M", "F", "Male", "Female", "1", "2", ""};

static void die(const char *what, pl_result r) {
    char msg[1024];
    size_t n = 0;
    pl_last_error_message(msg, sizeof msg, &n);
    fprintf(stderr, "%s failed (%u): %.*s\n", what, (unsigned)r, (int)n, msg);
    exit(1);
}

static double seconds(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    size_t records = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 100000;
    int rounds = argc > 2 ? atoi(argv[2]) : 5;
    if (records == 0 || rounds <= 0) {
        fprintf(stderr, "usage: c_encode_record [RECORDS] [ROUNDS]\n");
        return 2;
    }
    char json[16384];
    size_t json_len = 0;
    pl_result r = pl_schema_example(json, sizeof json, &json_len);
    if (r != PL_OK) die("pl_schema_example", r);
    pl_schema *schema = NULL;
    if ((r = pl_schema_from_json(json, json_len, &schema)) != PL_OK) die("pl_schema_from_json", r);
    uint8_t key[32];
    for (int i = 0; i < 32; i++) key[i] = (uint8_t)(i * 7 + 3);
    pl_secret *secret = NULL;
    if ((r = pl_secret_from_bytes(key, sizeof key, &secret)) != PL_OK) die("pl_secret_from_bytes", r);
    pl_encoder *encoder = NULL;
    if ((r = pl_encoder_new(schema, secret, &encoder)) != PL_OK) die("pl_encoder_new", r);
    pl_secret_free(secret);
    pl_schema_free(schema);

    /* Precompute the records: id, first, middle, last, dob, sex, postcode, address, nhs. */
    char (*cells)[N_COLS][48] = malloc(records * sizeof *cells);
    if (cells == NULL) return 1;
    unsigned long long seed = 88172645463325252ULL;
    for (size_t i = 0; i < records; i++) {
        unsigned long long x[8];
        for (int k = 0; k < 8; k++) {
            seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17;
            x[k] = seed;
        }
        snprintf(cells[i][0], 48, "R%zu", i);
        snprintf(cells[i][1], 48, "%s", FIRST[x[0] % (sizeof FIRST / sizeof *FIRST)]);
        snprintf(cells[i][2], 48, "%s", x[1] % 3 == 0 ? FIRST[x[1] % (sizeof FIRST / sizeof *FIRST)] : "");
        snprintf(cells[i][3], 48, "%s", LAST[x[2] % (sizeof LAST / sizeof *LAST)]);
        snprintf(cells[i][4], 48, "%02u/%02u/%04u", (unsigned)(x[3] % 28 + 1), (unsigned)(x[3] / 28 % 12 + 1),
                 (unsigned)(1930 + x[3] / 400 % 95));
        snprintf(cells[i][5], 48, "%s", SEX[x[4] % (sizeof SEX / sizeof *SEX)]);
        snprintf(cells[i][6], 48, "CV%u %u%c%c", (unsigned)(x[5] % 40 + 1), (unsigned)(x[5] / 40 % 10),
                 'A' + (int)(x[5] / 400 % 26), 'A' + (int)(x[5] / 10400 % 26));
        snprintf(cells[i][7], 48, "%u %s", (unsigned)(x[6] % 200 + 1), STREET[x[6] / 200 % (sizeof STREET / sizeof *STREET)]);
        snprintf(cells[i][8], 48, "%s", x[7] % 2 ? "943 476 5919" : "");
    }

    char buf[4096];
    size_t written = 0, bytes = 0;
    const char *values[N_COLS];
    size_t lengths[N_COLS];
    double best = 0, best_cpu = 0;
    for (int round = 0; round < rounds; round++) {
        double t0 = seconds(CLOCK_MONOTONIC), c0 = seconds(CLOCK_THREAD_CPUTIME_ID);
        for (size_t i = 0; i < records; i++) {
            for (int c = 0; c < N_COLS; c++) {
                values[c] = cells[i][c];
                lengths[c] = strlen(cells[i][c]);
            }
            r = pl_encode_record(encoder, values, lengths, N_COLS, buf, sizeof buf, &written);
            if (r != PL_OK) die("pl_encode_record", r);
            bytes += written;
        }
        double secs = seconds(CLOCK_MONOTONIC) - t0, cpu = seconds(CLOCK_THREAD_CPUTIME_ID) - c0;
        double rate = (double)records / secs, cpu_rate = (double)records / cpu;
        if (rate > best) best = rate;
        if (cpu_rate > best_cpu) best_cpu = cpu_rate;
        printf("round %d: %zu records in %.3f s wall (%.0f records/s), %.3f s CPU (%.0f records/s)\n",
               round + 1, records, secs, rate, cpu, cpu_rate);
    }
    printf("best of %d rounds: %.0f records/s wall-clock, %.0f records/s per CPU second, one thread "
           "(%.0f bytes per row)\n", rounds, best, best_cpu, (double)bytes / ((double)records * rounds));
    pl_encoder_free(encoder);
    free(cells);
    return 0;
}
