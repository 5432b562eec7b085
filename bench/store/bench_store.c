/* bench_store.c — the store's benchmark: ingest rate (entries/s, per CPU
 * second), compression ratio on libtrail-style JSONL and on nginx
 * `combined` access lines, and query latency on a store of N entries
 * (default 10M, spread over 24 h): a request-id story, a selector + line
 * filter over 1 h, count by level over 1 h. Usage:
 *   bench_store [--entries N] [--dir D] [--keep] [--json]
 * Build and run: bench/store/run.sh (see BENCHMARKS.md). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

#define SEC 1000000000LL

static double now_s(clockid_t c) {
    struct timespec t;
    clock_gettime(c, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static inline uint64_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static const char *services[] = {"frontend", "backend", "worker", "payments", "search", "auth"};
static const char *messages[] = {"request received", "order placed", "payment authorised", "cache miss",
                                 "db query", "job queued", "job finished", "user logged in", "upstream timeout",
                                 "retrying request", "inventory reserved", "email sent"};
static const char *regions[] = {"eu-west-1", "us-east-1"};

/* a tiny mixer so request ids derive from their number (the story query
 * needs to find them again) */
static inline uint64_t st_mix(uint64_t x) {
    x ^= x >> 31;
    x *= 0x7fb5d329728ea185ULL;
    x ^= x >> 27;
    x *= 0x81dadef4bc2dd44dULL;
    return x ^ (x >> 33);
}

/* request ids: uuid v7 shape, time prefix + random */
static void make_rid(char out[48], int64_t ts, uint64_t n) {
    uint64_t ms = (uint64_t)(ts / 1000000);
    uint64_t r1 = st_mix(n * 0x9e3779b97f4a7c15ULL), r2 = st_mix(r1 + n);
    snprintf(out, 48, "%08" PRIx64 "-%04" PRIx64 "-7%03" PRIx64 "-%04" PRIx64 "-%012" PRIx64, ms >> 16, ms & 0xffff,
             r1 & 0xfff, 0x8000 | (r1 >> 16 & 0x3fff), r2 & (uint64_t)0xffffffffffff);
}


static void iso(char *out, int64_t ts) {
    time_t s = (time_t)(ts / SEC);
    struct tm tm;
    gmtime_r(&s, &tm);
    snprintf(out, 80, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (int)(ts % SEC / 1000000));
}

/* Entry i of the app data set: requests of 5 entries across services. */
typedef struct gen {
    int64_t t0, span;
    uint64_t n;
    char line[512];
    char rid[48];
    char user[24];
    const char *svc;
    const char *level;
    int64_t ts;
    uint32_t len;
} gen;

static void gen_app(gen *g, uint64_t i) {
    uint64_t req = i / 5;
    int64_t req_ts = g->t0 + (int64_t)((__int128)g->span * (int64_t)(req * 5) / (int64_t)g->n);
    g->ts = g->t0 + (int64_t)((__int128)g->span * (int64_t)i / (int64_t)g->n) + (int64_t)(rnd() % 2000000);
    make_rid(g->rid, req_ts, req);
    snprintf(g->user, sizeof g->user, "u%06" PRIu64, st_mix(req) % 200000);
    g->svc = services[(i % 5 + req) % 6];
    uint64_t r = rnd();
    g->level = r % 100 < 3 ? "error" : r % 100 < 10 ? "warning" : r % 100 < 30 ? "debug" : "info";
    char ts[80];
    iso(ts, g->ts);
    const char *msg = messages[(r >> 8) % 12];
    int n = snprintf(g->line, sizeof g->line,
                     "{\"timestamp\":\"%s\",\"service\":\"%s\",\"level\":\"%s\",\"message\":\"%s\","
                     "\"request_id\":\"%s\",\"machine_id\":\"4f1c2a9e8b7d4c3e9a0b1c2d3e4f5a6b\","
                     "\"container_id\":\"c0ffee%02d\",\"version\":\"1.4.%d\",\"region\":\"%s\",\"pid\":%d,"
                     "\"user_id\":\"%s\",\"order_id\":\"o-%" PRIu64 "\",\"amount\":%" PRIu64 ",\"duration_ms\":%.3f}",
                     ts, g->svc, g->level, msg, g->rid, (int)(req % 8), (int)(req % 3), regions[req % 2],
                     1000 + (int)(req % 8), g->user, req % 1000000, r % 50000, (double)(r >> 20 & 0xfffff) / 1000.0);
    g->len = (uint32_t)n;
}

