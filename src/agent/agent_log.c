/* agent_log.c — see agent_log.h. traild's diagnostics are libtrail entries
 * of the logger "traild". libtrail is set up here, once and lazily, unless
 * the program (or a test) already did: synchronous mode (a few lines a
 * minute need no backend thread), no signal handlers (traild has its own),
 * and one stream handler on stderr, since stdout carries the stdout output. */
#include "agent_log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "trail.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static trail_logger *lg;

static int env_debug(void) {
    const char *d = getenv("TRAILD_DEBUG");
    return d && *d && *d != '0';
}

static int trail_level_of(int level) {
    static const int map[] = {TRAIL_DEBUG, TRAIL_INFO, TRAIL_WARNING, TRAIL_ERROR};
    return map[level < TA_LOG_DEBUG ? TA_LOG_DEBUG : level > TA_LOG_ERROR ? TA_LOG_ERROR : level];
}

static void add_stderr_handler(void) {
    trail_handler *h;
    if (trail_handler_stream(&h, 2) != 0) return;
    const char *f = getenv("TRAILD_LOG_FORMAT");
    if (f && !strcasecmp(f, "json")) trail_handler_set_formatter(h, trail_formatter_json());
    else trail_handler_set_formatter(h, trail_formatter_console(NULL));
    /* traild logs URLs and config values: mask secrets as any libtrail program does. */
    trail_handler_add_filter(h, trail_filter_redact(NULL));
    trail_logger_add_handler(lg, h);
    trail_handler_release(h);
}

static void init(void) {
    trail_options o = {.service = "traild", .mode = TRAIL_SYNC, .no_signal_handlers = 1, .no_default_handlers = 1};
    int rc = trail_setup(&o);
    if (rc != 0 && rc != -EALREADY) return; /* e.g. a bad TRAIL_LEVEL: ta_log falls back to plain lines */
    int own = rc == 0;                      /* -EALREADY: the program set libtrail up; use its handlers */
    lg = trail_get("traild");
    if (!lg) return;
    if (own) {
        add_stderr_handler();
        trail_logger_set_propagate(lg, 0);
    }
    trail_logger_set_level(lg, env_debug() ? TRAIL_DEBUG : TRAIL_INFO);
}

void ta_log_set_level(int level) {
    pthread_once(&once, init);
    /* TRAILD_DEBUG=1 wins over the configured level: it is how one debugs a running config. */
    if (lg) trail_logger_set_level(lg, env_debug() ? TRAIL_DEBUG : trail_level_of(level));
}

void ta_log(int level, const char *fmt, ...) {
    pthread_once(&once, init);
    va_list ap;
    if (!lg) {
        if (level < TA_LOG_INFO && !env_debug()) return;
        static const char *names[] = {"debug", "info", "warning", "error"};
        char msg[1024];
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        fprintf(stderr, "traild: %s: %s\n", names[level & 3], msg);
        return;
    }
    if (!trail_enabled(lg, trail_level_of(level))) return;
    va_start(ap, fmt);
    trail_logv(lg, trail_level_of(level), fmt, ap);
    va_end(ap);
}
