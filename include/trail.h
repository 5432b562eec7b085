/*
 * trail.h — libtrail, production logging for C services.
 *
 * Conventions (whole header):
 *  - Every fallible call returns int: 0 on success or a negative errno value
 *    (-EINVAL, -ENOMEM, -EACCES, ...). trail_strerror() names it and
 *    trail_last_error() gives the detailed, actionable message of the last
 *    failed call made by this thread ("cannot open /x.jsonl: permission
 *    denied — set TRAIL_FILE to a writable path").
 *  - Objects are opaque. Constructors hand the caller one reference; "adds a
 *    reference" / "takes ownership" is stated per function.
 *  - Thread-safety: logging calls (trail_log and friends, trail_ctx_*) are
 *    safe from any thread at any time after trail_init()/trail_setup().
 *    Configuration calls (adding handlers, filters, levels) are thread-safe
 *    but meant for start-up; they take a mutex that the logging path never
 *    takes.
 *  - NULL and empty arguments never crash: a NULL logger means the root
 *    logger, a NULL string is logged as JSON null / "(null)".
 */
#ifndef TRAIL_H
#define TRAIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define TRAIL_LIKELY(x) __builtin_expect(!!(x), 1)
#define TRAIL_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define TRAIL_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define TRAIL_LIKELY(x) (x)
#define TRAIL_UNLIKELY(x) (x)
#define TRAIL_PRINTF(a, b)
#endif

/* ------------------------------------------------------------------ levels */

enum {
    TRAIL_DEBUG = 10,
    TRAIL_INFO = 20,
    TRAIL_SUCCESS = 25,
    TRAIL_WARNING = 30,
    TRAIL_ERROR = 40,
    TRAIL_CRITICAL = 50,
    TRAIL_LEVEL_MAX = 255, /* levels are 1..255 */
    TRAIL_OFF = 256        /* a logger or handler level that lets nothing through */
};

/* Registers a custom level (1..255) with a lowercase name ("trace", "notice")
 * and an optional ANSI colour sequence for the console ("\033[35m"; NULL =
 * none). Re-registering a value renames it. Strings are copied. */
int trail_level_register(int level, const char *name, const char *ansi_color);
/* Name of a level ("info", "success"); "level<N>" for unregistered values.
 * The returned string is static or lives until trail_shutdown(). */
const char *trail_level_name(int level);
/* Parses "info", "INFO", "20", "warn"; returns the level or -EINVAL. */
int trail_level_parse(const char *text);

/* ------------------------------------------------------------------ fields */

typedef enum trail_type {
    TRAIL_T_STR = 1,   /* v.s, len bytes (len == TRAIL_LEN_CSTR: NUL-terminated) */
    TRAIL_T_I64,       /* v.i */
    TRAIL_T_U64,       /* v.u */
    TRAIL_T_F64,       /* v.d; NaN/Inf rendered as strings in JSON */
    TRAIL_T_BOOL,      /* v.i != 0 */
    TRAIL_T_NULL,      /* no value */
    TRAIL_T_BYTES,     /* v.p, len bytes; rendered as lowercase hex */
    TRAIL_T_ERRNO,     /* v.i = errno value; rendered as "<strerror> (errno N)" */
    TRAIL_T_DURATION,  /* v.i nanoseconds; rendered as a number of ns (ECS event.duration) plus text in console */
    TRAIL_T_TIME,      /* v.i unix nanoseconds; rendered as RFC 3339 UTC with ms */
    TRAIL_T_JSON       /* v.s, len bytes of raw JSON; rendered verbatim when valid, as a string otherwise */
} trail_type;

#define TRAIL_LEN_CSTR UINT32_MAX

/* One typed key/value. At call sites build them with the TRAIL_* macros; keys
 * given through the macros must be string literals (enforced at compile
 * time), which lets the async path store a pointer instead of a copy. */
typedef struct trail_field {
    const char *key;
    uint32_t type; /* trail_type */
    uint32_t len;  /* STR, BYTES, JSON: byte length or TRAIL_LEN_CSTR */
    union {
        const char *s;
        const void *p;
        int64_t i;
        uint64_t u;
        double d;
    } v;
} trail_field;