static const char *paths[] = {"/api/orders", "/api/orders/%u", "/api/users/%u", "/static/app.js",
                              "/static/style.css", "/api/search?q=item%u", "/health", "/api/cart"};
static const char *agents[] = {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
                               "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
                               "curl/7.88.1", "Go-http-client/1.1"};

static void gen_nginx(gen *g, uint64_t i) {
    g->ts = g->t0 + (int64_t)((__int128)g->span * (int64_t)i / (int64_t)g->n);
    uint64_t r = rnd();
    char path[64];
    snprintf(path, sizeof path, paths[r % 8], (unsigned)(r >> 8) % 100000);
    time_t s = (time_t)(g->ts / SEC);
    struct tm tm;
    gmtime_r(&s, &tm);
    char when[40];
    strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S +0000", &tm);
    static const int status[] = {200, 200, 200, 200, 200, 200, 304, 404, 500, 201};
    g->len = (uint32_t)snprintf(g->line, sizeof g->line, "10.0.%u.%u - - [%s] \"%s %s HTTP/1.1\" %d %u \"-\" \"%s\"",
                                (unsigned)(r >> 20) % 4, (unsigned)(r >> 24) % 250 + 1, when, r % 7 ? "GET" : "POST",
                                path, status[(r >> 30) % 10], (unsigned)(r >> 34) % 60000, agents[(r >> 50) % 4]);
    g->svc = "nginx";
    g->level = "info";
}

typedef struct result {
    double wall, cpu;
    uint64_t entries, raw, disk;
} result;

static int zlevel; /* --level: zstd level (0 = the store's default) */
static uint32_t block_kib, head_kib; /* --block-kib, --head-kib (0 = the store's defaults) */

