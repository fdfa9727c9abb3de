/*
 * Every deprecated function, called once: `make c-test` compiles this file (without running it)
 * and checks that the compiler warns at each call, as many warnings as pseudolink.h has
 * PL_DEPRECATED declarations, so that callers see the deprecation before the functions are
 * removed (before 1.0). docs/c.md lists their replacements.
 */
#include <stddef.h>

#include "pseudolink.h"

int main(void) {
    pl_schema *schema = NULL;
    pl_secret *secret = NULL;
    const pl_encoder *encoder = NULL;
    int failures = 0;
    failures += pl_schema_from_file("schema.json", 11, &schema) != PL_OK;
    failures += pl_secret_from_file("k.hex", 5, &secret) != PL_OK;
    failures += pl_secret_from_file_strict("k.hex", 5, &secret) != PL_OK;
    failures +=
        pl_encode_file_with_agreement(encoder, "in.csv", "out.csv", NULL, "ISA", NULL) != PL_OK;
    failures += pl_encode_file_with_options(encoder, "in.csv", "out.csv", NULL, "ISA", NULL, 0,
                                            NULL) != PL_OK;
    failures +=
        pl_link_files_with_agreement(schema, "a.csv", "b.csv", "out.csv", 0.9, NULL, NULL) != PL_OK;
    pl_secret_free(secret);
    pl_schema_free(schema);
    return failures;
}
