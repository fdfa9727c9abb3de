// The header compiles as C++ (`make c-test` runs g++ -fsyntax-only on this file): the types and
// functions are usable from C++ with C linkage, and the PL_DEPRECATED marks are valid C++.
#include "pseudolink.h"

#include <cstddef>

static_assert(sizeof(pl_result) == 4, "pl_result is a 32-bit code");
static_assert(PL_OK == 0, "PL_OK is zero");

pl_result encode_one(const pl_encoder *encoder, const char *const *values, const std::size_t *lengths,
                     std::size_t n, char *buf, std::size_t buf_len) {
    std::size_t written = 0;
    pl_result rc = pl_encode_record(encoder, values, lengths, n, buf, buf_len, &written);
    if (rc != PL_OK) {
        char message[256];
        std::size_t len = 0;
        (void)pl_last_error_message(message, sizeof message, &len);
    }
    return rc;
}

// The options handles and the NUL-terminated paths, from C++.
pl_result encode_extract(const pl_encoder *encoder, const char *input, const char *output) {
    pl_encode_options *options = nullptr;
    static const char agreement[] = "ISA-2026-07";
    pl_result rc = pl_encode_options_new(&options);
    if (rc == PL_OK) rc = pl_encode_options_set_agreement(options, agreement, sizeof agreement - 1);
    if (rc == PL_OK) rc = pl_encoder_encode_file(encoder, input, output, options);
    pl_encode_options_free(options);
    return rc;
}

int main() {
    pl_schema *schema = nullptr;
    pl_result rc = pl_schema_from_json("{}", 2, &schema);
    pl_schema_free(schema);
    return rc == PL_SCHEMA_ERROR && pl_version() != nullptr ? 0 : 1;
}
