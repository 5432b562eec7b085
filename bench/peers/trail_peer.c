/* trail_peer.c — libtrail behind the C ABI of peer.h: async (per-thread
 * rings, backend thread) and sync, one JSONL file handler on the root
 * logger, blocking overflow policy for every level so nothing is dropped
 * (the "zero drops in blocking mode"). */
#include <errno.h>
#include <time.h>

#include "peer.h"
#include "trail.h"

static trail_logger *lg;
static const char *out_path;

static int tr_open(const bench_peer_cfg *cfg, trail_mode mode) {
    trail_options o = {0};
    o.service = bench_static.service;
    o.mode = mode;
    o.ring_bytes = cfg->ring_bytes;
    o.overflow_block_from = TRAIL_DEBUG; /* block, never drop */
    o.block_timeout_ms = 60000;
    o.no_signal_handlers = 1;
    o.no_default_handlers = 1;
    int rc = trail_setup(&o);
    if (rc) return rc;
    /* The same static values the other peers write. */
    trail_resource_set("version", bench_static.version);
    trail_resource_set("machine_id", bench_static.machine_id);
    trail_resource_set("container_id", bench_static.container_id);
    trail_resource_set("region", bench_static.region);
    trail_handler *h = NULL;
    rc = trail_handler_file(&h, cfg->path, NULL);
    if (rc) return rc;
    trail_handler_set_formatter(h, trail_formatter_json());
    rc = trail_logger_add_handler(trail_root(), h);
    trail_handler_release(h);
    if (rc) return rc;
    lg = trail_get("bench");
    out_path = cfg->path;
    return lg ? 0 : -ENOMEM;
}

static int tr_open_async(const bench_peer_cfg *cfg) { return tr_open(cfg, TRAIL_ASYNC); }
static int tr_open_sync(const bench_peer_cfg *cfg) { return tr_open(cfg, TRAIL_SYNC); }

static void tr_thread_start(int idx) {
    char rid[40];
    bench_make_request_id(idx, rid);
    trail_ctx_set("request_id", rid);
}

/* The entry of the issue, word for word. */
#define TR_LOG(i) \
    trail_info(lg, "order placed", TRAIL_I64("qty", (i)), TRAIL_F64("price", 9.99), TRAIL_STR("sku", "A-1"))

static void tr_latency(uint32_t *samples, size_t n, const bench_pace *pace) {
    BENCH_LATENCY_LOOP(samples, n, pace, i, TR_LOG((int64_t)i));
}

static void tr_log_n(uint64_t first, uint64_t n) {
    for (uint64_t i = first; i < first + n; i++) TR_LOG((int64_t)i);
}

static int tr_close(bench_peer_stats *st) {
    int rc = trail_flush(120000);
    trail_stats s;
    trail_stats_get(&s);
    st->dropped = s.dropped;
    st->blocked = s.blocked;
    if (!rc) rc = bench_fsync_path(out_path);
    trail_shutdown();
    return rc;
}

const bench_peer bench_peer_trail_async = {
    "trail-async", "per-thread rings + backend, JSON formatter, overflow block (all levels)",
    tr_open_async, tr_thread_start, tr_latency, tr_log_n, tr_close};
const bench_peer bench_peer_trail_sync = {
    "trail-sync", "TRAIL_SYNC: formats and writes on the caller's thread",
    tr_open_sync, tr_thread_start, tr_latency, tr_log_n, tr_close};

/* Backend rendering alone: the JSON formatter on a decoded entry equal to
 * the benchmark's, n times, into a buffer emptied every 1 MiB. Returns
 * seconds, or a negative value on error. */
static double thread_cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double bench_trail_render(uint64_t n, double *cpu_s) {
    trail_options o = {0};
    o.service = bench_static.service;
    o.mode = TRAIL_SYNC;
    o.no_signal_handlers = 1;
    o.no_default_handlers = 1;
    if (trail_setup(&o)) return -1;
    trail_resource_set("version", bench_static.version);
    trail_resource_set("machine_id", bench_static.machine_id);
    trail_resource_set("container_id", bench_static.container_id);
    trail_resource_set("region", bench_static.region);
    char rid[40];
    bench_make_request_id(0, rid);
    trail_field ctx[1] = {{.key = "request_id", .type = TRAIL_T_STR, .len = 36, .v.s = rid}};
    trail_field fields[3] = {TRAIL_I64("qty", 0), TRAIL_F64("price", 9.99), TRAIL_STRN("sku", "A-1", 3)};
    trail_entry e = {0};
    e.level = TRAIL_INFO;
    e.logger = "bench";
    e.msg = "order placed";
    e.msg_len = 12;
    e.fields = fields;
    e.nfields = 3;
    e.ctx = ctx;
    e.nctx = 1;
    e.ts_ns = 1795000000000000000;
    trail_formatter *f = trail_formatter_json();
    trail_buf b = {0};
    double t0 = bench_now_s(), c0 = thread_cpu_s();
    for (uint64_t i = 0; i < n; i++) {
        fields[0].v.i = (int64_t)i;
        e.ts_ns += 1000; /* a new timestamp each time, as in real traffic */
        if (trail_formatter_format(f, &e, &b)) return -1;
        if (b.len > (1u << 20)) b.len = 0;
    }
    double s = bench_now_s() - t0;
    *cpu_s = thread_cpu_s() - c0;
    trail_buf_free(&b);
    trail_formatter_free(f);
    trail_shutdown();
    return s;
}

/* A call below the logger's level: only the inline level check runs. */
static void tr_latency_disabled(uint32_t *samples, size_t n, const bench_pace *pace) {
    BENCH_LATENCY_LOOP(samples, n, pace, i,
                       trail_debug(lg, "order placed", TRAIL_I64("qty", (int64_t)i), TRAIL_F64("price", 9.99),
                                   TRAIL_STR("sku", "A-1")));
}

const bench_peer bench_peer_trail_disabled = {
    "trail-below-level", "trail_debug on an INFO logger: the level check alone (latency only)",
    tr_open_async, tr_thread_start, tr_latency_disabled, tr_log_n, tr_close};
