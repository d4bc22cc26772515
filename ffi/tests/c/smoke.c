/* C smoke test of libsegur (C99, gcc -std=c99 -Wall -Wextra -Werror -pedantic), run by
 * scripts/checks/20-c-abi.sh against a sandbox:
 *   ./smoke <segur.toml> <run-tag> <vsm-request.json> <ANS VSM_1.4_2022.01.xml>
 * (the request is cli/examples/vsm-request.json; its patient IPP-0001 is created per run as
 * IPP-0001-<run-tag>, since the script runs this program twice against one sandbox).
 * DMP: status -> authorize -> send -> dashboard -> find -> latest VSM -> get -> delete -> revoke
 * for ADRUN ZOE (the revoke leaves the sandbox's DMP as the next run expects it), and the
 * opposition of TCHITCHI CATARINA (NOT_SENT).
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

/* ---- documents (CDA) ------------------------------------------------------------------ */

/* The whole file in a malloc'd buffer (NUL added, not counted in *len); NULL when unreadable. */
static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  size_t cap = 0, n = 0, got;
  if (f == NULL) return NULL;
  for (;;) {
    if (n + 4096 + 1 > cap) {
      char *nb;
      cap = cap == 0 ? 65536 : cap * 2;
      nb = (char *)realloc(buf, cap);
      if (nb == NULL) break;
      buf = nb;
    }
    got = fread(buf + n, 1, cap - n - 1, f);
    n += got;
    if (got == 0) break;
  }
  fclose(f);
  if (buf != NULL) buf[n] = 0;
  *len = n;
  return buf;
}

/* Occurrences of `needle` in the text of `b`. */
static int count(const segur_buf *b, const char *needle) {
  const char *p = b == NULL ? NULL : txt(b);
  int n = 0;
  while (p != NULL && (p = strstr(p, needle)) != NULL) {
    n++;
    p += strlen(needle);
  }
  return n;
}

/* A malloc'd copy of `src` with the first `from` replaced by `to` (NULL when `from` is absent). */
static char *replace_once(const char *src, const char *from, const char *to) {
  const char *at = strstr(src, from);
  char *out;
  size_t head, tail;
  if (at == NULL) return NULL;
  head = (size_t)(at - src);
  tail = strlen(at + strlen(from));
  out = (char *)malloc(head + strlen(to) + tail + 1);
  if (out == NULL) return NULL;
  memcpy(out, src, head);
  memcpy(out + head, to, strlen(to));
  memcpy(out + head + strlen(to), at + strlen(from), tail + 1);
  return out;
}

/* The number of items of a segur_cda_parse JSON, and the first two item ids (each item
 * serialises as {"id":"<block>:<entry>","kind":"...",...}). */
static int item_ids(const segur_buf *parsed, char *id1, char *id2, size_t cap) {
  const char *p = strstr(txt(parsed), "\"items\":[");
  int count = 0;
  if (p == NULL) return 0;
  while ((p = strstr(p, "{\"id\":\"")) != NULL) {
    const char *start = p + 7, *end = strchr(start, '"');
    if (end == NULL) break;
    if (strncmp(end, "\",\"kind\":\"", 10) == 0) {
      size_t n = (size_t)(end - start);
      char *dst = count == 0 ? id1 : count == 1 ? id2 : NULL;
      if (dst != NULL && n < cap) {
        memcpy(dst, start, n);
        dst[n] = 0;
      }
      count++;
    }
    p = end;
  }
  return count;
}

