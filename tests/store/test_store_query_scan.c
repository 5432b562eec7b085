/* Query correctness: random data (services, levels, two categories,
 * out-of-order timestamps, request ids from a pool, some appended after the
 * last seal so they sit in the head); then random queries — time range,
 * direction, stream matcher, category, request-id key, token key — must
 * return exactly what a brute-force scan of the same data returns, in the
 * same order. Also through a read-only handle after a flush. */
#include <ctype.h>

#include "store_test_util.h"

#define N 20000
#define QUERIES 150

typedef struct model {
    int64_t ts;
    int svc, lvl, cat;
    char line[160];
    char rid[24];
    uint64_t stream;
} model;

static const char *svcs[] = {"api", "worker", "frontend", "db"};
static const char *lvls[] = {"debug", "info", "warn", "error"};
static const char *cats[] = {"app", "access"};
static model *M;

typedef struct matcher {
    int svc_mask, lvl_mask;
} matcher;

static int lab_index(const trail_store_stream *st, const char *name, const char **tab, int n) {
    for (uint32_t i = 0; i < st->nlabels; i++)
        if (!strcmp(st->labels[i].name, name))
            for (int k = 0; k < n; k++)
                if (!strcmp(st->labels[i].value, tab[k])) return k;
    return -1;
}

static bool match(void *ctx, const trail_store_stream *st) {
    matcher *m = ctx;
    int s = lab_index(st, "service", svcs, 4), l = lab_index(st, "level", lvls, 4);
    return s >= 0 && l >= 0 && (m->svc_mask >> s & 1) && (m->lvl_mask >> l & 1);
}

typedef struct sid_map {
    uint64_t id[2][4][4];
} sid_map;

static int learn(void *ctx, const trail_store_stream *st) {
    sid_map *m = ctx;
    int c = lab_index(st, "category", cats, 2), s = lab_index(st, "service", svcs, 4), l = lab_index(st, "level", lvls, 4);
    if (c >= 0 && s >= 0 && l >= 0) m->id[c][s][l] = st->id;
    return 0;
}

static int cmp_model(const void *a, const void *b) {
    const model *x = *(model *const *)a, *y = *(model *const *)b;
    if (x->ts != y->ts) return x->ts < y->ts ? -1 : 1;
    if (x->stream != y->stream) return x->stream < y->stream ? -1 : 1;
    return strcmp(x->line, y->line);
}

static bool has_token(const char *line, const char *tok) {
    size_t n = strlen(tok);
    for (const char *p = strstr(line, tok); p; p = strstr(p + 1, tok)) {
        bool l = p == line || !isalnum((unsigned char)p[-1]);
        bool r = !isalnum((unsigned char)p[n]);
        if (l && r) return true;
    }
    return false;
}

