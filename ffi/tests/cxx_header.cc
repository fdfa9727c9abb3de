// The header compiles as C++ (`make c-test` runs g++ -fsyntax-only on this file): the types and
// functions are usable from C++ with C linkage.
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

int main() {
    pl_schema *schema = nullptr;
    pl_result rc = pl_schema_from_json("{}", 2, &schema);
    pl_schema_free(schema);
    return rc == PL_SCHEMA_ERROR && pl_version() != nullptr ? 0 : 1;
}
