/* C smoke test of libsegur (C99, gcc -std=c99 -Wall -Wextra -Werror -pedantic), run by
 * scripts/checks/20-c-abi.sh against a sandbox: ./smoke <segur.toml> <run-tag>.
 * Prints one "ok N - ..." / "not ok N - ..." line per assertion and, last,
 * "smoke: P passed, F failed". Exit status 0 iff F == 0. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "segur.h"

static int passed, failed;

static void print_last_error(void) {
  char msg[512];
  size_t len = 0;
  if (segur_last_error_message(msg, sizeof msg, &len) == SEGUR_RESULT_OK) {
    printf("#   last error: %s\n", msg);
  }
}

#define CHECK(cond, name)                                                      \
  do {                                                                         \
    if (cond) {                                                                \
      passed++;                                                                \
      printf("ok %d - %s\n", passed + failed, name);                           \
    } else {                                                                   \
      failed++;                                                                \
      printf("not ok %d - %s (line %d)\n", passed + failed, name, __LINE__);  \
      print_last_error();                                                      \
    }                                                                          \
  } while (0)

/* (pointer, length) of a C string literal or buffer. */
#define S(x) (const uint8_t *)(x), strlen(x)

static const char *txt(const segur_buf *b) { return (const char *)segur_buf_data(b); }

static int contains(const segur_buf *b, const char *needle) {
  return b != NULL && strstr(txt(b), needle) != NULL;
}

static const char *ACTOR = "{\"user\":\"smoke\",\"rpps\":\"10000000001\",\"finess\":\"750000001\"}";
static const char *ADRDEUX =
    "{\"nom_naissance\":\"ADRDEUX\",\"prenoms\":\"LAURENT\",\"sexe\":\"M\","
    "\"date_naissance\":\"1981-01-01\"}";
static const char *HOUILLES =
    "{\"nom_naissance\":\"HOUILLES\",\"prenoms\":\"PIERRE PAUL JACQUES\",\"sexe\":\"M\","
    "\"date_naissance\":\"1993-01-27\"}";
/* D’ÆION: a typographic apostrophe and Æ, to be confirmed. */
static const char *NEEDS_CONFIRM = "D\xE2\x80\x99\xC3\x86ION";
static const uint8_t BAD_UTF8[] = {'1', '8', 0xC3, 0x28, '0'};

/* ---- async ---------------------------------------------------------------------------- */

struct op {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int done;
  segur_result code;
  char json[8192];
  segur_result inner_code; /* a blocking call made inside the callback */
  const segur_client *client;
};

static void on_done(void *user_data, segur_result code, const segur_buf *data) {
  struct op *op = (struct op *)user_data;
  segur_buf *inner = NULL;
  segur_result inner_code =
      segur_insi_search(op->client, S(ADRDEUX), false, S(ACTOR), &inner);
  segur_buf_free(inner);
  pthread_mutex_lock(&op->mu);
  op->code = code;
  op->inner_code = inner_code;
  if (data != NULL && segur_buf_len(data) < sizeof op->json) {
    memcpy(op->json, segur_buf_data(data), segur_buf_len(data) + 1);
  }
  op->done = 1;
  pthread_cond_signal(&op->cv);
  pthread_mutex_unlock(&op->mu);
}

static void op_init(struct op *op, const segur_client *c) {
  memset(op, 0, sizeof *op);
  pthread_mutex_init(&op->mu, NULL);
  pthread_cond_init(&op->cv, NULL);
  op->client = c;
  op->inner_code = SEGUR_RESULT_OK;
}

static void op_wait(struct op *op) {
  pthread_mutex_lock(&op->mu);
  while (!op->done) pthread_cond_wait(&op->cv, &op->mu);
  pthread_mutex_unlock(&op->mu);
  pthread_mutex_destroy(&op->mu);
  pthread_cond_destroy(&op->cv);
}

/* ---- stateless ------------------------------------------------------------------------ */

