/* Must NOT link with musl-cc (as autoconf's AC_CHECK_FUNCS(mallopt) must not find it). */
char mallopt(void);
int main(void) { return mallopt(); }
