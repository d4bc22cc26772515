/* The example of docs/readme-c.md (compiled and run by scripts/checks/20-c-abi.sh):
 *   ./example <segur.toml of `segur sandbox`> */
#include <stdio.h>
#include <string.h>
#include "segur.h"
#define S(x) (const uint8_t *)(x), strlen(x)

int main(int argc, char **argv) {
  segur_client *client = NULL;
  segur_buf *out = NULL;
  char msg[256];
  size_t len;
  if (argc < 2) return 2;

  /* 1. Check a matricule INS (13 characters: the key is computed). */
  if (segur_matricule_check(S("1810163220751"), NULL, 0, &out) == SEGUR_RESULT_OK) {
    printf("matricule: %s\n", (const char *)segur_buf_data(out));
    segur_buf_free(out);
  }

  /* 2. Search INSi (the sandbox) with typed traits. */
  if (segur_client_open(S(argv[1]), &client) != SEGUR_RESULT_OK) return 1;
  if (segur_insi_search(client,
                        S("{\"nom_naissance\":\"ADRDEUX\",\"prenoms\":\"LAURENT\","
                          "\"sexe\":\"M\",\"date_naissance\":\"1981-01-01\"}"),
                        false, S("{\"user\":\"demo\"}"), &out) == SEGUR_RESULT_OK) {
    printf("INSi: %s\n", (const char *)segur_buf_data(out));
    segur_buf_free(out);
  }

  /* 3. Handle an error: "D’ÆION" needs a confirmed transliteration. */
  segur_result r = segur_normalize(SEGUR_FIELD_NOM_NAISSANCE, S("D\xE2\x80\x99\xC3\x86ION"), false, &out);
  if (r != SEGUR_RESULT_OK) {
    segur_last_error_message(msg, sizeof msg, &len);
    printf("error %u (%s): %s\n", (unsigned)r, segur_result_str(r), msg);
    if (segur_last_error_details(&out) == SEGUR_RESULT_OK) {
      printf("details: %s\n", (const char *)segur_buf_data(out)); /* has "proposal":"D'AEION" */
      segur_buf_free(out);
    }
  }
  segur_client_free(client);
  return r == SEGUR_RESULT_NEEDS_CONFIRMATION ? 0 : 1;
}