static int ingest(const char *dir, uint64_t n, bool nginx, unsigned flags, result *res) {
    trail_store_config c = {.dir = dir, .flags = flags, .zstd_level = zlevel, .block_bytes = block_kib << 10,
                            .head_bytes = head_kib << 10};
    trail_store *s;
    char err[256];
    if (trail_store_open(&c, &s, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    enum { B = 4096 };
    static gen g[B];
    static trail_store_entry e[B];
    static trail_store_label l[B][2];
    int64_t t0 = 1795860000LL * SEC;
    double w0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
    double gen_cpu = 0;
    uint64_t raw = 0;
    for (uint64_t i = 0; i < n;) {
        uint32_t m = n - i < B ? (uint32_t)(n - i) : B;
        double g0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
        for (uint32_t k = 0; k < m; k++) {
            g[k].t0 = t0;
            g[k].span = 24 * 3600 * SEC;
            g[k].n = n;
            if (nginx) gen_nginx(&g[k], i + k);
            else gen_app(&g[k], i + k);
            l[k][0] = (trail_store_label){"service", g[k].svc};
            l[k][1] = (trail_store_label){"level", g[k].level};
            e[k] = (trail_store_entry){.category = nginx ? "access" : "app", .labels = l[k], .nlabels = 2,
                                       .ts_ns = g[k].ts, .line = g[k].line, .line_len = g[k].len};
            if (!nginx) {
                e[k].request_id = g[k].rid;
                e[k].user_id = g[k].user;
            }
            raw += g[k].len;
        }
        gen_cpu += now_s(CLOCK_PROCESS_CPUTIME_ID) - g0;
        int r = trail_store_append(s, e, m, NULL);
        if (!r) r = trail_store_sync(s);
        if (r) {
            fprintf(stderr, "append: %s\n", trail_store_strerror(r));
            return -1;
        }
        i += m;
    }
    trail_store_flush(s);
    res->wall = now_s(CLOCK_MONOTONIC) - w0 - gen_cpu; /* generation is not the store's time */
    res->cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0 - gen_cpu;
    trail_store_stats st;
    trail_store_get_stats(s, &st);
    res->entries = st.entries;
    res->raw = raw;
    res->disk = st.disk_bytes;
    trail_store_close(s);
    return 0;
}

/* ------------------------------------------------------------ queries */

typedef struct sel {
    const char *service, *level;
} sel;

static bool match_sel(void *ctx, const trail_store_stream *st) {
    sel *q = ctx;
    bool ok = true;
    for (uint32_t i = 0; i < st->nlabels; i++) {
        if (q->service && !strcmp(st->labels[i].name, "service")) ok &= !strcmp(st->labels[i].value, q->service);
        if (q->level && !strcmp(st->labels[i].name, "level")) ok &= !strcmp(st->labels[i].value, q->level);
    }
    return ok;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct tokctx {
    trail_store_key k[8];
    uint32_t n;
} tokctx;

static void add_tok(void *ctx, const char *t, size_t n) {
    tokctx *c = ctx;
    if (c->n < 8) c->k[c->n++] = (trail_store_key){TRAIL_STORE_KEY_TOKEN, t, n};
}

static void queries(const char *dir, uint64_t n, bool json) {
    int64_t t0 = 1795860000LL * SEC;
    /* cold: a fresh read-only handle, as the `trail` CLI does */
    double o0 = now_s(CLOCK_MONOTONIC);
    trail_store_config c = {.dir = dir, .flags = TRAIL_STORE_READONLY};
    trail_store *s;
    char err[256];
    if (trail_store_open(&c, &s, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    double open_ms = (now_s(CLOCK_MONOTONIC) - o0) * 1e3;

    /* (a) request-id stories: 20 requests spread over the data set */
    double lat[20];
    uint64_t found = 0, blocks_read = 0, blocks_skipped = 0;
    for (int k = 0; k < 20; k++) {
        uint64_t req = (n / 5) * (uint64_t)(2 * k + 1) / 40;
        uint64_t i = req * 5;
        gen g = {.t0 = t0, .span = 24 * 3600 * SEC, .n = n};
        gen_app(&g, i);
        double q0 = now_s(CLOCK_MONOTONIC);
        trail_store_key key = {TRAIL_STORE_KEY_REQUEST_ID, g.rid, strlen(g.rid)};
        trail_store_query q = {.keys = &key, .nkeys = 1};
        trail_store_iter *it;
        trail_store_iter_open(s, &q, &it);
        const trail_store_entry *e;
        while (trail_store_iter_next(it, &e) == 1) found++;
        uint64_t sk, rd;
        trail_store_iter_counts(it, &sk, &rd);
        blocks_read += rd;
        blocks_skipped += sk;
        trail_store_iter_close(it);
        lat[k] = (now_s(CLOCK_MONOTONIC) - q0) * 1e3;
    }
    qsort(lat, 20, sizeof *lat, cmp_d);

    /* (b) {service="backend", level="error"} |= " upstream timeout" over 1 h */
    int64_t from = t0 + 12 * 3600 * SEC, to = from + 3600 * SEC;
    double b0 = now_s(CLOCK_MONOTONIC);
    sel sb = {"backend", "error"};
    const char *needle = "\"message\":\"upstream timeout\"";
    tokctx tk = {0};
    trail_store_filter_tokens(needle, strlen(needle), add_tok, &tk);
    trail_store_query qb = {.from_ns = from, .to_ns = to, .match = match_sel, .match_ctx = &sb, .keys = tk.k,
                            .nkeys = tk.n};
    trail_store_iter *it;
    trail_store_iter_open(s, &qb, &it);
    const trail_store_entry *e;
    uint64_t hits = 0;
    while (trail_store_iter_next(it, &e) == 1)
        if (memmem(e->line, e->line_len, needle, strlen(needle))) hits++;
    uint64_t bsk, brd;
    trail_store_iter_counts(it, &bsk, &brd);
    trail_store_iter_close(it);
    double filter_ms = (now_s(CLOCK_MONOTONIC) - b0) * 1e3;

    /* (c) sum by (level) (count_over_time({category="app"}[1h])) */
    double c0 = now_s(CLOCK_MONOTONIC);
    trail_store_query qc = {.from_ns = from, .to_ns = to};
    trail_store_iter_open(s, &qc, &it);
    uint64_t by_level[4] = {0}, total = 0;
    while (trail_store_iter_next(it, &e) == 1) {
        total++;
        for (uint32_t i = 0; i < e->nlabels; i++)
            if (!strcmp(e->labels[i].name, "level")) {
                char c1 = e->labels[i].value[0];
                by_level[c1 == 'e' ? 0 : c1 == 'w' ? 1 : c1 == 'i' ? 2 : 3]++;
            }
    }
    trail_store_iter_close(it);
    double count_ms = (now_s(CLOCK_MONOTONIC) - c0) * 1e3;
    trail_store_close(s);
    if (json)
        printf("{\"open_ms\":%.1f,\"story_p50_ms\":%.2f,\"story_max_ms\":%.2f,\"story_entries\":%" PRIu64
               ",\"story_blocks_read\":%" PRIu64 ",\"filter_1h_ms\":%.1f,\"filter_hits\":%" PRIu64
               ",\"count_1h_ms\":%.1f,\"count_1h_entries\":%" PRIu64 "}\n",
               open_ms, lat[10], lat[19], found, blocks_read, filter_ms, hits, count_ms, total);
    else {
        printf("query (read-only handle, opened in %.1f ms)\n", open_ms);
        printf("  request-id story     p50 %.2f ms, max %.2f ms  (20 ids, %" PRIu64 " entries, %.1f blocks read and %.0f skipped per story)\n",
               lat[10], lat[19], found, (double)blocks_read / 20, (double)blocks_skipped / 20);
        printf("  selector + |= 1 h    %.1f ms  (%" PRIu64 " hits; blocks read %" PRIu64 ", skipped %" PRIu64 ")\n", filter_ms,
               hits, brd, bsk);
        printf("  count by level 1 h   %.1f ms  (%" PRIu64 " entries: error %" PRIu64 " warning %" PRIu64 " info %" PRIu64
               " debug %" PRIu64 ")\n",
               count_ms, total, by_level[0], by_level[1], by_level[2], by_level[3]);
    }
}

int main(int argc, char **argv) {
    uint64_t n = 10000000, n_nginx = 1000000;
    const char *dir = NULL;
    bool keep = false, json = false, reuse = false, ingest_only = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--entries") && i + 1 < argc) n = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc) dir = argv[++i];
        else if (!strcmp(argv[i], "--keep")) keep = true;
        else if (!strcmp(argv[i], "--reuse")) reuse = true; /* query an existing --dir */
        else if (!strcmp(argv[i], "--json")) json = true;
        else if (!strcmp(argv[i], "--ingest-only")) ingest_only = true; /* app ingest only (profiling) */
        else if (!strcmp(argv[i], "--level") && i + 1 < argc) zlevel = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--block-kib") && i + 1 < argc) block_kib = (uint32_t)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--head-kib") && i + 1 < argc) head_kib = (uint32_t)atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--entries N] [--dir D] [--keep] [--reuse] [--json] [--level Z] [--block-kib K] [--head-kib K] [--ingest-only]\n", argv[0]);
            return 2;
        }
    }
    char tmp[] = "/tmp/trail-bench-store-XXXXXX";
    if (!dir) dir = mkdtemp(tmp);
    char app[600], ngx[600];
    snprintf(app, sizeof app, "%s/app-store", dir);
    snprintf(ngx, sizeof ngx, "%s/nginx-store", dir);
    if (n_nginx > n) n_nginx = n;
    result ra = {0}, rn = {0};
    if (!reuse) {
        unsigned fl = getenv("BENCH_NO_FSYNC") ? TRAIL_STORE_NO_FSYNC : 0;
        if (ingest(app, n, false, fl, &ra)) return 1;
        if (!ingest_only && ingest(ngx, n_nginx, true, fl, &rn)) return 1;
        if (!json) {
            printf("ingest, fsync per 4096-entry batch (durable acks), one writer thread\n");
            printf("  app JSONL   %" PRIu64 " entries  %.0f entries/s wall  %.0f entries/s per CPU second  (avg line %.0f B)\n",
                   ra.entries, ra.entries / ra.wall, ra.entries / ra.cpu, (double)ra.raw / ra.entries);
            printf("  nginx       %" PRIu64 " entries  %.0f entries/s wall  %.0f entries/s per CPU second  (avg line %.0f B)\n",
                   rn.entries, rn.entries / rn.wall, rn.entries / rn.cpu, (double)rn.raw / rn.entries);
            printf("compression (raw line bytes / all store files, indexes included)\n");
            printf("  app JSONL   %.2fx  (%.1f MiB -> %.1f MiB)\n", (double)ra.raw / ra.disk, ra.raw / 1048576.0,
                   ra.disk / 1048576.0);
            printf("  nginx       %.2fx  (%.1f MiB -> %.1f MiB)\n", (double)rn.raw / rn.disk, rn.raw / 1048576.0,
                   rn.disk / 1048576.0);
        } else {
            printf("{\"entries\":%" PRIu64 ",\"ingest_wall_per_s\":%.0f,\"ingest_cpu_per_s\":%.0f,\"ratio_app\":%.2f,"
                   "\"ratio_nginx\":%.2f,\"nginx_ingest_cpu_per_s\":%.0f}\n",
                   ra.entries, ra.entries / ra.wall, ra.entries / ra.cpu, (double)ra.raw / ra.disk,
                   (double)rn.raw / rn.disk, rn.entries / rn.cpu);
        }
    }
    if (!ingest_only) queries(app, n, json);
    if (!keep && !reuse) {
        char cmd[700];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    }
    return 0;
}
