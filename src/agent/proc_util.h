/* proc_util.h — what processors share: reading a "field" by name, where
 * "message" means the message (or the raw line) and "level" the level. */
#ifndef TRAILD_PROC_UTIL_H
#define TRAILD_PROC_UTIL_H
#include <regex.h>

#include "pipeline.h"

/* Value of `name` in r (in s and n); false when absent. */
bool ta_rec_value(const ta_record *r, const char *name, const char **s, size_t *n);
/* Severity threshold from a level name ("warning" → 13); -1 if unknown. */
int ta_level_severity(const char *name);
/* Compiles an extended regex, writing "what: bad regular expression" to err. */
int ta_regex_compile(regex_t *re, const char *pattern, const char *what, char *err, size_t errlen);
/* regexec on a non-NUL-terminated span. */
bool ta_regex_match(const regex_t *re, const char *s, size_t n);

#endif
