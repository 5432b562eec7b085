/* error.c — error codes, the per-thread detailed message, report-once. */
#include "core_impl.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static _Thread_local char last_error[512];

int trail__error(int err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return err;
}

const char *trail_last_error(void) { return last_error; }

const char *trail_strerror(int err) {
    if (err == 0) return "success";
    if (err < 0) err = -err;
    switch (err) {
    case ETIMEDOUT: return "timed out";
    case EALREADY: return "already initialised";
    default: break;
    }
    /* strerror() is not thread-safe; strerrordesc_np (glibc >= 2.32) is. */
    const char *d = strerrordesc_np(err);
    return d ? d : "unknown error";
}

/* Keys that have reported and not yet recovered. Small and rare: a linear
 * table under a mutex is enough (never on the logging hot path). */
#define REPORT_SLOTS 32
static struct {
    const char *key;
    unsigned long suppressed;
} reports[REPORT_SLOTS];
static pthread_mutex_t report_mu = PTHREAD_MUTEX_INITIALIZER;

void trail__report_once(const char *key, const char *fmt, ...) {
    pthread_mutex_lock(&report_mu);
    int free_slot = -1;
    for (int i = 0; i < REPORT_SLOTS; i++) {
        if (reports[i].key == key || (reports[i].key && strcmp(reports[i].key, key) == 0)) {
            reports[i].suppressed++;
            pthread_mutex_unlock(&report_mu);
            return;
        }
        if (!reports[i].key && free_slot < 0) free_slot = i;
    }
    if (free_slot >= 0) {
        reports[free_slot].key = key;
        reports[free_slot].suppressed = 0;
    }
    pthread_mutex_unlock(&report_mu);
    char msg[640];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg - 1, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n > sizeof msg - 2) n = sizeof msg - 2;
    msg[n++] = '\n';
    /* write(2) directly: stdio may be what is failing, and we may be in the backend. */
    ssize_t w = write(2, "trail: ", 7);
    w = write(2, msg, (size_t)n);
    (void)w;
}

void trail__report_clear(const char *key) {
    pthread_mutex_lock(&report_mu);
    for (int i = 0; i < REPORT_SLOTS; i++)
        if (reports[i].key && strcmp(reports[i].key, key) == 0) reports[i].key = NULL;
    pthread_mutex_unlock(&report_mu);
}
