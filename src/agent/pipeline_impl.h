/* pipeline_impl.h — the batcher and acknowledgement tracker between inputs
 * and outputs (pipeline.c). Loop-thread only, except ta_batch_done(). */
#ifndef TRAILD_PIPELINE_IMPL_H
#define TRAILD_PIPELINE_IMPL_H

#include "pipeline.h"

typedef struct ta_pipeline ta_pipeline;

typedef struct ta_pipeline_conf {
    uint32_t batch_max_records;   /* flush when a batch has this many records */
    size_t batch_max_bytes;       /* ... or this many line bytes */
    int64_t batch_max_wait_ns;    /* ... or the oldest record waited this long */
    uint32_t max_inflight;        /* batches between flush and commit (back-pressure) */
} ta_pipeline_conf;

/* One output with its own processors (run on a private copy of records). */
typedef struct ta_out_slot {
    ta_output *out;
    ta_processor **procs;
    uint32_t nprocs;
} ta_out_slot;

/* Where an entry came from, and who to tell when it is committed. */
typedef struct ta_emit_src {
    uint64_t source;                  /* unique per open file incarnation */
    const ta_input_info *info;
    const char *path;
    ta_file_id id;
    void (*commit)(void *ctx, const ta_span *s); /* called on the loop thread */
    void *ctx;
    ta_parser *parser;                /* may be NULL: raw lines */
    ta_processor **procs;             /* input processors */
    uint32_t nprocs;
    ta_input_stats *stats;
} ta_emit_src;

ta_pipeline *ta_pipeline_new(const ta_pipeline_conf *c, ta_out_slot *outs, uint32_t nouts);
void ta_pipeline_free(ta_pipeline *p);
/* eventfd that becomes readable when outputs finished batches. */
int ta_pipeline_fd(ta_pipeline *p);
/* Collects finished batches and commits, in order, every fully-acked one. */
void ta_pipeline_process_acks(ta_pipeline *p);
/* False while max_inflight batches are out: inputs must not read. */
bool ta_pipeline_accepting(const ta_pipeline *p);
/* Adds one complete entry [off, end) of the source. */
void ta_pipeline_emit(ta_pipeline *p, const ta_emit_src *src, const char *line, size_t len,
                      uint64_t off, uint64_t end, int64_t observed_ns);
/* Extends the source's span to `end` without a record (e.g. skipped bytes). */
void ta_pipeline_skip(ta_pipeline *p, const ta_emit_src *src, uint64_t end);
/* Sends the open batch, if any. */
void ta_pipeline_flush(ta_pipeline *p);
/* CLOCK_MONOTONIC ns when the open batch must be flushed (INT64_MAX if none). */
int64_t ta_pipeline_deadline(const ta_pipeline *p);
uint32_t ta_pipeline_inflight(const ta_pipeline *p);
/* Flushes, then waits (running ack processing) until nothing is in flight or
 * deadline (CLOCK_MONOTONIC ns); outputs then abandon what is left. */
void ta_pipeline_drain(ta_pipeline *p, int64_t deadline_ns);

#endif