#define TRAIL__F(k_, t_, l_, m_, x_) \
    ((trail_field){.key = "" k_ "", .type = (t_), .len = (l_), .v.m_ = (x_)})
#define TRAIL_STR(k, val) TRAIL__F(k, TRAIL_T_STR, TRAIL_LEN_CSTR, s, (val))
#define TRAIL_STRN(k, val, n) TRAIL__F(k, TRAIL_T_STR, (uint32_t)(n), s, (val))
#define TRAIL_I64(k, val) TRAIL__F(k, TRAIL_T_I64, 0, i, (int64_t)(val))
#define TRAIL_INT(k, val) TRAIL_I64(k, val)
#define TRAIL_U64(k, val) TRAIL__F(k, TRAIL_T_U64, 0, u, (uint64_t)(val))
#define TRAIL_F64(k, val) TRAIL__F(k, TRAIL_T_F64, 0, d, (double)(val))
#define TRAIL_DOUBLE(k, val) TRAIL_F64(k, val)
#define TRAIL_BOOL(k, val) TRAIL__F(k, TRAIL_T_BOOL, 0, i, (int64_t)((val) != 0))
#define TRAIL_NULL(k) TRAIL__F(k, TRAIL_T_NULL, 0, i, 0)
#define TRAIL_BYTES(k, ptr, n) TRAIL__F(k, TRAIL_T_BYTES, (uint32_t)(n), p, (ptr))
#define TRAIL_ERRNO(k, err) TRAIL__F(k, TRAIL_T_ERRNO, 0, i, (int64_t)(err))
#define TRAIL_DURATION_NS(k, ns) TRAIL__F(k, TRAIL_T_DURATION, 0, i, (int64_t)(ns))
#define TRAIL_TIME_NS(k, ns) TRAIL__F(k, TRAIL_T_TIME, 0, i, (int64_t)(ns))
#define TRAIL_JSON(k, val) TRAIL__F(k, TRAIL_T_JSON, TRAIL_LEN_CSTR, s, (val))

/* ----------------------------------------------------------------- entries */

/* A decoded entry as formatters, filters and callback handlers see it. Valid
 * only during the call it is passed to. Strings are not NUL-terminated
 * unless stated; they may hold any bytes (formatters escape them). */
typedef struct trail_entry {
    int64_t ts_ns;          /* unix time, nanoseconds, UTC */
    int level;
    const char *logger;     /* full logger name, NUL-terminated, "" for root */
    const char *msg;
    size_t msg_len;
    const char *file;       /* call site; NULL for entries from trail_log_msg */
    int line;
    const char *func;
    const trail_field *fields; /* call fields, then bound fields (trail_with) */
    size_t nfields;
    const trail_field *ctx; /* request context: request_id, user_id, trace_id, span_id, ... (all TRAIL_T_STR) */
    size_t nctx;
    uint32_t tid;           /* kernel thread id of the caller */
    uint32_t flags;         /* TRAIL_ENTRY_* */
} trail_entry;

#define TRAIL_ENTRY_TRUNCATED 1u /* message or a field was cut at max_entry_bytes */
#define TRAIL_ENTRY_INTERNAL 2u  /* emitted by libtrail itself ("dropped N entries") */

/* Looks up a context value by key (e.g. "request_id"); NULL when absent. */
const trail_field *trail_entry_ctx(const trail_entry *e, const char *key);

/* ----------------------------------------------------------------- buffers */

/* Growable byte buffer formatters render into. */
typedef struct trail_buf {
    char *data;
    size_t len;
    size_t cap;
} trail_buf;

int trail_buf_reserve(trail_buf *b, size_t extra);
int trail_buf_put(trail_buf *b, const void *p, size_t n);
void trail_buf_free(trail_buf *b);

/* -------------------------------------------------------------- formatters */

typedef struct trail_formatter trail_formatter;

typedef enum trail_color_mode {
    TRAIL_COLOR_AUTO = 0, /* colour when the handler's fd is a TTY and NO_COLOR is unset */
    TRAIL_COLOR_ALWAYS,   /* forced (still off when NO_COLOR is set, unless TRAIL_FORCE_COLOR=1) */
    TRAIL_COLOR_NEVER
} trail_color_mode;

