/*
 * encode_on_create: how a case-management system encodes a person record the moment it is
 * created, with libpseudolink.
 *
 * At start-up the system loads the schema and the secret once and makes one encoder, which every
 * thread may share. When a case worker saves a new person, the system passes the record's values
 * (in the schema's input-column order, record id first) to pl_encode_record and stores the
 * encoded row with the pseudonymised extract that is shared under the Information Sharing
 * Agreement. No cleartext leaves the system.
 *
 * Build: cc -std=c11 encode_on_create.c $(pkg-config --cflags --libs pseudolink)
 * Run:   ./encode_on_create SECRET_FILE [SCHEMA_FILE]   (default schema: the bundled UK one)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pseudolink.h"

/* Prints what failed, with the library's message (which never holds personal data or the
   secret), and returns the code so callers can decide what to do. */
static pl_result report(const char *what, pl_result rc) {
    char message[1024];
    size_t len = 0;
    if (pl_last_error_message(message, sizeof message, &len) != PL_OK) {
        /* The message was longer than our buffer: print what we can say instead. */
        len = (size_t)snprintf(message, sizeof message, "(message too long)");
    }
    fprintf(stderr, "encode_on_create: %s failed with code %u: %.*s\n", what, (unsigned)rc, (int)len,
            message);
    return rc;
}

/* Loads the schema: a file if given, else the bundled default for UK person records. */
static pl_result load_schema(const char *path, pl_schema **out) {
    if (path != NULL) return pl_schema_from_path(path, out); /* paths are NUL-terminated */
    size_t needed = 0;
    pl_result rc = pl_schema_example(NULL, 0, &needed); /* ask for the size first */
    if (rc != PL_BUFFER_TOO_SMALL && rc != PL_OK) return rc;
    char *json = malloc(needed);
    if (json == NULL) return PL_INVALID_ARGUMENT;
    size_t len = 0;
    rc = pl_schema_example(json, needed, &len);
    if (rc == PL_OK) rc = pl_schema_from_json(json, len, out);
    free(json);
    return rc;
}

/* A new person record as the case system holds it. */
struct person {
    const char *case_id, *first_name, *middle_name, *last_name, *date_of_birth, *sex, *postcode,
        *address_line_1, *nhs_number; /* NULL: not recorded */
};

/* Encodes one record into a growing buffer: starts with a stack buffer and retries with the size
   the library reports if the row does not fit. On success *row points to the row (not
   NUL-terminated) and *row_len is its length; free *heap when done. */
static pl_result encode_person(const pl_encoder *encoder, const struct person *p, char *stack_buf,
                               size_t stack_len, char **heap, const char **row, size_t *row_len) {
    const char *values[9] = {p->case_id,   p->first_name, p->middle_name,    p->last_name, p->date_of_birth,
                             p->sex,       p->postcode,   p->address_line_1, p->nhs_number};
    size_t lengths[9];
    for (int i = 0; i < 9; i++) lengths[i] = values[i] != NULL ? strlen(values[i]) : 0; /* NULL, 0: missing */
    *heap = NULL;
    size_t written = 0;
    pl_result rc = pl_encode_record(encoder, values, lengths, 9, stack_buf, stack_len, &written);
    if (rc == PL_OK) {
        *row = stack_buf;
        *row_len = written;
        return PL_OK;
    }
    if (rc != PL_BUFFER_TOO_SMALL) return rc;
    *heap = malloc(written); /* `written` is the size needed */
    if (*heap == NULL) return PL_INVALID_ARGUMENT;
    rc = pl_encode_record(encoder, values, lengths, 9, *heap, written, &written);
    if (rc != PL_OK) {
        free(*heap);
        *heap = NULL;
        return rc;
    }
    *row = *heap;
    *row_len = written;
    return PL_OK;
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s SECRET_FILE [SCHEMA_FILE]\n", argv[0]);
        return 2;
    }
    printf("libpseudolink %s\n", pl_version());

    /* Start-up: schema, secret, encoder. */
    pl_schema *schema = NULL;
    pl_secret *secret = NULL;
    pl_encoder *encoder = NULL;
    pl_result rc = load_schema(argc == 3 ? argv[2] : NULL, &schema);
    if (rc != PL_OK) return (int)report("loading the schema", rc);
    rc = pl_secret_from_path(argv[1], &secret);
    if (rc != PL_OK) {
        report("loading the secret", rc);
        pl_schema_free(schema);
        return (int)rc;
    }
    char kcv[16];
    size_t kcv_len = 0;
    if (pl_secret_check_value(secret, kcv, sizeof kcv, &kcv_len) == PL_OK)
        printf("key check value %.*s (compare with the other agencies' before sharing)\n", (int)kcv_len, kcv);
    rc = pl_encoder_new(schema, secret, &encoder);
    /* The encoder keeps what it needs: free the secret now, so its bytes do not linger. */
    pl_secret_free(secret);
    pl_schema_free(schema);
    if (rc != PL_OK) return (int)report("making the encoder", rc);

    /* A case worker creates a record: encode it at once. */
    struct person created = {"EH-2026-000123", "Zoë", NULL, "O'Neil-Smith", "09/03/2014",
                             "F", "cv1 2ab", "Flat 3, 45 Far Gosford Street", "943 476 5919"};
    char buf[2048];
    char *heap = NULL;
    const char *row = NULL;
    size_t row_len = 0;
    rc = encode_person(encoder, &created, buf, sizeof buf, &heap, &row, &row_len);
    if (rc != PL_OK) {
        report("encoding the new record", rc);
        pl_encoder_free(encoder);
        return (int)rc;
    }
    printf("encoded row (%zu bytes): %.*s...\n", row_len, (int)(row_len < 60 ? row_len : 60), row);
    free(heap);

    /* A record with no id is refused, with a message naming the problem, not the data. */
    struct person no_id = {"", "Sam", NULL, "Taylor", NULL, NULL, NULL, NULL, NULL};
    rc = encode_person(encoder, &no_id, buf, sizeof buf, &heap, &row, &row_len);
    if (rc == PL_OK) {
        fprintf(stderr, "encode_on_create: a record without an id was accepted\n");
        free(heap);
        pl_encoder_free(encoder);
        return 1;
    }
    char message[256];
    size_t len = 0;
    if (pl_last_error_message(message, sizeof message, &len) != PL_OK) len = 0;
    printf("a record without an id is refused as it should be (code %u: %.*s)\n", (unsigned)rc, (int)len,
           message);

    pl_encoder_free(encoder);
    return 0;
}