static void test_cda_null_args(const segur_client *c) {
  segur_buf *b = NULL, *b2 = NULL;
  const char *x = "<x/>";
  CHECK(segur_cda_vsm_build(NULL, S("{}"), &b, &b2) == SEGUR_RESULT_NULL_PARAMETER, "cda_vsm_build NULL client");
  CHECK(segur_cda_vsm_build(c, NULL, 2, &b, &b2) == SEGUR_RESULT_NULL_PARAMETER, "cda_vsm_build NULL request");
  CHECK(segur_cda_vsm_build(c, S("{}"), NULL, &b2) == SEGUR_RESULT_NULL_PARAMETER, "cda_vsm_build NULL document_out");
  CHECK(segur_cda_vsm_build(c, S("{}"), &b, NULL) == SEGUR_RESULT_NULL_PARAMETER, "cda_vsm_build NULL xml_out");
  CHECK(segur_cda_parse(NULL, 4, &b) == SEGUR_RESULT_NULL_PARAMETER, "cda_parse NULL xml");
  CHECK(segur_cda_parse(S(x), NULL) == SEGUR_RESULT_NULL_PARAMETER, "cda_parse NULL out");
  CHECK(segur_cda_integrate(NULL, 4, S("[]"), &b) == SEGUR_RESULT_NULL_PARAMETER, "cda_integrate NULL xml");
  CHECK(segur_cda_integrate(S(x), NULL, 2, &b) == SEGUR_RESULT_NULL_PARAMETER, "cda_integrate NULL selection");
  CHECK(segur_cda_integrate(S(x), S("[]"), NULL) == SEGUR_RESULT_NULL_PARAMETER, "cda_integrate NULL out");
  CHECK(segur_cda_metadata(NULL, 4, &b) == SEGUR_RESULT_NULL_PARAMETER, "cda_metadata NULL xml");
  CHECK(segur_cda_metadata(S(x), NULL) == SEGUR_RESULT_NULL_PARAMETER, "cda_metadata NULL out");
  CHECK(segur_cda_pdf(NULL, 4, &b, &b2) == SEGUR_RESULT_NULL_PARAMETER, "cda_pdf NULL xml");
  CHECK(segur_cda_pdf(S(x), NULL, &b2) == SEGUR_RESULT_NULL_PARAMETER, "cda_pdf NULL pdf_out");
  CHECK(segur_cda_pdf(S(x), &b, NULL) == SEGUR_RESULT_NULL_PARAMETER, "cda_pdf NULL file_name_out");
  CHECK(b == NULL && b2 == NULL, "cda: no output written by any failed call");
}

