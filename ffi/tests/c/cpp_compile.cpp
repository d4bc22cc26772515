// C++ check of include/segur.h (g++ -std=c++17 -Wall -Wextra -Werror): the header compiles as
// C++ (extern "C", typed enums) and links; run: prints "cpp: ok" and exits 0.
#include <cstdio>
#include <cstring>
#include <type_traits>

#include "segur.h"

static_assert(std::is_same<std::underlying_type<segur_result>::type, uint32_t>::value,
              "segur_result is a uint32_t");
static_assert(SEGUR_RESULT_OK == 0, "OK is 0");

int main() {
  uint8_t out15[15];
  uint32_t key_status = 0;
  const char *m = "1810163220751";
  segur_result r = segur_matricule_normalize15(reinterpret_cast<const uint8_t *>(m),
                                               std::strlen(m), out15, &key_status);
  if (r != SEGUR_RESULT_OK || std::memcmp(out15, "181016322075140", 15) != 0 ||
      key_status != SEGUR_KEY_STATUS_COMPUTED || segur_abi_version() != SEGUR_HEADER_ABI_VERSION) {
    std::printf("cpp: FAILED (%s)\n", segur_result_str(r));
    return 1;
  }
  segur_buf *b = nullptr;
  r = segur_matricule_check(reinterpret_cast<const uint8_t *>(m), std::strlen(m), nullptr, 0, &b);
  bool ok = r == SEGUR_RESULT_OK && segur_buf_len(b) > 0;
  segur_buf_free(b);
  std::printf("cpp: %s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
