/* output_worker.h — turns a synchronous send() into an asynchronous output:
 * a thread with a FIFO of submitted batches, retries with exponential
 * back-off and jitter, final "invalid" answers, and the drain/abandon
 * protocol of ta_output_type. Used by the file and stdout outputs; any
 * output whose transport is blocking (curl easy) can use it too. */
#ifndef TRAILD_OUT_WORKER_H
#define TRAILD_OUT_WORKER_H

#include "pipeline.h"

/* What send() reports for one attempt. */
enum {
    TA_SEND_OK = 0,     /* delivered; *n_invalid records of it were rejected (final) */
    TA_SEND_RETRY = 1,  /* transient failure (5xx, 429, EIO, ...): retry after back-off */
    TA_SEND_HOLD = 2,   /* needs an operator (401/403, ENOSPC): retry slowly, stats->held = 1 */
    TA_SEND_INVALID = 3 /* the destination rejected the whole batch as invalid: final */
};

typedef int (*ta_send_fn)(ta_output *o, ta_batch *b, uint32_t *n_invalid);

typedef struct ta_worker_conf {
    int64_t backoff_base_ns;  /* first retry delay (default 100ms) */
    int64_t backoff_max_ns;   /* cap (default 30s) */
} ta_worker_conf;

typedef struct ta_worker ta_worker;

/* Starts the thread. Signals must already be blocked in the caller (traild
 * blocks them in main before any thread starts). */
ta_worker *ta_worker_start(ta_output *o, ta_send_fn send, const ta_worker_conf *c);
int ta_worker_submit(ta_worker *w, ta_batch *b);
/* Keeps delivering until the queue is empty or deadline (CLOCK_MONOTONIC
 * ns), then abandons the rest; returns when the queue is empty. */
void ta_worker_drain(ta_worker *w, int64_t deadline_ns);
/* Stops and joins the thread (drain first, or queued batches are abandoned). */
void ta_worker_stop(ta_worker *w);

#endif
