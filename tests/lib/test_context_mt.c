/* test_context_mt.c — threads (and event-loop handles on them) never see
 * each other's context values. */
#include "ctx_impl.h"
#include "test.h"
#include "trail.h"

#include <pthread.h>
#include <stdint.h>

#define THREADS 4
#define ROUNDS 20000

static void *worker(void *arg) {
    intptr_t id = (intptr_t)arg;
    char mine[32], buf[32];
    trail_ctx *h = trail_ctx_new();
    for (int r = 0; r < ROUNDS; r++) {
        snprintf(mine, sizeof mine, "t%ld-r%d", (long)id, r);
        if (trail_ctx_set("request_id", mine) != 0) return (void *)1;
        if (trail_ctx_get("request_id", buf, sizeof buf) < 0 || strcmp(buf, mine) != 0) return (void *)2;
        /* The captured blob holds this thread's value only. */
        size_t len;
        const unsigned char *b = trail__ctx_current(&len);
        trail_field f[8];
        size_t n = trail__ctx_decode(b, len, f, 8);
        if (n != 1 || f[0].len != strlen(mine) || memcmp(f[0].v.s, mine, f[0].len) != 0) return (void *)3;
        /* An attached handle on this thread, then back. */
        trail_ctx_put(h, "request_id", "handle");
        trail_ctx_attach(h);
        if (trail_ctx_get("request_id", buf, sizeof buf) != 6 || strcmp(buf, "handle") != 0) return (void *)4;
        trail_ctx_attach(NULL);
        if (r % 3 == 0) trail_ctx_clear();
    }
    trail_ctx_free(h);
    return NULL;
}

TEST(threads_are_isolated) {
    pthread_t t[THREADS];
    for (intptr_t i = 0; i < THREADS; i++) CHECK(pthread_create(&t[i], NULL, worker, (void *)i) == 0);
    for (int i = 0; i < THREADS; i++) {
        void *rc;
        pthread_join(t[i], &rc);
        CHECK_INT((intptr_t)rc, ==, 0);
    }
}

static void *uuid_worker(void *arg) {
    char (*out)[37] = arg;
    for (int i = 0; i < 2000; i++) trail_uuid_v7(out[i]);
    return NULL;
}

static int cmp(const void *a, const void *b) { return strcmp(a, b); }

TEST(uuid_v7_unique_across_threads) {
    static char ids[THREADS][2000][37];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) CHECK(pthread_create(&t[i], NULL, uuid_worker, ids[i]) == 0);
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < THREADS; i++)
        for (int j = 1; j < 2000; j++) CHECK(strcmp(ids[i][j - 1], ids[i][j]) < 0); /* ordered per thread */
    qsort(ids, THREADS * 2000, 37, cmp);
    for (int k = 1; k < THREADS * 2000; k++) CHECK(strcmp(((char(*)[37])ids)[k - 1], ((char(*)[37])ids)[k]) != 0);
}
