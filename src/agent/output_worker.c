/* output_worker.c — see output_worker.h. The head batch is retried until it is
 * delivered before the next one is tried, so delivery stays in order. */
#include "output_worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "agent_log.h"
#include "timefmt.h"

struct ta_worker {
    ta_output *o;
    ta_send_fn send;
    ta_worker_conf c;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;       /* new work, drain or stop */
    pthread_cond_t idle_cv;  /* queue became empty */
    ta_batch **q;
    size_t head, len, cap;   /* ring buffer */
    int64_t deadline;        /* INT64_MAX unless draining */
    bool stop;
    int calling;             /* popped batches whose ta_batch_done() has not returned yet */
};

static void timed_wait(ta_worker *w, int64_t until_mono) {
    struct timespec ts = {.tv_sec = until_mono / 1000000000, .tv_nsec = until_mono % 1000000000};
    pthread_cond_timedwait(&w->cv, &w->mu, &ts);
}

static ta_batch *pop(ta_worker *w) {
    ta_batch *b = w->q[w->head];
    w->head = (w->head + 1) % w->cap;
    w->len--;
    w->calling++;
    return b;
}

/* After ta_batch_done() returned for a popped batch (under mu). */
static void done_called(ta_worker *w) {
    if (!--w->calling && !w->len) pthread_cond_broadcast(&w->idle_cv);
}

static void *run(void *arg) {
    ta_worker *w = arg;
    ta_output_stats *st = w->o->stats;
    int attempt = 0;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->len && !w->stop) pthread_cond_wait(&w->cv, &w->mu);
        if (!w->len) break;
        if (ta_mono_ns() >= w->deadline || (w->stop && w->deadline == INT64_MAX)) {
            ta_batch *b = pop(w);
            pthread_mutex_unlock(&w->mu);
            ta_batch_done(b, TA_ABANDONED, 0);
            pthread_mutex_lock(&w->mu);
            done_called(w);
            continue;
        }
        ta_batch *b = w->q[w->head];
        pthread_mutex_unlock(&w->mu);
        uint32_t n_invalid = 0;
        int r = w->send(w->o, b, &n_invalid);
        pthread_mutex_lock(&w->mu);
        if (r == TA_SEND_OK || r == TA_SEND_INVALID) {
            if (r == TA_SEND_INVALID) n_invalid = b->nrecs;
            pop(w);
            attempt = 0;
            atomic_store(&st->held, 0);
            atomic_store(&st->last_ok_ns, ta_now_ns());
            pthread_mutex_unlock(&w->mu);
            ta_batch_done(b, TA_DONE, n_invalid);
            pthread_mutex_lock(&w->mu);
            done_called(w);
            continue;
        }
        attempt++;
        atomic_fetch_add(&st->errors, 1);
        atomic_fetch_add(&st->retries, 1);
        if (r == TA_SEND_HOLD) atomic_store(&st->held, 1);
        int64_t delay = ta_backoff_ns(r == TA_SEND_HOLD ? attempt + 4 : attempt, w->c.backoff_base_ns,
                                      w->c.backoff_max_ns);
        int64_t until = ta_mono_ns() + delay;
        if (until > w->deadline) until = w->deadline;
        while (!w->stop && ta_mono_ns() < until) timed_wait(w, until);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

ta_worker *ta_worker_start(ta_output *o, ta_send_fn send, const ta_worker_conf *c) {
    ta_worker *w = calloc(1, sizeof *w);
    if (!w) abort();
    w->o = o;
    w->send = send;
    if (c) w->c = *c;
    if (w->c.backoff_base_ns <= 0) w->c.backoff_base_ns = 100000000;
    if (w->c.backoff_max_ns <= 0) w->c.backoff_max_ns = 30000000000LL;
    w->deadline = INT64_MAX;
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&w->idle_cv, NULL);
    if (pthread_create(&w->thread, NULL, run, w) != 0) abort();
    return w;
}

int ta_worker_submit(ta_worker *w, ta_batch *b) {
    pthread_mutex_lock(&w->mu);
    if (w->len == w->cap) {
        size_t ncap = w->cap ? w->cap * 2 : 8;
        ta_batch **nq = malloc(ncap * sizeof *nq);
        if (!nq) abort();
        for (size_t i = 0; i < w->len; i++) nq[i] = w->q[(w->head + i) % w->cap];
        free(w->q);
        w->q = nq;
        w->head = 0;
        w->cap = ncap;
    }
    w->q[(w->head + w->len) % w->cap] = b;
    w->len++;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return 0;
}

void ta_worker_drain(ta_worker *w, int64_t deadline_ns) {
    pthread_mutex_lock(&w->mu);
    w->deadline = deadline_ns;
    pthread_cond_broadcast(&w->cv);
    while (w->len || w->calling) { /* until every ta_batch_done() has returned */
        /* Wake up at the deadline so the worker abandons a stuck head. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&w->idle_cv, &w->mu, &ts);
        pthread_cond_broadcast(&w->cv);
    }
    w->deadline = INT64_MAX;
    pthread_mutex_unlock(&w->mu);
}

void ta_worker_stop(ta_worker *w) {
    if (!w) return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    free(w->q);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    pthread_cond_destroy(&w->idle_cv);
    free(w);
}
