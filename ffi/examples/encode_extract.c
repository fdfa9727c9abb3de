/*
 * encode_extract: how a case-management system encodes its nightly extract, file to file, with
 * libpseudolink: what `pseudolink encode --rejects R --agreement A --purpose P` does.
 *
 * The options of the run go in a pl_encode_options handle (made once, changed with its setters,
 * freed at the end) given to pl_encoder_encode_file. Paths are NUL-terminated; the agreement and
 * purpose are text given as pointer and length, like every other string. The manifest beside the
 * output records the agreement and purpose with who ran it and when; rows that cannot be encoded
 * go to the rejects file instead of stopping the run. Nothing appears at the output, its manifest
 * or the rejects file unless the whole run succeeds.
 *
 * Build: cc -std=c11 encode_extract.c $(pkg-config --cflags --libs pseudolink)
 * Run:   ./encode_extract SCHEMA_FILE SECRET_FILE INPUT_CSV OUTPUT_CSV REJECTS_CSV
 */
#include <stdio.h>
#include <string.h>

#include "pseudolink.h"

/* Prints what failed, with the library's message, and returns 1. */
static int report(const char *what, pl_result rc) {
    char message[1024];
    size_t len = 0;
    if (pl_last_error_message(message, sizeof message, &len) != PL_OK)
        len = (size_t)snprintf(message, sizeof message, "(message too long)");
    fprintf(stderr, "encode_extract: %s failed with code %u: %.*s\n", what, (unsigned)rc, (int)len,
            message);
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s SCHEMA_FILE SECRET_FILE INPUT_CSV OUTPUT_CSV REJECTS_CSV\n",
                argv[0]);
        return 2;
    }
    const char *agreement = "ISA-2026-07";
    const char *purpose = "Early Help family matching";

    pl_schema *schema = NULL;
    pl_secret *secret = NULL;
    pl_encoder *encoder = NULL;
    pl_result rc = pl_schema_from_path(argv[1], &schema);
    if (rc != PL_OK) return report("loading the schema", rc);
    rc = pl_secret_from_path_strict(argv[2], &secret); /* refuse a secret file others can read */
    if (rc == PL_OK) rc = pl_encoder_new(schema, secret, &encoder);
    pl_secret_free(secret); /* the encoder keeps what it needs */
    pl_schema_free(schema);
    if (rc != PL_OK) return report("loading the secret or making the encoder", rc);

    pl_encode_options *options = NULL;
    rc = pl_encode_options_new(&options);
    if (rc == PL_OK) rc = pl_encode_options_set_rejects(options, argv[5]);
    if (rc == PL_OK) rc = pl_encode_options_set_agreement(options, agreement, strlen(agreement));
    if (rc == PL_OK) rc = pl_encode_options_set_purpose(options, purpose, strlen(purpose));
    if (rc == PL_OK) rc = pl_encoder_encode_file(encoder, argv[3], argv[4], options);
    pl_encode_options_free(options);
    pl_encoder_free(encoder);
    if (rc != PL_OK) return report("encoding the extract", rc);
    printf("encoded %s into %s (manifest %s.manifest.json, rejects %s)\n", argv[3], argv[4],
           argv[4], argv[5]);
    return 0;
}
