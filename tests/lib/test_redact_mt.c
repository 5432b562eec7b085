/* test_redact_mt.c — one redaction filter used from several threads at once
 * (sync mode runs filters on the callers), many filters per thread (scratch
 * slots recycled), threads exiting (scratch freed by the key destructor:
 * ASan's leak check would see it otherwise). */
#include "filter_impl.h"
#include "test.h"
#include "trail.h"

#include <pthread.h>

#define FILTERS 12 /* more than the per-thread slots */

static trail_filter *filters[FILTERS];

static void *worker(void *arg) {
    intptr_t id = (intptr_t)arg;
    for (int i = 0; i < 3000; i++) {
        trail_filter *f = filters[(i + id) % FILTERS];
        char msg[96], want[96];
        snprintf(msg, sizeof msg, "t%ld n=%d password=pw%d-%ld card 4111 1111 1111 1111", (long)id, i, i, (long)id);
        snprintf(want, sizeof want, "t%ld n=%d password=[REDACTED] card [REDACTED]", (long)id, i);
        trail_field fields[] = {TRAIL_STR("token", msg), TRAIL_STR("note", msg)};
        trail_entry e = {0};
        e.msg = msg;
        e.msg_len = strlen(msg);
        e.fields = fields;
        e.nfields = 2;
        if (f->fn(&e, f->ud) != 1) return (void *)1;
        if (e.msg_len != strlen(want) || memcmp(e.msg, want, e.msg_len) != 0) return (void *)2;
        if (e.fields[1].len != strlen(want) || memcmp(e.fields[1].v.s, want, e.fields[1].len) != 0) return (void *)3;
        if (memcmp(e.fields[0].v.s, "[REDACTED]", 10) != 0) return (void *)4;
    }
    return NULL;
}

TEST(shared_filters_many_threads) {
    for (int i = 0; i < FILTERS; i++) CHECK((filters[i] = trail_filter_redact(NULL)) != NULL);
    for (int round = 0; round < 3; round++) { /* threads come and go */
        pthread_t t[3];
        for (intptr_t i = 0; i < 3; i++) CHECK(pthread_create(&t[i], NULL, worker, (void *)i) == 0);
        for (int i = 0; i < 3; i++) {
            void *rc;
            pthread_join(t[i], &rc);
            CHECK_INT((intptr_t)rc, ==, 0);
        }
    }
    for (int i = 0; i < FILTERS; i++) trail_filter_free(filters[i]);
}
