/* Readers in parallel with a writer (and the background sealer): every
 * iteration is in order, sees only whole entries, never fewer entries than
 * the previous one (nothing appended disappears, whether in the head or
 * just sealed), and sees every entry that was appended before it began. */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "store_test_util.h"

#define TOTAL 20000
#define BATCH 100

static trail_store *S;
static atomic_int appended; /* entries whose append returned */
static atomic_bool done;
static int64_t base; /* now: old entries would be deleted by retention */

static void *writer(void *arg) {
    (void)arg;
    char lines[BATCH][64];
    char rid[BATCH][16];
    trail_store_label l[1] = {{"service", "api"}};
    trail_store_entry e[BATCH];
    for (int b = 0; b < TOTAL / BATCH; b++) {
        for (int i = 0; i < BATCH; i++) {
            int n = b * BATCH + i;
            snprintf(lines[i], sizeof lines[i], "{\"n\":%d}", n);
            snprintf(rid[i], sizeof rid[i], "r%d", n % 500);
            e[i] = (trail_store_entry){.category = n % 4 ? "app" : "access", .labels = l, .nlabels = 1,
                                       .ts_ns = base + (int64_t)n * 1000, .line = lines[i],
                                       .line_len = (uint32_t)strlen(lines[i]), .request_id = rid[i]};
        }
        if (trail_store_append(S, e, BATCH, NULL) != 0) abort();
        if (b % 10 == 0) trail_store_sync(S);
        if (b % 37 == 0) trail_store_flush(S);
        atomic_store(&appended, (b + 1) * BATCH);
    }
    atomic_store(&done, true);
    return NULL;
}

static void *reader(void *arg) {
    long which = (long)arg;
    int prev_count = 0;
    int rounds = 0;
    while (!atomic_load(&done) || rounds < 2) {
        int before = atomic_load(&appended);
        trail_store_key k = {TRAIL_STORE_KEY_REQUEST_ID, "r7", 2};
        trail_store_query q = {.backward = which == 1};
        if (which == 2) {
            q.keys = &k;
            q.nkeys = 1;
        }
        trail_store_iter *it;
        if (trail_store_iter_open(S, &q, &it)) abort();
        const trail_store_entry *e;
        int count = 0;
        int64_t prev = which == 1 ? INT64_MAX : INT64_MIN;
        while (trail_store_iter_next(it, &e) == 1) {
            int n = -1;
            char line[32]; /* lines are not NUL-terminated: sscanf needs a copy */
            CHECK(e->line_len < sizeof line);
            memcpy(line, e->line, e->line_len);
            line[e->line_len] = 0;
            CHECK(sscanf(line, "{\"n\":%d}", &n) == 1);
            CHECK_INT(e->ts_ns, ==, base + (int64_t)n * 1000);
            CHECK(which == 1 ? e->ts_ns <= prev : e->ts_ns >= prev);
            if (which == 2) CHECK_STR(e->request_id, "r7");
            prev = e->ts_ns;
            count++;
        }
        trail_store_iter_close(it);
        int want = which == 2 ? before / 500 : before;
        CHECK_INT(count, >=, want);
        if (count < prev_count) test__fail(__FILE__, __LINE__, "reader %ld: %d after %d (appended %d)", which, count, prev_count, before);
        prev_count = count;
        if (atomic_load(&done)) rounds++;
        char **v;
        size_t nv;
        CHECK_INT(trail_store_label_values(S, "category", 0, 0, &v, &nv), ==, 0);
        trail_store_strings_free(v, nv);
    }
    CHECK_INT(prev_count, ==, which == 2 ? TOTAL / 500 : TOTAL);
    return NULL;
}

/* Another handle, read-only (as the `trail` CLI in another process): sees
 * sealed blocks, more after each refresh, always in order. */
static char dir_path[512];
static void *ro_reader(void *arg) {
    (void)arg;
    trail_store *r = ts_open(dir_path, TRAIL_STORE_READONLY, NULL);
    int prev_count = 0;
    int after = 0; /* one more round once the writer is done */
    while (!atomic_load(&done) || after++ < 1) {
        CHECK_INT(trail_store_refresh(r), ==, 0);
        trail_store_query q = {0};
        trail_store_iter *it;
        CHECK_INT(trail_store_iter_open(r, &q, &it), ==, 0);
        const trail_store_entry *e;
        int count = 0;
        int64_t prev = INT64_MIN;
        while (trail_store_iter_next(it, &e) == 1) {
            CHECK(e->ts_ns >= prev);
            prev = e->ts_ns;
            count++;
        }
        trail_store_iter_close(it);
        CHECK_INT(count, >=, prev_count);
        prev_count = count;
    }
    trail_store_close(r);
    return NULL;
}

TEST(readers_while_writing) {
    char d[512];
    snprintf(d, sizeof d, "%s/mt", test_tmpdir());
    trail_store_config c = {.block_bytes = 4096, .head_bytes = 16384, .segment_bytes = 65536,
                            .seal_interval_ns = 2000000, .maintain_interval_ns = 5000000};
    base = (int64_t)time(NULL) * SEC;
    S = ts_open(d, TRAIL_STORE_NO_FSYNC, &c);
    snprintf(dir_path, sizeof dir_path, "%s", d);
    pthread_t w, r[4];
    for (long i = 0; i < 3; i++) pthread_create(&r[i], NULL, reader, (void *)i);
    pthread_create(&r[3], NULL, ro_reader, NULL);
    pthread_create(&w, NULL, writer, NULL);
    pthread_join(w, NULL);
    for (int i = 0; i < 4; i++) pthread_join(r[i], NULL);
    /* after a flush a read-only handle sees everything */
    CHECK_INT(trail_store_flush(S), ==, 0);
    trail_store *ro = ts_open(d, TRAIL_STORE_READONLY, NULL);
    trail_store_query q = {0};
    gotlist g = ts_collect(ro, &q);
    CHECK_INT(g.n, ==, TOTAL);
    ts_free(&g);
    trail_store_close(ro);
    trail_store_stats st;
    trail_store_get_stats(S, &st);
    CHECK_INT(st.entries, ==, TOTAL);
    trail_store_close(S);
}