static void test_cda(const segur_client *c, const char *tag, const char *request_path,
                     const char *ans_path) {
  segur_buf *b = NULL, *doc = NULL, *xml = NULL, *parsed = NULL, *pdf = NULL, *name = NULL;
  segur_result r;
  char ipp[96], patient[128], sel[1200], id1[512], id2[512];
  char *file, *request, *unknown;
  size_t len = 0;
  int n;
  /* Bytes, not a C string: an embedded NUL, then a valid-looking end. */
  static const uint8_t WITH_NUL[] = "<ClinicalDocument xmlns=\"urn:hl7-org:v3\">\0</ClinicalDocument>";

  test_cda_null_args(c);

  /* Bad documents. */
  r = segur_cda_parse(S("<html xmlns=\"http://www.w3.org/1999/xhtml\"><body/></html>"), &b);
  CHECK(r == SEGUR_RESULT_INVALID_DOCUMENT && b == NULL, "cda_parse non-CDA XML: INVALID_DOCUMENT (105)");
  CHECK(strcmp(segur_result_str(SEGUR_RESULT_INVALID_DOCUMENT), "malformed document or CI-SIS rule broken") == 0,
        "segur_result_str(INVALID_DOCUMENT)");
  {
    segur_buf *d = NULL;
    r = segur_last_error_details(&d);
    CHECK(r == SEGUR_RESULT_OK && contains(d, "\"code\":105") && contains(d, "\"name\":\"invalid_document\""),
          "last_error_details: code 105, invalid_document");
    segur_buf_free(d);
  }
  r = segur_cda_parse(S("<?xml version=\"1.0\"?><!DOCTYPE ClinicalDocument [<!ENTITY x \"y\">]>"
                        "<ClinicalDocument xmlns=\"urn:hl7-org:v3\">&x;</ClinicalDocument>"),
                      &b);
  CHECK(r == SEGUR_RESULT_INVALID_DOCUMENT && b == NULL, "cda_parse DOCTYPE: INVALID_DOCUMENT");
  r = segur_cda_parse(WITH_NUL, sizeof WITH_NUL - 1, &b);
  CHECK(r == SEGUR_RESULT_INVALID_DOCUMENT && b == NULL, "cda_parse bytes with a NUL: INVALID_DOCUMENT");
  r = segur_cda_metadata(S("not xml at all"), &b);
  CHECK(r == SEGUR_RESULT_INVALID_DOCUMENT && b == NULL, "cda_metadata not XML: INVALID_DOCUMENT");
  r = segur_cda_pdf(S("<foo/>"), &pdf, &name);
  CHECK(r == SEGUR_RESULT_INVALID_DOCUMENT && pdf == NULL && name == NULL, "cda_pdf non-CDA: INVALID_DOCUMENT, no output");

  /* Bad requests. */
  r = segur_cda_vsm_build(c, S("{\"patient\":"), &doc, &xml);
  CHECK(r == SEGUR_RESULT_INVALID_JSON && doc == NULL && xml == NULL, "cda_vsm_build malformed JSON: INVALID_JSON");
  r = segur_cda_vsm_build(c, S("{\"patient\":\"x\"}"), &doc, &xml);
  CHECK(r == SEGUR_RESULT_INVALID_JSON && doc == NULL, "cda_vsm_build incomplete request: INVALID_JSON");
  r = segur_cda_vsm_build(c, BAD_UTF8, sizeof BAD_UTF8, &doc, &xml);
  CHECK(r == SEGUR_RESULT_INVALID_UTF8 && doc == NULL, "cda_vsm_build invalid UTF-8: INVALID_UTF8");

  /* A qualifiée identity: create, INSi (RECUP), document CN (QUAL). */
  snprintf(ipp, sizeof ipp, "IPP-0001-%s", tag);
  snprintf(patient, sizeof patient, "\"patient\": \"%s\"", ipp);
  r = segur_identity_create(c, S(ipp), S(ADRDEUX), false, S(ACTOR), &b);
  CHECK(r == SEGUR_RESULT_OK, "cda: identity_create IPP-0001");
  segur_buf_free(b);
  b = NULL;
  r = segur_identity_search_insi(c, S(ipp), S(ACTOR), &b);
  CHECK(r == SEGUR_RESULT_OK && contains(b, "\"status\":\"RECUP\""), "cda: INSi search: RECUP");
  segur_buf_free(b);
  b = NULL;
  r = segur_identity_add_document(c, S(ipp), S("CN"), S(ACTOR), &b);
  CHECK(r == SEGUR_RESULT_OK && contains(b, "\"status\":\"QUAL\""), "cda: document CN: QUAL");
  segur_buf_free(b);
  b = NULL;

  file = read_file(request_path, &len);
  CHECK(file != NULL, "read vsm-request.json");
  if (file == NULL) return;
  request = replace_once(file, "\"patient\": \"IPP-0001\"", patient);
  unknown = replace_once(file, "\"patient\": \"IPP-0001\"", "\"patient\": \"no-such-ipp\"");
  free(file);
  CHECK(request != NULL && unknown != NULL, "vsm-request.json has \"patient\": \"IPP-0001\"");
  if (request == NULL || unknown == NULL) {
    free(request);
    free(unknown);
    return;
  }

  r = segur_cda_vsm_build(c, S(unknown), &doc, &xml);
  CHECK(r == SEGUR_RESULT_NOT_FOUND && doc == NULL && xml == NULL, "cda_vsm_build unknown patient: NOT_FOUND");
  free(unknown);

  r = segur_cda_vsm_build(c, S(request), &doc, &xml);
  free(request);
  CHECK(r == SEGUR_RESULT_OK && contains(doc, "\"with_ins\":true") && contains(doc, "\"set_id\":\"") &&
            contains(doc, "\"xml\":\""),
        "cda_vsm_build: BuiltDocument JSON, with_ins");
  CHECK(r == SEGUR_RESULT_OK && strncmp(txt(xml), "<?xml", 5) == 0 && contains(xml, "ClinicalDocument") &&
            contains(xml, "181016322075140") && strlen(txt(xml)) == segur_buf_len(xml),
        "cda_vsm_build: XML with the INS");
  segur_buf_free(doc);
  doc = NULL;
  if (r != SEGUR_RESULT_OK) return;

  /* Parse, integrate two items, metadata, PDF. */
  r = segur_cda_parse(segur_buf_data(xml), segur_buf_len(xml), &parsed);
  n = r == SEGUR_RESULT_OK ? item_ids(parsed, id1, id2, sizeof id1) : 0;
  CHECK(r == SEGUR_RESULT_OK && n > 0 && contains(parsed, "\"vsm_version\""), "cda_parse built VSM: items > 0");
  printf("#   items: %d (%s, %s)\n", n, n > 0 ? id1 : "-", n > 1 ? id2 : "-");
  segur_buf_free(parsed);
  parsed = NULL;
  if (n >= 2) {
    snprintf(sel, sizeof sel, "[\"%s\",\"%s\"]", id1, id2);
    r = segur_cda_integrate(segur_buf_data(xml), segur_buf_len(xml), S(sel), &b);
    CHECK(r == SEGUR_RESULT_OK && txt(b)[0] == '{' && contains(b, "\"version\"") &&
              count(b, "\"label\":\"") == 2 && contains(b, "\"traitements\":[]"),
          "cda_integrate two items: a VsmSummary of exactly 2 items");
    segur_buf_free(b);
    b = NULL;
  } else {
    CHECK(0, "cda_integrate two items: need 2 items");
  }
  r = segur_cda_integrate(segur_buf_data(xml), segur_buf_len(xml), S("[\"no-such-item\"]"), &b);
  CHECK(r == SEGUR_RESULT_INVALID_INPUT && b == NULL, "cda_integrate unknown item: INVALID_INPUT");
  r = segur_cda_integrate(segur_buf_data(xml), segur_buf_len(xml), S("[1,2]"), &b);
  CHECK(r == SEGUR_RESULT_INVALID_JSON && b == NULL, "cda_integrate selection not strings: INVALID_JSON");
  r = segur_cda_metadata(segur_buf_data(xml), segur_buf_len(xml), &b);
  CHECK(r == SEGUR_RESULT_OK && contains(b, "181016322075140") && contains(b, "\"unique_id\""),
        "cda_metadata: patientId with the INS");
  segur_buf_free(b);
  b = NULL;
  r = segur_cda_pdf(segur_buf_data(xml), segur_buf_len(xml), &pdf, &name);
  CHECK(r == SEGUR_RESULT_OK && segur_buf_len(pdf) > 5 && memcmp(segur_buf_data(pdf), "%PDF-", 5) == 0,
        "cda_pdf: starts with %PDF-");
  CHECK(r == SEGUR_RESULT_OK && segur_buf_len(name) > 4 &&
            strcmp(txt(name) + segur_buf_len(name) - 4, ".pdf") == 0,
        "cda_pdf: file name *.pdf");
  segur_buf_free(pdf);
  segur_buf_free(name);
  segur_buf_free(xml);

  /* The ANS example (bytes as read from the file). */
  file = read_file(ans_path, &len);
  CHECK(file != NULL, "read the ANS example VSM_1.4_2022.01.xml");
  if (file == NULL) {
    printf("#   cannot read %s (set SEGUR_REFERENCE)\n", ans_path);
    return;
  }
  r = segur_cda_parse((const uint8_t *)file, len, &parsed);
  n = r == SEGUR_RESULT_OK ? item_ids(parsed, id1, id2, sizeof id1) : 0;
  CHECK(r == SEGUR_RESULT_OK && n > 0, "cda_parse ANS VSM_1.4_2022.01.xml: items > 0");
  printf("#   ANS example items: %d\n", n);
  segur_buf_free(parsed);
  r = segur_cda_metadata((const uint8_t *)file, len, &b);
  CHECK(r == SEGUR_RESULT_OK && contains(b, "\"type_code\""), "cda_metadata ANS example");
  segur_buf_free(b);
  free(file);
}

