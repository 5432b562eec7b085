/* agent_log.c — see agent_log.h. One fprintf per line so concurrent lines
 * from output threads do not interleave (stdio locks the stream). */
#include "agent_log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

static atomic_int min_level = -1;

void ta_log_set_level(int level) { atomic_store(&min_level, level); }

void ta_log(int level, const char *fmt, ...) {
    int min = atomic_load(&min_level);
    if (min < 0) {
        const char *d = getenv("TRAILD_DEBUG");
        min = d && *d && *d != '0' ? TA_LOG_DEBUG : TA_LOG_INFO;
        atomic_store(&min_level, min);
    }
    if (level < min) return;
    static const char *names[] = {"debug", "info", "warning", "error"};
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "traild: %s: %s\n", names[level & 3], msg);
}