static void test_stateless(void) {
  segur_buf *b = NULL;
  uint8_t out15[15];
  uint32_t ks = 0;
  segur_result r;

  CHECK(strncmp(segur_version(), "segur-ffi/", 10) == 0, "segur_version");
  CHECK(segur_abi_version() == SEGUR_HEADER_ABI_VERSION, "segur_abi_version == SEGUR_HEADER_ABI_VERSION");
  CHECK(strcmp(segur_result_str(SEGUR_RESULT_OK), "ok") == 0, "segur_result_str(OK)");
  CHECK(strcmp(segur_result_str(123456u), "unknown result code") == 0,
        "segur_result_str(unknown)");

  r = segur_matricule_check(S("1810163220751"), NULL, 0, &b);
  CHECK(r == SEGUR_RESULT_OK && contains(b, "\"181016322075140\"") && contains(b, "computed"),
        "matricule_check 13 chars: key computed");
  segur_buf_free(b);
  b = NULL;
  r = segur_matricule_check(S("1 81 01 63 220 751 40"), NULL, 0, &b);
  CHECK(r == SEGUR_RESULT_OK && contains(b, "\"valid\""), "matricule_check 15 chars with spaces");
  segur_buf_free(b);
  b = NULL;
  r = segur_matricule_check(S("1810163220751"), S("40"), &b);
  CHECK(r == SEGUR_RESULT_OK && contains(b, "\"valid\""), "matricule_check separate key");
  segur_buf_free(b);
  b = NULL;
  r = segur_matricule_check(S("181016322075141"), NULL, 0, &b);
  CHECK(r == SEGUR_RESULT_INVALID_INPUT && b == NULL, "matricule_check wrong key: INVALID_INPUT, no output");

  r = segur_matricule_normalize15(S("1810163220751"), out15, &ks);
  CHECK(r == SEGUR_RESULT_OK && memcmp(out15, "181016322075140", 15) == 0 &&
            ks == SEGUR_KEY_STATUS_COMPUTED,
        "matricule_normalize15");
  memset(out15, 'x', sizeof out15);
  r = segur_matricule_normalize15(S("18101632207"), out15, &ks);
  CHECK(r == SEGUR_RESULT_INVALID_INPUT && out15[0] == 'x', "normalize15 too short: nothing written");

  r = segur_normalize(SEGUR_FIELD_NOM_NAISSANCE, S(NEEDS_CONFIRM), false, &b);
  CHECK(r == SEGUR_RESULT_NEEDS_CONFIRMATION && b == NULL, "normalize without confirm: NEEDS_CONFIRMATION");
  {
    segur_buf *d = NULL;
    r = segur_last_error_details(&d);
    CHECK(r == SEGUR_RESULT_OK && contains(d, "\"code\":101") && contains(d, "\"proposal\":\"D'AEION\""),
          "last_error_details: code 101 and proposal");
    segur_buf_free(d);
  }
  r = segur_normalize(SEGUR_FIELD_NOM_NAISSANCE, S(NEEDS_CONFIRM), true, &b);
  CHECK(r == SEGUR_RESULT_OK && strcmp(txt(b), "D'AEION") == 0 && segur_buf_len(b) == 7,
        "normalize with confirm");
  segur_buf_free(b);
  b = NULL;
  r = segur_normalize(42u, S("DUPONT"), false, &b);
  CHECK(r == SEGUR_RESULT_UNKNOWN_ENUM_VALUE && b == NULL, "normalize unknown field: UNKNOWN_ENUM_VALUE");

  /* Invalid UTF-8. */
  r = segur_matricule_check(BAD_UTF8, sizeof BAD_UTF8, NULL, 0, &b);
  CHECK(r == SEGUR_RESULT_INVALID_UTF8 && b == NULL, "matricule_check invalid UTF-8");
  r = segur_normalize(SEGUR_FIELD_PRENOM, BAD_UTF8, sizeof BAD_UTF8, true, &b);
  CHECK(r == SEGUR_RESULT_INVALID_UTF8, "normalize invalid UTF-8");
  r = segur_matricule_normalize15(BAD_UTF8, sizeof BAD_UTF8, out15, &ks);
  CHECK(r == SEGUR_RESULT_INVALID_UTF8, "normalize15 invalid UTF-8");

  /* Error message buffer. */
  {
    char small[4] = {'x', 'x', 'x', 'x'};
    char big[256];
    size_t need = 0, need2 = 0;
    segur_matricule_check(S("12"), NULL, 0, &b); /* sets the last error */
    r = segur_last_error_message(small, sizeof small, &need);
    CHECK(r == SEGUR_RESULT_INSUFFICIENT_SIZE && need > sizeof small && small[0] == 'x',
          "last_error_message too small: INSUFFICIENT_SIZE, nothing written");
    r = segur_last_error_message(big, need, &need2);
    CHECK(r == SEGUR_RESULT_OK && need2 == need && strlen(big) + 1 == need,
          "last_error_message with the reported size");
  }

  /* NULL pointers. */
  CHECK(segur_matricule_check(NULL, 3, NULL, 0, &b) == SEGUR_RESULT_NULL_PARAMETER, "NULL matricule");
  CHECK(segur_matricule_check(S("1810163220751"), NULL, 0, NULL) == SEGUR_RESULT_NULL_PARAMETER,
        "NULL info_out");
  CHECK(segur_matricule_normalize15(NULL, 0, out15, &ks) == SEGUR_RESULT_NULL_PARAMETER,
        "normalize15 NULL input");
  CHECK(segur_matricule_normalize15(S("1810163220751"), NULL, &ks) == SEGUR_RESULT_NULL_PARAMETER,
        "normalize15 NULL out15");
  CHECK(segur_matricule_normalize15(S("1810163220751"), out15, NULL) == SEGUR_RESULT_NULL_PARAMETER,
        "normalize15 NULL key_status_out");
  CHECK(segur_normalize(SEGUR_FIELD_PRENOM, NULL, 0, false, &b) == SEGUR_RESULT_NULL_PARAMETER,
        "normalize NULL input");
  CHECK(segur_normalize(SEGUR_FIELD_PRENOM, S("A"), false, NULL) == SEGUR_RESULT_NULL_PARAMETER,
        "normalize NULL out");
  {
    size_t n;
    char m[8];
    CHECK(segur_last_error_message(NULL, 8, &n) == SEGUR_RESULT_NULL_PARAMETER, "last_error_message NULL buf");
    CHECK(segur_last_error_message(m, 8, NULL) == SEGUR_RESULT_NULL_PARAMETER, "last_error_message NULL out_len");
    CHECK(segur_last_error_details(NULL) == SEGUR_RESULT_NULL_PARAMETER, "last_error_details NULL");
  }
  CHECK(segur_buf_data(NULL) == NULL && segur_buf_len(NULL) == 0, "buf_data/len NULL");
  segur_buf_free(NULL);
  segur_client_free(NULL);
  CHECK(1, "buf_free(NULL), client_free(NULL)");
}