typedef struct trail_console_opts {
    trail_color_mode color;
    int show_date;   /* "2026-11-24 12:00:00.123" instead of "12:00:00" */
    int show_logger; /* append the logger name after the service */
    int show_level;  /* level name column (default on when opts == NULL) */
} trail_console_opts;

/* "12:00:00 myService something happened key=value" with level colours;
 * SUCCESS green; extra fields dimmed; control characters and ANSI escapes
 * from data are escaped. opts may be NULL for defaults. */
trail_formatter *trail_formatter_console(const trail_console_opts *opts);
/* JSON Lines with the top-level fields timestamp (UTC, ms, Z), service,
 * level, message, request_id, machine_id, container_id, version, region, pid,
 * then the other context fields and the extra fields. An extra field whose
 * key collides with a top-level key is renamed "fields.<key>", never
 * overwrites. Always valid UTF-8 JSON, one object per line. */
trail_formatter *trail_formatter_json(void);
trail_formatter *trail_formatter_ecs(void);    /* Elastic Common Schema names */
trail_formatter *trail_formatter_otel(void);   /* OpenTelemetry log data model, one JSON object per line */
trail_formatter *trail_formatter_logfmt(void); /* key=value pairs */

typedef int (*trail_format_fn)(const trail_entry *e, trail_buf *out, void *ud);
/* User formatter: append one rendered entry (with its trailing newline) to
 * out and return 0. free_ud (may be NULL) runs when the formatter is freed. */
trail_formatter *trail_formatter_custom(trail_format_fn fn, void *ud, void (*free_ud)(void *));
/* Renders e into out (appends). For tests and for code that formats outside a handler. */
int trail_formatter_format(trail_formatter *f, const trail_entry *e, trail_buf *out);
void trail_formatter_free(trail_formatter *f);

/* ----------------------------------------------------------------- filters */

typedef struct trail_filter trail_filter;

/* Return 1 to keep the entry, 0 to drop it. A filter may rewrite the entry
 * (redaction does): fields may be pointed at new storage owned by the filter
 * that stays valid until the filter runs again or is freed. */
typedef int (*trail_filter_fn)(trail_entry *e, void *ud);

trail_filter *trail_filter_custom(trail_filter_fn fn, void *ud, void (*free_ud)(void *));
/* Keeps entries at or above min_level. */
trail_filter *trail_filter_level(int min_level);
/* Environment rule, e.g. "local=DEBUG,staging=INFO,*=INFO": the minimum level
 * for the current environment (trail_resource()->env); "*" is the fallback. */
trail_filter *trail_filter_env(const char *rules);
/* Keeps 1 entry in every `every` below max_level (entries at or above it always pass). */
trail_filter *trail_filter_sample(uint32_t every, int max_level);
/* Token bucket per call site: at most per_second entries a second with
 * bursts of burst; suppressed entries are counted (stats.filtered). */
trail_filter *trail_filter_rate_limit(double per_second, double burst);

enum {
    TRAIL_REDACT_BEARER = 1u << 0,  /* "Bearer <token>" */
    TRAIL_REDACT_JWT = 1u << 1,     /* eyJ...xxx.yyy.zzz */
    TRAIL_REDACT_AWS_KEY = 1u << 2, /* AKIA/ASIA access key ids, aws secret keys after a key hint */
    TRAIL_REDACT_CARD = 1u << 3,    /* 13-19 digit card numbers passing the Luhn check */
    TRAIL_REDACT_EMAIL = 1u << 4,   /* e-mail addresses; opt-in, not in ALL_SHAPES */
    TRAIL_REDACT_KEY_VALUE = 1u << 5, /* secret-named keys inside text: "password=x", "\"token\": \"x\"" */
    TRAIL_REDACT_ALL_SHAPES = 0x2fu /* all but EMAIL */
};

typedef struct trail_redact_opts {
    const char *const *keys; /* extra key names (case-insensitive, matched as substrings: "db_password"); NULL-terminated list or NULL */
    int no_default_keys;     /* 1: do not use password, passwd, secret, token, authorization, api_key, apikey, cookie, set-cookie, private_key, credential, session */
    unsigned shapes;         /* TRAIL_REDACT_* mask; 0 with use_default_shapes unset means none */
    int no_default_shapes;   /* 1: shapes is used as given; 0: shapes |= TRAIL_REDACT_ALL_SHAPES */
    const char *replacement; /* default "[REDACTED]" */
} trail_redact_opts;

