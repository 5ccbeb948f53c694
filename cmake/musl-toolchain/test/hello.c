/* Self-test of musl-cc: libm resolves to musl; mallopt (glibc-only) must not link. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
static void *run(void *p) { *(double *)p = sqrt(*(double *)p); return p; }
int main(void) {
  double d = 16.0;
  pthread_t t;
  pthread_create(&t, 0, run, &d);
  pthread_join(t, 0);
  printf("%s\n", d == 4.0 ? "musl-cc-ok" : "musl-cc-FAILED");
  return d == 4.0 ? 0 : 1;
}