static void run_queries(trail_store *s, unsigned seed) {
    sid_map ids;
    memset(&ids, 0, sizeof ids);
    CHECK_INT(trail_store_streams(s, 0, 0, learn, &ids), ==, 0);
    for (int i = 0; i < N; i++) M[i].stream = ids.id[M[i].cat][M[i].svc][M[i].lvl];
    model **want = malloc(N * sizeof *want);
    uint64_t skipped_total = 0;
    for (int qn = 0; qn < QUERIES; qn++) {
        int64_t a = (int64_t)(rand_r(&seed) % 12000) * SEC, b = a + (int64_t)(rand_r(&seed) % 4000 + 1) * SEC;
        matcher m = {rand_r(&seed) % 16, rand_r(&seed) % 16};
        if (qn % 5 == 0) m.svc_mask = m.lvl_mask = 15;
        int cat = rand_r(&seed) % 3; /* 2 = both */
        char rid[24] = "", tok[24] = "";
        if (qn % 3 == 1) snprintf(rid, sizeof rid, "rid-%05d", rand_r(&seed) % 3000);
        if (qn % 7 == 2) snprintf(tok, sizeof tok, "word%d", rand_r(&seed) % 50);
        trail_store_query q = {.from_ns = qn % 4 == 0 ? 0 : a, .to_ns = qn % 4 == 0 ? 0 : b,
                               .backward = qn % 2, .match = match, .match_ctx = &m};
        const char *catv[1] = {cats[cat < 2 ? cat : 0]};
        if (cat < 2) {
            q.categories = catv;
            q.ncategories = 1;
        }
        trail_store_key keys[2];
        if (rid[0]) keys[q.nkeys++] = (trail_store_key){TRAIL_STORE_KEY_REQUEST_ID, rid, strlen(rid)};
        if (tok[0]) keys[q.nkeys++] = (trail_store_key){TRAIL_STORE_KEY_TOKEN, tok, strlen(tok)};
        q.keys = keys;
        size_t nw = 0;
        for (int i = 0; i < N; i++) {
            model *x = &M[i];
            if (q.from_ns && x->ts < q.from_ns) continue;
            if (q.to_ns && x->ts >= q.to_ns) continue;
            if (!(m.svc_mask >> x->svc & 1) || !(m.lvl_mask >> x->lvl & 1)) continue;
            if (cat < 2 && x->cat != cat) continue;
            if (rid[0] && strcmp(x->rid, rid)) continue;
            if (tok[0] && !has_token(x->line, tok)) continue;
            want[nw++] = x;
        }
        qsort(want, nw, sizeof *want, cmp_model);
        gotlist g = ts_collect(s, &q);
        /* token keys only skip blocks: apply the line filter the engine would */
        size_t k = 0;
        for (size_t i = 0; i < g.n; i++)
            if (!tok[0] || has_token(g.v[i].line, tok)) g.v[k++] = g.v[i];
            else free(g.v[i].line);
        g.n = k;
        if (g.n != nw)
            test__fail(__FILE__, __LINE__, "query %d: got %zu entries, brute force %zu (rid '%s' tok '%s')", qn, g.n, nw, rid, tok);
        for (size_t i = 0; i < nw; i++) {
            const model *x = want[q.backward ? nw - 1 - i : i];
            CHECK_INT(g.v[i].ts, ==, x->ts);
            CHECK_STR(g.v[i].line, x->line);
            CHECK_STR(g.v[i].cat, cats[x->cat]);
            CHECK_STR(g.v[i].rid, x->rid);
            CHECK(g.v[i].stream == x->stream);
        }
        skipped_total += g.skipped;
        ts_free(&g);
    }
    CHECK(skipped_total > 0); /* the indexes did skip blocks */
    free(want);
}

TEST(random_queries_match_brute_force) {
    char d[512];
    snprintf(d, sizeof d, "%s/scan", test_tmpdir());
    trail_store_config c = {.block_bytes = 8192, .head_bytes = 65536, .segment_bytes = 1 << 20};
    trail_store *s = ts_open(d, TRAIL_STORE_NO_FSYNC | TRAIL_STORE_NO_BACKGROUND, &c);
    M = calloc(N, sizeof *M);
    unsigned seed = 12345;
    for (int i = 0; i < N; i++) {
        model *x = &M[i];
        x->svc = rand_r(&seed) % 4;
        x->lvl = rand_r(&seed) % 4;
        x->cat = rand_r(&seed) % 5 == 0;
        x->ts = (int64_t)i * 600000000LL - (int64_t)(rand_r(&seed) % 300) * SEC; /* late by up to 5 min */
        snprintf(x->rid, sizeof x->rid, "rid-%05d", rand_r(&seed) % 3000);
        snprintf(x->line, sizeof x->line, "{\"level\":\"%s\",\"message\":\"word%d word%d n%d\",\"request_id\":\"%s\"}",
                 lvls[x->lvl], rand_r(&seed) % 50, rand_r(&seed) % 50, i, x->rid);
        trail_store_label l[2] = {{"service", svcs[x->svc]}, {"level", lvls[x->lvl]}};
        trail_store_entry e = {.category = cats[x->cat], .labels = l, .nlabels = 2, .ts_ns = x->ts, .line = x->line,
                               .line_len = (uint32_t)strlen(x->line)};
        CHECK_INT(trail_store_append(s, &e, 1, NULL), ==, 0);
        if (i == N / 2) CHECK_INT(trail_store_flush(s), ==, 0);
    }
    trail_store_stats st;
    trail_store_get_stats(s, &st);
    CHECK_INT(st.entries, ==, N);
    CHECK(st.head_entries > 0 && st.blocks > 20);
    run_queries(s, 777); /* blocks + head, in-process */
    CHECK_INT(trail_store_flush(s), ==, 0);
    trail_store *r = ts_open(d, TRAIL_STORE_READONLY, NULL);
    run_queries(r, 778); /* another handle, read-only, everything sealed */
    trail_store_close(r);
    trail_store_close(s);
    free(M);
}