/* ---- client --------------------------------------------------------------------------- */

static void test_null_client_args(const segur_client *c) {
  segur_buf *b = NULL;
  const char *id = "x";
  CHECK(segur_identity_create(NULL, S(id), S(ADRDEUX), false, S(ACTOR), &b) == SEGUR_RESULT_NULL_PARAMETER, "create NULL client");
  CHECK(segur_identity_create(c, NULL, 1, S(ADRDEUX), false, S(ACTOR), &b) == SEGUR_RESULT_NULL_PARAMETER, "create NULL local_id");
  CHECK(segur_identity_create(c, S(id), NULL, 1, false, S(ACTOR), &b) == SEGUR_RESULT_NULL_PARAMETER, "create NULL input");
  CHECK(segur_identity_create(c, S(id), S(ADRDEUX), false, NULL, 1, &b) == SEGUR_RESULT_NULL_PARAMETER, "create NULL actor");
  CHECK(segur_identity_create(c, S(id), S(ADRDEUX), false, S(ACTOR), NULL) == SEGUR_RESULT_NULL_PARAMETER, "create NULL out");
  CHECK(segur_identity_get(NULL, S(id), &b) == SEGUR_RESULT_NULL_PARAMETER, "get NULL client");
  CHECK(segur_identity_get(c, S(id), NULL) == SEGUR_RESULT_NULL_PARAMETER, "get NULL out");
  CHECK(segur_identity_edit_traits(c, S(id), S(ADRDEUX), false, false, NULL, 0, S(ACTOR), &b) == SEGUR_RESULT_NULL_PARAMETER, "edit NULL reason");
  CHECK(segur_identity_add_document(c, S(id), NULL, 0, S(ACTOR), &b) == SEGUR_RESULT_NULL_PARAMETER, "add_document NULL code");
  CHECK(segur_identity_set_attribute(NULL, S(id), SEGUR_ATTRIBUTE_FICTIVE, true, S("r"), S(ACTOR), &b) == SEGUR_RESULT_NULL_PARAMETER, "set_attribute NULL client");
  CHECK(segur_identity_search_insi(c, S(id), S(ACTOR), NULL) == SEGUR_RESULT_NULL_PARAMETER, "search_insi NULL out");
  CHECK(segur_identity_search_insi_async(c, S(id), S(ACTOR), NULL, NULL) == SEGUR_RESULT_NULL_PARAMETER, "search_insi_async NULL callback");
  CHECK(segur_insi_search(NULL, S(ADRDEUX), false, S(ACTOR), &b) == SEGUR_RESULT_NULL_PARAMETER, "insi_search NULL client");
  CHECK(segur_insi_search_async(c, S(ADRDEUX), false, S(ACTOR), NULL, NULL) == SEGUR_RESULT_NULL_PARAMETER, "insi_search_async NULL callback");
  CHECK(segur_journal_query(c, NULL, 0, &b) == SEGUR_RESULT_NULL_PARAMETER, "journal_query NULL query");
  CHECK(segur_journal_export_csv(c, S("{}"), NULL) == SEGUR_RESULT_NULL_PARAMETER, "export_csv NULL out");
  CHECK(segur_client_open(NULL, 3, NULL) == SEGUR_RESULT_NULL_PARAMETER, "client_open NULL path");
  CHECK(b == NULL, "no output written by any failed call");
}