/* Redacts values of secret-named fields (and context values) and secret-
 * shaped substrings of the message and of string fields. opts may be NULL. */
trail_filter *trail_filter_redact(const trail_redact_opts *opts);
void trail_filter_free(trail_filter *f);

/* ---------------------------------------------------------------- handlers */

typedef struct trail_handler trail_handler;

typedef enum trail_compress { TRAIL_COMPRESS_NONE = 0, TRAIL_COMPRESS_GZIP, TRAIL_COMPRESS_ZSTD } trail_compress;

enum {
    TRAIL_ROTATE_NEVER = 0,
    TRAIL_ROTATE_HOURLY = 3600,
    TRAIL_ROTATE_DAILY = 86400
};

typedef struct trail_file_opts {
    uint64_t max_bytes;        /* rotate when the file would exceed this; 0 = no size rotation */
    uint32_t interval_s;       /* TRAIL_ROTATE_HOURLY, _DAILY or any seconds; boundaries aligned to UTC; 0 = none */
    uint32_t max_files;        /* keep at most this many rotated files; 0 = unlimited */
    uint32_t max_age_s;        /* delete rotated files older than this; 0 = forever */
    trail_compress compress;   /* compress rotated files in the background */
    int fsync_each_batch;      /* fdatasync after every batch (audit logs) */
    unsigned mode;             /* file mode for new files, default 0640 */
} trail_file_opts;

/* stdout (fd 1) or stderr (fd 2), or any fd the caller keeps open. Default
 * formatter: console. */
int trail_handler_stream(trail_handler **out, int fd);
/* Appends to path (created with parent directories missing -> clear error).
 * opts NULL = plain file, no rotation. Rotated names sort oldest first:
 * app.jsonl -> app.2026-11-28T20-00-00.jsonl (UTC start of the file: its
 * period for time rotation, the moment it began for size rotation), then
 * app.2026-11-28T20-00-00_0001.jsonl for another file begun in the same
 * second; + .gz / .zst once compressed (docs/handlers.md). A rotation never
 * overwrites a file. Default formatter: JSON. Fails with
 * -EACCES/-ENOENT/-EISDIR and a trail_last_error() message when the path
 * cannot be opened for writing. */
int trail_handler_file(trail_handler **out, const char *path, const trail_file_opts *opts);

typedef enum trail_syslog_transport { TRAIL_SYSLOG_UNIX = 0, TRAIL_SYSLOG_UDP, TRAIL_SYSLOG_TCP } trail_syslog_transport;

typedef struct trail_syslog_opts {
    trail_syslog_transport transport;
    const char *address;  /* unix: socket path (default /dev/log); udp/tcp: "host:port" */
    int facility;         /* 1..23; 0 = default 1 (user) */
    const char *app_name; /* default service name */
    int no_structured_data; /* 1: no SD element for context and fields (MSG only, e.g. with a JSON formatter) */
} trail_syslog_opts;

/* RFC 5424 messages; structured fields go to an SD-ELEMENT, TCP uses octet
 * counting framing (RFC 6587). */
int trail_handler_syslog(trail_handler **out, const trail_syslog_opts *opts);

/* Called on the writer thread (backend thread in async mode) for every entry
 * that passes; line is the formatted entry (formatter default: JSON). */
typedef void (*trail_handler_fn)(const trail_entry *e, const char *line, size_t len, void *ud);
int trail_handler_callback(trail_handler **out, trail_handler_fn fn, void *ud);

void trail_handler_set_level(trail_handler *h, int level);
/* Takes ownership of f (and frees the previous formatter). */
void trail_handler_set_formatter(trail_handler *h, trail_formatter *f);
/* Takes ownership of f. Filters run in the order added. */
void trail_handler_add_filter(trail_handler *h, trail_filter *f);
/* Asks the handler to reopen its file (logrotate's create/rename scheme);
 * done by the writer before its next write. */
