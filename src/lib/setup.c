/* setup.c — trail_init / trail_setup (defaults, environment overrides,
 * default handlers), trail_flush, trail_shutdown, the configuration mutex. */
#include "core_impl.h"
#include "ctx_impl.h"
#include "logger.h"
#include "ring.h"
#include "runtime.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

trail__runtime trail__rt = {.mode = TRAIL_ASYNC, .epoch = 1};
pthread_mutex_t trail__cfg_mu = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

void trail__cfg_lock(void) { pthread_mutex_lock(&trail__cfg_mu); }

/* fork child: the mutex is held on behalf of the parent's thread, which a
 * recursive mutex will not let the child's thread unlock; start afresh. */
void trail__cfg_reinit(void) {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&trail__cfg_mu, &attr);
    pthread_mutexattr_destroy(&attr);
}
void trail__cfg_unlock(void) { pthread_mutex_unlock(&trail__cfg_mu); }

static pthread_mutex_t setup_mu = PTHREAD_MUTEX_INITIALIZER;
static int signals_installed;

static const char *env(const char *name) {
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* "1048576", "64K", "10M", "1G" (binary units). */
static int parse_size(const char *text, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text) return -EINVAL;
    uint64_t unit = 1;
    if (*end == 'k' || *end == 'K') unit = 1ull << 10;
    else if (*end == 'm' || *end == 'M') unit = 1ull << 20;
    else if (*end == 'g' || *end == 'G') unit = 1ull << 30;
    if (unit != 1) end++;
    if ((*end == 'i' || *end == 'I') && unit != 1) end++;
    if ((*end == 'b' || *end == 'B')) end++;
    if (*end) return -EINVAL;
    *out = (uint64_t)v * unit;
    return 0;
}

static trail_formatter *formatter_named(const char *name) {
    if (!strcasecmp(name, "console")) return trail_formatter_console(NULL);
    if (!strcasecmp(name, "json") || !strcasecmp(name, "jsonl")) return trail_formatter_json();
    if (!strcasecmp(name, "ecs")) return trail_formatter_ecs();
    if (!strcasecmp(name, "otel")) return trail_formatter_otel();
    if (!strcasecmp(name, "logfmt")) return trail_formatter_logfmt();
    return NULL;
}

/* File handler options from TRAIL_FILE_MAX_BYTES, _ROTATE, _KEEP. */
static int file_opts_from_env(trail_file_opts *fo) {
    memset(fo, 0, sizeof *fo);
    fo->max_bytes = 64ull << 20;
    fo->max_files = 10;
    const char *v;
    if ((v = env("TRAIL_FILE_MAX_BYTES")) && parse_size(v, &fo->max_bytes))
        return trail__error(-EINVAL, "TRAIL_FILE_MAX_BYTES=%s: expected a size such as 1048576, 64K, 10M or 1G", v);
    if ((v = env("TRAIL_FILE_ROTATE"))) {
        if (!strcasecmp(v, "hourly")) fo->interval_s = TRAIL_ROTATE_HOURLY;
        else if (!strcasecmp(v, "daily")) fo->interval_s = TRAIL_ROTATE_DAILY;
        else if (!strcasecmp(v, "never")) fo->interval_s = 0;
        else {
            char *end;
            unsigned long s = strtoul(v, &end, 10);
            if (*end || end == v || s > UINT32_MAX)
                return trail__error(-EINVAL, "TRAIL_FILE_ROTATE=%s: expected hourly, daily, never or seconds", v);
            fo->interval_s = (uint32_t)s;
        }
    }
    if ((v = env("TRAIL_FILE_KEEP"))) {
        char *end;
        unsigned long k = strtoul(v, &end, 10);
        if (*end || end == v || k > UINT32_MAX)
            return trail__error(-EINVAL, "TRAIL_FILE_KEEP=%s: expected a number of rotated files to keep", v);
        fo->max_files = (uint32_t)k;
    }
    return 0;
}

/* Console handler (TRAIL_FORMAT), JSONL file handler (TRAIL_FILE), default
 * redaction (unless TRAIL_REDACT=0), all on the root logger. */
static int add_default_handlers(void) {
    const char *fmt_name = env("TRAIL_FORMAT");
    trail_formatter *fmt = NULL;
    if (fmt_name && !(fmt = formatter_named(fmt_name)))
        return trail__error(-EINVAL, "TRAIL_FORMAT=%s: expected console, json, ecs, otel or logfmt", fmt_name);
    const char *path = env("TRAIL_FILE");
    trail_file_opts fo;
    int rc;
    if (path && (rc = file_opts_from_env(&fo))) {
        trail_formatter_free(fmt);
        return rc;
    }
    trail_handler *file = NULL;
    if (path && (rc = trail_handler_file(&file, path, &fo))) {
        trail_formatter_free(fmt);
        char detail[512];
        snprintf(detail, sizeof detail, "%s", trail_last_error());
        return trail__error(rc, "TRAIL_FILE=%s: %s", path, detail[0] ? detail : trail_strerror(rc));
    }
    trail_handler *console = NULL;
    if ((rc = trail_handler_stream(&console, 1))) {
        trail_formatter_free(fmt);
        trail_handler_release(file);
        return rc;
    }
    if (fmt) trail_handler_set_formatter(console, fmt);
    trail_logger_add_handler(&trail__root_logger, console);
    trail_handler_release(console);
    if (file) {
        trail_logger_add_handler(&trail__root_logger, file);
        trail_handler_release(file);
    }
    const char *redact = env("TRAIL_REDACT");
    if (!redact || strcmp(redact, "0") != 0) trail_logger_add_filter(&trail__root_logger, trail_filter_redact(NULL));
    return 0;
}

