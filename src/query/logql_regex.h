/* logql_regex.h — regex compile/match for LogQL (see logql_regex.c). */
#ifndef TRAIL_LOGQL_REGEX_H
#define TRAIL_LOGQL_REGEX_H

#include "logql_ast.h"

/* anchored: full match (label matchers, like Loki); else search (line
 * filters). Returns 0, or -1 with a message in err. */
int tq_regex_compile(tq_regex *r, const char *src, int anchored, char *err, size_t errlen);
bool tq_regex_match(const tq_regex *r, const char *s, size_t n);
void tq_regex_free(tq_regex *r);

#endif