void trail_handler_reopen(trail_handler *h);
/* Reopens every file handler. Safe from a signal handler. */
void trail_reopen_all(void);
/* Installs a SIGHUP handler that calls trail_reopen_all() and then chains to
 * the handler installed before it (logrotate's postrotate `kill -HUP`). */
int trail_reopen_on_sighup(void);
/* Drops the caller's reference; loggers keep their own. */
void trail_handler_release(trail_handler *h);

/* ----------------------------------------------------------------- loggers */

typedef struct trail_logger trail_logger;

/* The first member of every logger; lets the level check inline into the
 * caller. Not for direct use. */
struct trail_logger_head {
    int effective_level; /* read with a relaxed atomic load */
};

/* Root logger (name ""). Never NULL after trail_init/trail_setup. */
trail_logger *trail_root(void);
/* Returns the logger with this dotted name ("shop.db.pool"), creating it and
 * its missing parents. Loggers live until trail_shutdown(). */
trail_logger *trail_get(const char *name);
const char *trail_logger_name(const trail_logger *lg);
/* level 0 = inherit from the parent (the default for all but the root, which starts at INFO). */
void trail_logger_set_level(trail_logger *lg, int level);
int trail_logger_level(const trail_logger *lg); /* effective level */
/* Adds a reference to h. */
int trail_logger_add_handler(trail_logger *lg, trail_handler *h);
int trail_logger_remove_handler(trail_logger *lg, trail_handler *h);
/* Takes ownership of f. Logger filters run before handler filters. */
void trail_logger_add_filter(trail_logger *lg, trail_filter *f);
/* Whether entries go on to the parent's handlers too (default 1). */
void trail_logger_set_propagate(trail_logger *lg, int propagate);

/* A bound logger: same name, level and handlers as lg, plus fields added to
 * every entry. Values are copied. Release with trail_logger_release() (the
 * memory is reclaimed once no queued entry refers to it). */
trail_logger *trail_with_fields(trail_logger *lg, const trail_field *fields, size_t n);
#define trail_with(lg, ...)                                                        \
    trail_with_fields((lg), (const trail_field[]){__VA_ARGS__},                   \
                      sizeof((const trail_field[]){__VA_ARGS__}) / sizeof(trail_field))
void trail_logger_release(trail_logger *lg);

/* ----------------------------------------------------------------- logging */

/* Static call-site descriptor, one per log statement. */
typedef struct trail_site {
    const char *msg;
    uint32_t msg_len;
    int line;
    const char *file;
    const char *func;
} trail_site;

static inline int trail_enabled(const trail_logger *lg, int level) {
    const struct trail_logger_head *h = (const struct trail_logger_head *)(const void *)(lg ? lg : trail_root());
    return level >= __atomic_load_n(&h->effective_level, __ATOMIC_RELAXED);
}

/* Hot path: records the entry (async: into this thread's ring, no I/O; sync:
 * formats and writes). Use the macros below. */
void trail_emit(trail_logger *lg, int level, const trail_site *site, const trail_field *fields, size_t n);
/* Dynamic message (copied). */
void trail_log_msg(trail_logger *lg, int level, const char *msg, size_t len, const trail_field *fields, size_t n);
/* printf-style message (formatted on the caller's thread, then copied). */
void trail_logf(trail_logger *lg, int level, const char *fmt, ...) TRAIL_PRINTF(3, 4);
void trail_logv(trail_logger *lg, int level, const char *fmt, va_list ap);

/* trail_log(lg, TRAIL_INFO, "literal message", TRAIL_STR("k", v), ...):
 * below the logger's level nothing after the level check is evaluated. */
