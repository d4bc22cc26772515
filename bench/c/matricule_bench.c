/* Benchmark of the C ABI fast path (bench/c/run.sh builds and runs it):
 *   segur_matricule_normalize15 (no allocation) and segur_matricule_check (JSON in a segur_buf).
 * Build: cargo build --release -p segur-ffi &&
 *   gcc -O2 -std=c99 -Iinclude bench/c/matricule_bench.c -L$CARGO_TARGET_DIR/release -lsegur -o matricule_bench
 * Run:   LD_LIBRARY_PATH=$CARGO_TARGET_DIR/release ./matricule_bench [calls, default 10000000] */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "segur.h"

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 10000000L;
  const char *inputs[2] = {"1810163220751", "181016322075140"};
  size_t lens[2] = {13, 15};
  uint8_t out15[15];
  uint32_t ks = 0;
  unsigned long checksum = 0;
  long i;
  double t0, t1;

  for (i = 0; i < 100000; i++) { /* warm-up */
    segur_matricule_normalize15((const uint8_t *)inputs[i & 1], lens[i & 1], out15, &ks);
  }
  t0 = now_ns();
  for (i = 0; i < n; i++) {
    if (segur_matricule_normalize15((const uint8_t *)inputs[i & 1], lens[i & 1], out15, &ks) !=
        SEGUR_RESULT_OK) {
      fprintf(stderr, "unexpected error\n");
      return 1;
    }
    checksum += out15[14] + ks;
  }
  t1 = now_ns();
  printf("segur_matricule_normalize15: %ld calls, %.1f ns/call (checksum %lu)\n", n, (t1 - t0) / (double)n,
         checksum);

  t0 = now_ns();
  for (i = 0; i < n; i++) {
    segur_buf *b = NULL;
    if (segur_matricule_check((const uint8_t *)inputs[i & 1], lens[i & 1], NULL, 0, &b) != SEGUR_RESULT_OK) {
      fprintf(stderr, "unexpected error\n");
      return 1;
    }
    checksum += segur_buf_len(b);
    segur_buf_free(b);
  }
  t1 = now_ns();
  printf("segur_matricule_check (JSON): %ld calls, %.1f ns/call (checksum %lu)\n", n, (t1 - t0) / (double)n,
         checksum);
  return 0;
}