/* ---- DMP ------------------------------------------------------------------------------ */

static const char *ADRUN =
    "{\"nom_naissance\":\"ADRUN\",\"prenoms\":\"ZOE\",\"sexe\":\"F\",\"date_naissance\":\"1975-12-31\"}";
static const char *TCHITCHI =
    "{\"nom_naissance\":\"TCHITCHI\",\"prenoms\":\"CATARINA\",\"sexe\":\"F\",\"date_naissance\":\"1936-06-21\"}";
static const char *ADRUN_INS = "275126322074974";
static const char *PS = "{\"id_nat\":\"810000002237\",\"nom\":\"AUTRE\",\"prenom\":\"Alex\",\"profession\":\"10\"}";

/* Creates `id` with `traits` and qualifies it (INSi CR 00, then an identity card). */
static int qualify(const segur_client *c, const char *id, const char *traits) {
  segur_buf *b = NULL;
  int ok = segur_identity_create(c, S(id), S(traits), false, S(ACTOR), &b) == SEGUR_RESULT_OK;
  segur_buf_free(b);
  b = NULL;
  ok = ok && segur_identity_search_insi(c, S(id), S(ACTOR), &b) == SEGUR_RESULT_OK && contains(b, "\"code\":\"00\"");
  segur_buf_free(b);
  b = NULL;
  ok = ok && segur_identity_add_document(c, S(id), S("CN"), S(ACTOR), &b) == SEGUR_RESULT_OK &&
       contains(b, "\"status\":\"QUAL\"");
  segur_buf_free(b);
  return ok;
}