#define trail_log(lg, lvl, msg, ...)                                                     \
    do {                                                                                 \
        trail_logger *trail__lg = (lg);                                                  \
        const int trail__lv = (lvl);                                                     \
        if (TRAIL_UNLIKELY(trail_enabled(trail__lg, trail__lv))) {                       \
            static const trail_site trail__site = {"" msg "", sizeof(msg) - 1, __LINE__, \
                                                   __FILE__, __func__};                  \
            const trail_field trail__f[] = {{0}, ##__VA_ARGS__};                         \
            trail_emit(trail__lg, trail__lv, &trail__site, trail__f + 1,                 \
                       sizeof(trail__f) / sizeof(trail__f[0]) - 1);                      \
        }                                                                                \
    } while (0)

#define trail_debug(lg, msg, ...) trail_log(lg, TRAIL_DEBUG, msg, ##__VA_ARGS__)
#define trail_info(lg, msg, ...) trail_log(lg, TRAIL_INFO, msg, ##__VA_ARGS__)
#define trail_success(lg, msg, ...) trail_log(lg, TRAIL_SUCCESS, msg, ##__VA_ARGS__)
#define trail_warning(lg, msg, ...) trail_log(lg, TRAIL_WARNING, msg, ##__VA_ARGS__)
#define trail_warn(lg, msg, ...) trail_log(lg, TRAIL_WARNING, msg, ##__VA_ARGS__)
#define trail_error(lg, msg, ...) trail_log(lg, TRAIL_ERROR, msg, ##__VA_ARGS__)
#define trail_critical(lg, msg, ...) trail_log(lg, TRAIL_CRITICAL, msg, ##__VA_ARGS__)

/* ---------------------------------------------------------- static fields */

/* Detected once at init: service (trail_init argument, TRAIL_SERVICE,
 * OTEL_SERVICE_NAME, service.name in OTEL_RESOURCE_ATTRIBUTES), version
 * (TRAIL_VERSION, service.version, else the git hash the program was built
 * with when given via TRAIL_BUILD_VERSION at compile time), machine_id
 * (TRAIL_MACHINE_ID, /etc/machine-id, hostname), container_id
 * (TRAIL_CONTAINER_ID, /proc/self/cgroup, /proc/self/mountinfo), region
 * (TRAIL_REGION, cloud.region), env (TRAIL_ENV, deployment.environment,
 * default "production"), hostname, pid (refreshed after fork). */
typedef struct trail_resource {
    const char *service;
    const char *version;
    const char *machine_id;
    const char *container_id; /* "" outside a container */
    const char *region;
    const char *env;
    const char *hostname;
    int pid;
} trail_resource;

const trail_resource *trail_resource_get(void);
/* Overrides one static field by name ("service", "version", "region", ...).
 * Call before logging starts; the string is copied. */
int trail_resource_set(const char *key, const char *value);

/* --------------------------------------------------------- request context */

typedef struct trail_ctx trail_ctx;

/* The calling thread's current context. Every entry logged from this thread
 * carries its key/values (request_id, user_id, trace_id, span_id, or any
 * key). Strings are copied. At most TRAIL_CTX_MAX_BYTES of context in all. */
#define TRAIL_CTX_MAX_BYTES 512
int trail_ctx_set(const char *key, const char *value);
int trail_ctx_remove(const char *key);
void trail_ctx_clear(void);
/* Copies the value into buf (NUL-terminated); returns its length or -ENOENT. */
int trail_ctx_get(const char *key, char *buf, size_t size);

/* Explicit contexts for event-loop code (one thread, many requests). */
trail_ctx *trail_ctx_new(void);
int trail_ctx_put(trail_ctx *c, const char *key, const char *value);
/* Makes c the calling thread's current context (NULL = the thread's own) and
 * returns the previous one. c must outlive the attachment. */
trail_ctx *trail_ctx_attach(trail_ctx *c);
void trail_ctx_free(trail_ctx *c);

/* Request ids and W3C trace context. out must hold 37 bytes. */
void trail_uuid_v4(char out[37]);
void trail_uuid_v7(char out[37]);

typedef struct trail_traceparent {
    char trace_id[33]; /* 32 lowercase hex */
    char span_id[17];  /* 16 lowercase hex: the parent id */
    uint8_t flags;
} trail_traceparent;

/* Parses "00-<32 hex>-<16 hex>-<2 hex>"; -EINVAL for anything else
 * (including all-zero ids). */
int trail_traceparent_parse(const char *header, trail_traceparent *out);
/* New random trace id and span id, flags 01. */
void trail_traceparent_new(trail_traceparent *out);
/* Writes "00-trace-span-flags"; out must hold 56 bytes. */
void trail_traceparent_format(const trail_traceparent *tp, char out[56]);
/* For an incoming request: takes X-Request-ID (NULL/invalid = generate a
 * UUID v7) and traceparent (NULL/invalid = start a new trace), starts a new
 * span, and sets request_id, trace_id, span_id in c (NULL = this thread's
 * context). Request ids longer than 128 bytes or with characters outside
 * [A-Za-z0-9._:-] are replaced by a generated one. */
int trail_ctx_from_headers(trail_ctx *c, const char *x_request_id, const char *traceparent);
/* For an outgoing call: the X-Request-ID value (37+ bytes buffer) and a
 * traceparent carrying this context's trace id and a new child span id. */
int trail_ctx_outgoing_headers(char *request_id, size_t rid_size, char traceparent[56]);

/* ---------------------------------------------------------- setup, flush */

typedef enum trail_mode { TRAIL_ASYNC = 0, TRAIL_SYNC = 1 } trail_mode;

typedef enum trail_overflow {
    TRAIL_OVERFLOW_DROP = 0, /* drop the newest entry, count it, report "dropped N entries" later */
    TRAIL_OVERFLOW_BLOCK     /* wait for space up to block_timeout_ms, then drop and count */
} trail_overflow;

typedef struct trail_options {
    const char *service;          /* static field "service" */
    trail_mode mode;              /* default TRAIL_ASYNC */
    size_t ring_bytes;            /* per-thread ring size, default 2 MiB (power of two; >= 2 MiB: huge pages where allowed) */
    size_t max_ring_memory;       /* all rings together, default 64 MiB; a thread that cannot get a ring drops and counts */
    uint32_t block_timeout_ms;    /* TRAIL_OVERFLOW_BLOCK wait, default 100 */
    int overflow_block_from;      /* levels >= this block, below it drop; default TRAIL_WARNING */
    size_t max_entry_bytes;       /* messages and string fields are cut here with a "…[truncated]" marker; default 64 KiB */
    int no_signal_handlers;       /* 1: do not install the fatal-signal drain */
    int no_default_handlers;      /* 1: trail_setup adds no console handler */
} trail_options;

/* One-line setup: service name, console handler to stdout, a JSONL rotating
 * file when TRAIL_FILE is set, environment overrides (TRAIL_LEVEL,
 * TRAIL_FORMAT=console|json|ecs|otel|logfmt for the console handler,
 * TRAIL_FILE, TRAIL_FILE_MAX_BYTES, TRAIL_FILE_ROTATE=hourly|daily|<seconds>,
 * TRAIL_FILE_KEEP, TRAIL_ENV, TRAIL_MODE=sync|async, TRAIL_REDACT=0 to turn
 * off the default redaction filter). Calling it twice returns -EALREADY. */
int trail_init(const char *service);
/* Full programmatic setup; opts NULL = defaults. */
int trail_setup(const trail_options *opts);
/* Waits until every entry logged before the call is written (or timeout_ms
 * passes: returns -ETIMEDOUT). */
int trail_flush(int timeout_ms);
/* Flushes (bounded), stops the backend, frees all loggers and handlers. */
void trail_shutdown(void);

/* ------------------------------------------------------- self-observation */

typedef struct trail_stats {
    uint64_t entries[6];      /* DEBUG, INFO, SUCCESS, WARNING, ERROR, CRITICAL (custom levels count in the nearest lower bucket) */
    uint64_t entries_total;   /* entries accepted by loggers */
    uint64_t bytes_written;   /* by all handlers */
    uint64_t dropped;         /* lost to ring overflow */
    uint64_t blocked;         /* producer waits under TRAIL_OVERFLOW_BLOCK */
    uint64_t filtered;        /* removed by filters (not a loss) */
    uint64_t truncated;       /* entries cut at max_entry_bytes */
    uint64_t write_errors;    /* failed writes (ENOSPC, EIO, ...) */
    uint64_t rotations;
    uint64_t queue_high_water; /* most bytes ever queued in one ring */
    uint64_t threads;         /* rings in use */
} trail_stats;

void trail_stats_get(trail_stats *out);

/* ------------------------------------------------------------------ errors */

const char *trail_strerror(int err);
const char *trail_last_error(void);

#ifdef __cplusplus
}
#endif
#endif /* TRAIL_H */