static void at_exit(void) {
    if (__atomic_load_n(&trail__rt.initialized, __ATOMIC_ACQUIRE)) trail_flush(2000);
}

static int setup_locked(const trail_options *opts) {
    trail_options o = {0};
    if (opts) o = *opts;
    if (!o.ring_bytes) o.ring_bytes = 2u << 20; /* one huge page, see ring.c */
    if (o.ring_bytes < 4096) o.ring_bytes = 4096;
    if (!o.max_ring_memory) o.max_ring_memory = 64u << 20;
    if (!o.block_timeout_ms) o.block_timeout_ms = 100;
    if (!o.overflow_block_from) o.overflow_block_from = TRAIL_WARNING;
    if (!o.max_entry_bytes) o.max_entry_bytes = 64u << 10;
    if (o.max_entry_bytes < 32) o.max_entry_bytes = 32;

    const char *v;
    if ((v = env("TRAIL_MODE"))) {
        if (!strcasecmp(v, "sync")) o.mode = TRAIL_SYNC;
        else if (!strcasecmp(v, "async")) o.mode = TRAIL_ASYNC;
        else return trail__error(-EINVAL, "TRAIL_MODE=%s: expected sync or async", v);
    }
    int root_level = 0;
    if ((v = env("TRAIL_LEVEL"))) {
        root_level = trail_level_parse(v);
        if (root_level < 0)
            return trail__error(-EINVAL, "TRAIL_LEVEL=%s: expected debug, info, success, warning, error, critical, "
                                         "off or a number 1..255", v);
    }

    trail__resource_init(o.service);
    trail__stats_reset();
    trail__rt.mode = o.mode == TRAIL_SYNC ? TRAIL_SYNC : TRAIL_ASYNC;
    trail__rt.ring_bytes = o.ring_bytes;
    trail__rt.max_ring_memory = o.max_ring_memory < o.ring_bytes ? o.ring_bytes : o.max_ring_memory;
    trail__rt.max_entry_bytes = o.max_entry_bytes;
    trail__rt.block_timeout_ms = o.block_timeout_ms;
    trail__rt.overflow_block_from = o.overflow_block_from;
    if (trail__rt.mode == TRAIL_ASYNC) trail__tsc_init();
    else trail__tsc_enabled = 0;

    trail__loggers_init(root_level);
    int rc;
    if (!o.no_default_handlers && (rc = add_default_handlers())) {
        trail__loggers_free_all();
        return rc;
    }
    __atomic_store_n(&trail__rt.initialized, 1, __ATOMIC_RELEASE);
    if (trail__rt.mode == TRAIL_ASYNC && (rc = trail__backend_start())) {
        __atomic_store_n(&trail__rt.initialized, 0, __ATOMIC_RELEASE);
        trail__loggers_free_all();
        return rc;
    }
    if (!o.no_signal_handlers && trail__crash_install() == 0) signals_installed = 1;
    trail__fork_install();
    static int atexit_done;
    if (!atexit_done) {
        atexit_done = 1;
        atexit(at_exit);
    }
    return 0;
}

int trail_setup(const trail_options *opts) {
    pthread_mutex_lock(&setup_mu);
    int rc;
    if (__atomic_load_n(&trail__rt.initialized, __ATOMIC_ACQUIRE))
        rc = trail__error(-EALREADY, "trail is already set up: call trail_shutdown() first");
    else
        rc = setup_locked(opts);
    pthread_mutex_unlock(&setup_mu);
    return rc;
}

int trail_init(const char *service) {
    trail_options o = {.service = service};
    return trail_setup(&o);
}

int trail_flush(int timeout_ms) {
    if (!__atomic_load_n(&trail__rt.initialized, __ATOMIC_ACQUIRE)) return 0;
    if (trail__rt.mode == TRAIL_SYNC) return 0; /* every call was written before it returned */
    int rc = trail__backend_wait_pass(timeout_ms);
    if (rc == -ETIMEDOUT)
        return trail__error(rc, "trail_flush: entries still queued after %d ms (a slow handler?)", timeout_ms);
    if (rc == -EDEADLK) return 0; /* called from a handler on the backend thread */
    return rc;
}

void trail_shutdown(void) {
    pthread_mutex_lock(&setup_mu);
    if (!__atomic_load_n(&trail__rt.initialized, __ATOMIC_ACQUIRE) || trail__backend_is_self()) {
        pthread_mutex_unlock(&setup_mu);
        return;
    }
    if (signals_installed) {
        trail__crash_uninstall();
        signals_installed = 0;
    }
    /* New calls stop here: stale rings send producers to the slow path,
     * which sees initialized == 0. The backend's final pass takes what
     * producers already queued. */
    __atomic_store_n(&trail__rt.initialized, 0, __ATOMIC_RELEASE);
    __atomic_fetch_add(&trail__rt.epoch, 1, __ATOMIC_SEQ_CST);
    trail__backend_stop();
    trail__rings_shutdown();
    trail__loggers_free_all();
    trail__cfg_lock();
    trail__write_free_scratch();
    trail__cfg_unlock();
    pthread_mutex_unlock(&setup_mu);
}