/* The CDA XML of a VSM for the recorded patient `id` (request file with its patient replaced). */
static segur_buf *build_vsm(const segur_client *c, const char *id, const char *request_path) {
  segur_buf *doc = NULL, *xml = NULL;
  char patient[160];
  size_t len = 0;
  char *file = read_file(request_path, &len), *request;
  if (file == NULL) return NULL;
  snprintf(patient, sizeof patient, "\"patient\": \"%s\"", id);
  request = replace_once(file, "\"patient\": \"IPP-0001\"", patient);
  free(file);
  if (request == NULL) return NULL;
  if (segur_cda_vsm_build(c, S(request), &doc, &xml) != SEGUR_RESULT_OK) xml = NULL;
  free(request);
  segur_buf_free(doc);
  return xml;
}

/* The value of the first "key":"value" string field of a JSON text, into `out`. */
static int json_str(const segur_buf *b, const char *key, char *out, size_t cap) {
  char pat[64];
  const char *p, *end;
  snprintf(pat, sizeof pat, "\"%s\":\"", key);
  p = b == NULL ? NULL : strstr(txt(b), pat);
  if (p == NULL) return 0;
  p += strlen(pat);
  end = strchr(p, '"');
  if (end == NULL || (size_t)(end - p) >= cap) return 0;
  memcpy(out, p, (size_t)(end - p));
  out[end - p] = 0;
  return 1;
}

static int details_have(const char *needle) {
  segur_buf *d = NULL;
  int ok = segur_last_error_details(&d) == SEGUR_RESULT_OK && contains(d, needle);
  segur_buf_free(d);
  return ok;
}

static void test_dmp_null_args(const segur_client *c) {
  segur_buf *b = NULL, *b2 = NULL;
  const char *id = "x";
  CHECK(segur_dmp_status(NULL, S(id), NULL, 0, &b) == SEGUR_RESULT_NULL_PARAMETER, "dmp_status NULL client");
  CHECK(segur_dmp_status(c, NULL, 1, NULL, 0, &b) == SEGUR_RESULT_NULL_PARAMETER, "dmp_status NULL local_id");
  CHECK(segur_dmp_status(c, S(id), NULL, 0, NULL) == SEGUR_RESULT_NULL_PARAMETER, "dmp_status NULL out");
  CHECK(segur_dmp_status_async(c, S(id), NULL, 0, NULL, NULL) == SEGUR_RESULT_NULL_PARAMETER,
        "dmp_status_async NULL callback");
  CHECK(segur_dmp_authorize(c, S(id), NULL, 0, NULL, 0, &b) == SEGUR_RESULT_NULL_PARAMETER, "dmp_authorize NULL consent");
  CHECK(segur_dmp_revoke(c, S(id), NULL, 0, NULL) == SEGUR_RESULT_NULL_PARAMETER, "dmp_revoke NULL out");
  CHECK(segur_dmp_authorizations(c, NULL, 0, NULL, 0, &b) == SEGUR_RESULT_NULL_PARAMETER, "dmp_authorizations NULL local_id");
  CHECK(segur_dmp_send(c, S(id), NULL, 0, NULL, 4, S("{}"), &b) == SEGUR_RESULT_NULL_PARAMETER, "dmp_send NULL cda");
  CHECK(segur_dmp_send(c, S(id), NULL, 0, S("<x/>"), NULL, 0, &b) == SEGUR_RESULT_NULL_PARAMETER, "dmp_send NULL options");
  CHECK(segur_dmp_send_async(c, S(id), NULL, 0, S("<x/>"), S("{}"), NULL, NULL) == SEGUR_RESULT_NULL_PARAMETER,
        "dmp_send_async NULL callback");
  CHECK(segur_dmp_retry(c, NULL, 0, NULL, 0, &b) == SEGUR_RESULT_NULL_PARAMETER, "dmp_retry NULL unique_id");
  CHECK(segur_dmp_find(c, S(id), NULL, 0, NULL, 0, &b) == SEGUR_RESULT_NULL_PARAMETER, "dmp_find NULL query");
  CHECK(segur_dmp_find_async(c, S(id), NULL, 0, S("{}"), NULL, NULL) == SEGUR_RESULT_NULL_PARAMETER,
        "dmp_find_async NULL callback");
  CHECK(segur_dmp_latest_vsm(c, S(id), NULL, 0, NULL) == SEGUR_RESULT_NULL_PARAMETER, "dmp_latest_vsm NULL out");
  CHECK(segur_dmp_get(c, S(id), NULL, 0, S("1.2"), &b, NULL) == SEGUR_RESULT_NULL_PARAMETER, "dmp_get NULL content_out");
  CHECK(segur_dmp_get(c, S(id), NULL, 0, NULL, 0, &b, &b2) == SEGUR_RESULT_NULL_PARAMETER, "dmp_get NULL unique_id");
  CHECK(segur_dmp_update(c, S(id), NULL, 0, S("1.2"), NULL, 0, &b) == SEGUR_RESULT_NULL_PARAMETER, "dmp_update NULL update");
  CHECK(segur_dmp_dashboard(NULL, S("{}"), &b) == SEGUR_RESULT_NULL_PARAMETER, "dmp_dashboard NULL client");
  CHECK(segur_identity_by_ins(c, S(ADRUN_INS), NULL) == SEGUR_RESULT_NULL_PARAMETER, "identity_by_ins NULL out");
  CHECK(b == NULL && b2 == NULL, "dmp: no output written by any failed call");
}