static void test_client(const char *config, const char *tag) {
  segur_client *c = NULL;
  segur_buf *b = NULL;
  segur_result r;
  char id1[64], id2[64];
  struct op op;

  snprintf(id1, sizeof id1, "ipp-%s-1", tag);
  snprintf(id2, sizeof id2, "ipp-%s-2", tag);

  r = segur_client_open(S("/nonexistent/segur.toml"), &c);
  CHECK(r == SEGUR_RESULT_CONFIG && c == NULL, "client_open missing file: CONFIG");
  r = segur_client_open(S(config), &c);
  CHECK(r == SEGUR_RESULT_OK && c != NULL, "client_open");
  if (c == NULL) return;

  test_null_client_args(c);

  r = segur_identity_create(c, S(id1), S("{\"nom_naissance\":"), false, S(ACTOR), &b);
  CHECK(r == SEGUR_RESULT_INVALID_JSON && b == NULL, "create malformed JSON: INVALID_JSON");
  r = segur_identity_create(c, S(id1), S("{\"nom_naissance\":\"X\"}"), false, S(ACTOR), &b);
  CHECK(r == SEGUR_RESULT_INVALID_JSON, "create JSON missing fields: INVALID_JSON");
  r = segur_identity_create(c, S(id1), S(ADRDEUX), false, S("[1,2]"), &b);
  CHECK(r == SEGUR_RESULT_INVALID_JSON, "create actor of the wrong shape: INVALID_JSON");
  r = segur_identity_create(c, S(id1), BAD_UTF8, sizeof BAD_UTF8, false, S(ACTOR), &b);
  CHECK(r == SEGUR_RESULT_INVALID_UTF8, "create invalid UTF-8 JSON: INVALID_UTF8");

  r = segur_identity_create(c, S(id1), S(ADRDEUX), false, S(ACTOR), &b);
  CHECK(r == SEGUR_RESULT_OK && contains(b, "\"status\":\"PROV\""), "identity_create: PROV");
  segur_buf_free(b);
  b = NULL;
  r = segur_identity_create(c, S(id1), S(ADRDEUX), false, S(ACTOR), &b);
  CHECK(r == SEGUR_RESULT_ALREADY_EXISTS && b == NULL, "identity_create twice: ALREADY_EXISTS");
  r = segur_identity_get(c, S(id1), &b);
  CHECK(r == SEGUR_RESULT_OK && contains(b, "\"nom_naissance\":\"ADRDEUX\""), "identity_get");
  segur_buf_free(b);
  b = NULL;
  r = segur_identity_get(c, S("no-such-ipp"), &b);
  CHECK(r == SEGUR_RESULT_NOT_FOUND && b == NULL, "identity_get unknown: NOT_FOUND");

  r = segur_identity_search_insi(c, S(id1), S(ACTOR), &b);
  CHECK(r == SEGUR_RESULT_OK && contains(b, "\"code\":\"00\"") && contains(b, "181016322075140") &&
            contains(b, "\"status\":\"RECUP\""),
        "identity_search_insi (blocking): CR 00, RECUP");
  segur_buf_free(b);
  b = NULL;
  r = segur_identity_add_document(c, S(id1), S("CN"), S(ACTOR), &b);
  CHECK(r == SEGUR_RESULT_OK && contains(b, "\"status\":\"QUAL\"") && contains(b, "\"transmissible_ins\":{"),
        "identity_add_document CN: QUAL with a transmissible INS");
  segur_buf_free(b);
  b = NULL;

  r = segur_insi_search(c, S(HOUILLES), false, S(ACTOR), &b);
  CHECK(r == SEGUR_RESULT_OK && contains(b, "\"code\":\"01\"") && contains(b, "\"identity\":null"),
        "insi_search HOUILLES: CR 01");
  segur_buf_free(b);
  b = NULL;

  /* Async + a blocking call inside the callback. */
  op_init(&op, c);
  r = segur_insi_search_async(c, S(ADRDEUX), false, S(ACTOR), on_done, &op);
  CHECK(r == SEGUR_RESULT_OK, "insi_search_async started");
  if (r == SEGUR_RESULT_OK) {
    op_wait(&op);
    CHECK(op.code == SEGUR_RESULT_OK && strstr(op.json, "\"code\":\"00\"") != NULL,
          "insi_search_async callback: CR 00");
    CHECK(op.inner_code == SEGUR_RESULT_WOULD_BLOCK_IN_CALLBACK,
          "blocking call inside the callback: WOULD_BLOCK_IN_CALLBACK");
  }
  r = segur_identity_create(c, S(id2), S(HOUILLES), false, S(ACTOR), &b);
  CHECK(r == SEGUR_RESULT_OK, "identity_create HOUILLES");
  segur_buf_free(b);
  b = NULL;
  op_init(&op, c);
  r = segur_identity_search_insi_async(c, S(id2), S(ACTOR), on_done, &op);
  CHECK(r == SEGUR_RESULT_OK, "identity_search_insi_async started");
  if (r == SEGUR_RESULT_OK) {
    op_wait(&op);
    CHECK(op.code == SEGUR_RESULT_OK && strstr(op.json, "\"code\":\"01\"") != NULL &&
              strstr(op.json, "\"status\":\"PROV\"") != NULL,
          "identity_search_insi_async callback: CR 01, still PROV");
  }
  op_init(&op, c);
  r = segur_identity_search_insi_async(c, S("no-such-ipp"), S(ACTOR), on_done, &op);
  if (r == SEGUR_RESULT_OK) op_wait(&op);
  CHECK(r == SEGUR_RESULT_OK && op.code == SEGUR_RESULT_NOT_FOUND && op.json[0] == 0,
        "identity_search_insi_async unknown: callback gets NOT_FOUND");

  r = segur_identity_edit_traits(c, S(id2),
                                 S("{\"nom_naissance\":\"HOUILLES\",\"prenoms\":\"PIERRE PAUL JACQUES\","
                                   "\"sexe\":\"M\",\"date_naissance\":\"1993-01-27\",\"nom_utilise\":\"MARTIN\"}"),
                                 false, false, S("nom utilise"), S(ACTOR), &b);
  CHECK(r == SEGUR_RESULT_OK && contains(b, "\"nom_utilise\":\"MARTIN\""), "identity_edit_traits");
  segur_buf_free(b);
  b = NULL;
  r = segur_identity_set_attribute(c, S(id2), 77u, true, S("x"), S(ACTOR), &b);
  CHECK(r == SEGUR_RESULT_UNKNOWN_ENUM_VALUE && b == NULL, "set_attribute unknown: UNKNOWN_ENUM_VALUE");
  r = segur_identity_set_attribute(c, S(id2), SEGUR_ATTRIBUTE_HOMONYME, true, S("homonyme avere"), S(ACTOR), &b);
  CHECK(r == SEGUR_RESULT_OK && contains(b, "\"homonyme\":true"), "identity_set_attribute HOMONYME");
  segur_buf_free(b);
  b = NULL;

  r = segur_journal_query(c, S("{}"), &b);
  CHECK(r == SEGUR_RESULT_OK && txt(b)[0] == '[' && contains(b, "\"channel\":\"insi\""), "journal_query all");
  segur_buf_free(b);
  b = NULL;
  {
    char q[128];
    snprintf(q, sizeof q, "{\"patient_local_id\":\"%s\",\"limit\":10}", id1);
    r = segur_journal_query(c, S(q), &b);
    CHECK(r == SEGUR_RESULT_OK && contains(b, "\"ins\":\"181016322075140\""), "journal_query by patient");
    segur_buf_free(b);
    b = NULL;
  }
  r = segur_journal_query(c, S("{\"limit\":\"many\"}"), &b);
  CHECK(r == SEGUR_RESULT_INVALID_JSON && b == NULL, "journal_query bad query: INVALID_JSON");
  r = segur_journal_export_csv(c, S("{}"), &b);
  CHECK(r == SEGUR_RESULT_OK && strncmp(txt(b), "id,at,", 6) == 0, "journal_export_csv");
  segur_buf_free(b);

  segur_client_free(c);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s <segur.toml> <run-tag>\n", argv[0]);
    return 2;
  }
  test_stateless();
  test_client(argv[1], argv[2]);
  printf("smoke: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