static void test_dmp(const segur_client *c, const char *tag, const char *request_path) {
  segur_buf *b = NULL, *xml = NULL, *entry = NULL, *content = NULL;
  segur_result r, before;
  char id[96], tc[96], uid[256], q[256], prev[128];
  struct op op;

  test_dmp_null_args(c);
  snprintf(id, sizeof id, "dmp-%s", tag);
  snprintf(tc, sizeof tc, "dmp-tc-%s", tag);

  /* The INS leads to the record: none before the first run's ADRUN; after a second run there are
   * duplicates (INVALID_INPUT: merge first). */
  before = segur_identity_by_ins(c, S(ADRUN_INS), &b);
  prev[0] = 0;
  if (before == SEGUR_RESULT_OK) snprintf(prev, sizeof prev, "%s", txt(b));
  segur_buf_free(b);
  b = NULL;
  CHECK(before == SEGUR_RESULT_NOT_FOUND || (before == SEGUR_RESULT_OK && strncmp(prev, "dmp-", 4) == 0) ||
            before == SEGUR_RESULT_INVALID_INPUT,
        "identity_by_ins before: NOT_FOUND, an earlier run's record, or duplicates of earlier runs");
  CHECK(qualify(c, id, ADRUN), "dmp: ADRUN qualifiee");
  r = segur_identity_by_ins(c, S(ADRUN_INS), &b);
  if (before == SEGUR_RESULT_NOT_FOUND) {
    CHECK(r == SEGUR_RESULT_OK && strcmp(txt(b), id) == 0 && segur_buf_len(b) == strlen(id),
          "identity_by_ins: the local id (text)");
  } else {
    CHECK(r == SEGUR_RESULT_INVALID_INPUT && b == NULL, "identity_by_ins with a duplicate: INVALID_INPUT");
  }
  segur_buf_free(b);
  b = NULL;
  r = segur_identity_by_ins(c, S("279035121518989"), &b);
  CHECK(r == SEGUR_RESULT_NOT_FOUND && b == NULL, "identity_by_ins unknown INS: NOT_FOUND");
  r = segur_identity_by_ins(c, S("2751263"), &b);
  CHECK(r == SEGUR_RESULT_INVALID_INPUT && b == NULL, "identity_by_ins malformed: INVALID_INPUT");

  /* Bad arguments. */
  r = segur_dmp_status(c, BAD_UTF8, sizeof BAD_UTF8, NULL, 0, &b);
  CHECK(r == SEGUR_RESULT_INVALID_UTF8 && b == NULL, "dmp_status invalid UTF-8: INVALID_UTF8");
  r = segur_dmp_status(c, S(id), S("{\"id_nat\":"), &b);
  CHECK(r == SEGUR_RESULT_INVALID_JSON && b == NULL, "dmp_status malformed practitioner: INVALID_JSON");
  r = segur_dmp_status(c, S("no-such-ipp"), NULL, 0, &b);
  CHECK(r == SEGUR_RESULT_NOT_FOUND && b == NULL, "dmp_status unknown patient: NOT_FOUND");

  /* TD0.2 (configured practitioner): a DMP we may feed, not yet consult. */
  r = segur_dmp_status(c, S(id), NULL, 0, &b);
  CHECK(r == SEGUR_RESULT_OK && contains(b, "\"exists\":true") && contains(b, "\"can_feed\":true") &&
            contains(b, "\"authorization\":\"NON_AUTORISE\""),
        "dmp_status: exists, can_feed, NON_AUTORISE");
  segur_buf_free(b);
  b = NULL;
  r = segur_dmp_find(c, S(id), NULL, 0, S("{}"), &b);
  CHECK(r == SEGUR_RESULT_SERVICE_REFUSED && b == NULL && details_have("\"code\":202") &&
            details_have("\"subcode\":\"DMP_ACCES_NON_AUTORISE\""),
        "dmp_find before authorization: SERVICE_REFUSED 202, subcode DMP_ACCES_NON_AUTORISE");
  CHECK(strcmp(segur_result_str(SEGUR_RESULT_SERVICE_REFUSED), "the service refused the request (see the subcode)") == 0,
        "segur_result_str(SERVICE_REFUSED)");

  /* TD0.3 with the patient's consent. */
  r = segur_dmp_authorize(c, S(id), NULL, 0, S("{\"mode\":\"telepathie\"}"), &b);
  CHECK(r == SEGUR_RESULT_INVALID_INPUT && b == NULL, "dmp_authorize unknown consent mode: INVALID_INPUT");
  r = segur_dmp_authorize(c, S(id), NULL, 0, S("{\"mode\":\"oral\"}"), &b);
  CHECK(r == SEGUR_RESULT_OK && strcmp(txt(b), "{\"authorization\":\"AUTORISE\"}") == 0, "dmp_authorize: AUTORISE");
  segur_buf_free(b);
  b = NULL;
  r = segur_dmp_authorizations(c, S(id), NULL, 0, &b);
  CHECK(r == SEGUR_RESULT_OK && contains(b, "\"id_nat\":\"810000001239\""), "dmp_authorizations: ours listed");
  segur_buf_free(b);
  b = NULL;

  /* Status through the callback, with a blocking call refused inside it. */
  op_init(&op, c);
  r = segur_dmp_status_async(c, S(id), NULL, 0, on_done, &op);
  CHECK(r == SEGUR_RESULT_OK, "dmp_status_async started");
  if (r == SEGUR_RESULT_OK) {
    op_wait(&op);
    CHECK(op.code == SEGUR_RESULT_OK && strstr(op.json, "\"can_consult\":true") != NULL,
          "dmp_status_async callback: can_consult");
    CHECK(op.inner_code == SEGUR_RESULT_WOULD_BLOCK_IN_CALLBACK, "dmp: blocking call in the callback refused");
  }

  /* ITI-41: send a VSM built for this patient. */
  xml = build_vsm(c, id, request_path);
  CHECK(xml != NULL, "dmp: VSM built");
  if (xml == NULL) return;
  r = segur_dmp_send(c, S(id), NULL, 0, segur_buf_data(xml), segur_buf_len(xml), S("{\"mask_ps\":1}"), &b);
  CHECK(r == SEGUR_RESULT_INVALID_JSON && b == NULL, "dmp_send bad options: INVALID_JSON");
  r = segur_dmp_send(c, S(id), NULL, 0, segur_buf_data(xml), segur_buf_len(xml), S("{}"), &b);
  CHECK(r == SEGUR_RESULT_OK && contains(b, "\"status\":\"accessible\"") && json_str(b, "unique_id", uid, sizeof uid),
        "dmp_send: accessible, unique_id");
  segur_buf_free(b);
  b = NULL;
  if (r != SEGUR_RESULT_OK) {
    segur_buf_free(xml);
    return;
  }
  snprintf(q, sizeof q, "{\"patient_local_id\":\"%s\"}", id);
  r = segur_dmp_dashboard(c, S(q), &b);
  CHECK(r == SEGUR_RESULT_OK && count(b, "\"unique_id\"") == 1 && contains(b, uid) &&
            contains(b, "\"status_label\":\"Accessible dans le DMP\""),
        "dmp_dashboard: one row, Accessible dans le DMP");
  segur_buf_free(b);
  b = NULL;

  /* ITI-18, latest VSM, ITI-43. */
  r = segur_dmp_find(c, S(id), NULL, 0, S("{\"type_codes\":[\"SYNTH\"]}"), &b);
  CHECK(r == SEGUR_RESULT_OK && txt(b)[0] == '[' && contains(b, uid), "dmp_find SYNTH: ours found");
  segur_buf_free(b);
  b = NULL;
  r = segur_dmp_latest_vsm(c, S(id), NULL, 0, &b);
  CHECK(r == SEGUR_RESULT_OK && contains(b, uid), "dmp_latest_vsm: ours");
  segur_buf_free(b);
  b = NULL;
  r = segur_dmp_get(c, S(id), NULL, 0, S(uid), &entry, &content);
  CHECK(r == SEGUR_RESULT_OK && contains(entry, uid) && segur_buf_len(content) == segur_buf_len(xml) &&
            memcmp(segur_buf_data(content), segur_buf_data(xml), segur_buf_len(xml)) == 0,
        "dmp_get: entry and the same bytes");
  segur_buf_free(entry);
  segur_buf_free(content);
  entry = content = NULL;
  r = segur_dmp_get(c, S(id), NULL, 0, S("1.2.250.1.999.404"), &entry, &content);
  CHECK(r == SEGUR_RESULT_NOT_FOUND && entry == NULL && content == NULL, "dmp_get unknown: NOT_FOUND, nothing written");

  /* ITI-57: delete; the dashboard follows. */
  r = segur_dmp_update(c, S(id), NULL, 0, S(uid), S("erase"), &b);
  CHECK(r == SEGUR_RESULT_INVALID_INPUT && b == NULL, "dmp_update unknown change: INVALID_INPUT");
  r = segur_dmp_update(c, S(id), NULL, 0, S(uid), S("delete"), &b);
  CHECK(r == SEGUR_RESULT_OK && contains(b, "\"warnings\":["), "dmp_update delete");
  segur_buf_free(b);
  b = NULL;
  r = segur_dmp_dashboard(c, S(q), &b);
  CHECK(r == SEGUR_RESULT_OK && contains(b, "\"status\":\"deleted\""), "dmp_dashboard: deleted");
  segur_buf_free(b);
  b = NULL;
  r = segur_dmp_retry(c, S(uid), NULL, 0, &b);
  CHECK(r == SEGUR_RESULT_INVALID_INPUT && b == NULL, "dmp_retry of a document not failed: INVALID_INPUT");

  /* An explicit practitioner, not authorised: consulting is refused. */
  r = segur_dmp_find(c, S(id), S(PS), S("{}"), &b);
  CHECK(r == SEGUR_RESULT_SERVICE_REFUSED && b == NULL, "dmp_find as another practitioner: SERVICE_REFUSED");

  /* TD0.3 SUPPRESSION: back to NON_AUTORISE for the next run. */
  r = segur_dmp_revoke(c, S(id), NULL, 0, &b);
  CHECK(r == SEGUR_RESULT_OK && !contains(b, "\"AUTORISE\""), "dmp_revoke: no longer AUTORISE");
  segur_buf_free(b);
  b = NULL;
  segur_buf_free(xml);

  /* A patient who opposed feeding: NOT_SENT (106), the document kept as failed. */
  CHECK(qualify(c, tc, TCHITCHI), "dmp: TCHITCHI qualifiee");
  xml = build_vsm(c, tc, request_path);
  r = xml == NULL ? SEGUR_RESULT_INTERNAL
                  : segur_dmp_send(c, S(tc), NULL, 0, segur_buf_data(xml), segur_buf_len(xml), S("{}"), &b);
  CHECK(r == SEGUR_RESULT_NOT_SENT && b == NULL && details_have("\"code\":106"), "dmp_send opposition: NOT_SENT 106");
  segur_buf_free(xml);
  snprintf(q, sizeof q, "{\"patient_local_id\":\"%s\",\"status\":\"failed\"}", tc);
  r = segur_dmp_dashboard(c, S(q), &b);
  CHECK(r == SEGUR_RESULT_OK && count(b, "\"unique_id\"") == 1 && contains(b, "\"last_error\":\""),
        "dmp_dashboard: the refused document kept, failed");
  segur_buf_free(b);
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

static void test_client(const char *config, const char *tag, const char *request_path,
                        const char *ans_path) {
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

  test_cda(c, tag, request_path, ans_path);
  test_dmp(c, tag, request_path);
  segur_client_free(c);
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s <segur.toml> <run-tag> <vsm-request.json> <VSM_1.4_2022.01.xml>\n",
            argv[0]);
    return 2;
  }
  test_stateless();
  test_client(argv[1], argv[2], argv[3], argv[4]);
  printf("smoke: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
