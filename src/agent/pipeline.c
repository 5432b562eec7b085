/* pipeline.c — batches entries, hands each batch to every output, and
 * commits read positions strictly in batch order once every output is done.
 *
 * A "group" is one batch plus its per-output copies. Outputs finish copies
 * on any thread (ta_batch_done); the last one to finish a group pushes it on
 * a mutex-protected list and pokes an eventfd; the loop thread then marks it
 * done and commits the longest done prefix of the in-flight FIFO. Committing
 * only a prefix is what makes "positions advance only after every output
 * acked all earlier data" hold across outputs of different speeds. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "agent_log.h"
#include "arena.h"
#include "pipeline_impl.h"
#include "timefmt.h"

struct span_priv {
    void (*commit)(void *ctx, const ta_span *s);
    void *ctx;
};

typedef struct ta_batch_group {
    struct ta_batch_group *next;      /* in-flight FIFO */
    struct ta_batch_group *done_next; /* done list (under ack lock) */
    ta_pipeline *p;
    ta_arena *arena;
    uint64_t seq;
    ta_record *recs;
    uint32_t nrecs, cap;
    ta_span *spans;
    struct span_priv *priv;
    uint32_t nspans, spans_cap;
    size_t bytes;
    int64_t opened_mono;
    ta_batch *copies;                 /* one per output */
    atomic_uint pending;
    atomic_bool abandoned;
    bool done;
} ta_batch_group;

struct ta_pipeline {
    ta_pipeline_conf c;
    ta_out_slot *outs;
    uint32_t nouts;
    ta_batch_group *open;             /* being filled */
    ta_batch_group *head, *tail;      /* in flight, oldest first */
    uint32_t inflight;
    uint64_t next_seq;
    bool stop_commits;                /* after an abandoned batch nothing later commits */
    int efd;
    pthread_mutex_t lock;
    ta_batch_group *done_list;
};

ta_pipeline *ta_pipeline_new(const ta_pipeline_conf *c, ta_out_slot *outs, uint32_t nouts) {
    ta_pipeline *p = calloc(1, sizeof *p);
    if (!p) abort();
    p->c = *c;
    if (!p->c.batch_max_records) p->c.batch_max_records = 4096;
    if (!p->c.batch_max_bytes) p->c.batch_max_bytes = 1 << 20;
    if (!p->c.max_inflight) p->c.max_inflight = 4;
    if (p->c.batch_max_records > 65535 * 16) p->c.batch_max_records = 65535 * 16;
    p->outs = outs;
    p->nouts = nouts;
    p->next_seq = 1;
    p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (p->efd < 0) abort();
    pthread_mutex_init(&p->lock, NULL);
    return p;
}

static void group_free(ta_batch_group *g) {
    ta_arena_free(g->arena);
    free(g->recs);
    free(g->spans);
    free(g->priv);
    free(g->copies);
    free(g);
}

void ta_pipeline_free(ta_pipeline *p) {
    if (!p) return;
    ta_pipeline_process_acks(p);
    if (p->open) group_free(p->open);
    /* Groups still in flight belong to outputs that were not drained; a
     * caller must drain first. Free what is left to keep exit clean. */
    for (ta_batch_group *g = p->head, *n; g; g = n) {
        n = g->next;
        group_free(g);
    }
    close(p->efd);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

int ta_pipeline_fd(ta_pipeline *p) { return p->efd; }
bool ta_pipeline_accepting(const ta_pipeline *p) { return p->inflight < p->c.max_inflight; }
uint32_t ta_pipeline_inflight(const ta_pipeline *p) { return p->inflight; }

int64_t ta_pipeline_deadline(const ta_pipeline *p) {
    if (!p->open) return INT64_MAX;
    return p->open->opened_mono + p->c.batch_max_wait_ns;
}

static ta_batch_group *open_group(ta_pipeline *p) {
    if (p->open) return p->open;
    ta_batch_group *g = calloc(1, sizeof *g);
    if (!g) abort();
    g->p = p;
    g->arena = ta_arena_new();
    g->seq = p->next_seq++;
    g->opened_mono = ta_mono_ns();
    p->open = g;
    return g;
}

static uint16_t span_for(ta_batch_group *g, const ta_emit_src *src) {
    /* Sources interleave little within a batch: search from the end. */
    for (uint32_t i = g->nspans; i-- > 0;)
        if (g->spans[i].source == src->source && g->priv[i].ctx == src->ctx) return (uint16_t)i;
    if (g->nspans == g->spans_cap) {
        g->spans_cap = g->spans_cap ? g->spans_cap * 2 : 8;
        g->spans = realloc(g->spans, g->spans_cap * sizeof *g->spans);
        g->priv = realloc(g->priv, g->spans_cap * sizeof *g->priv);
        if (!g->spans || !g->priv) abort();
    }
    ta_span *s = &g->spans[g->nspans];
    s->source = src->source;
    s->input = src->info;
    s->path = src->path ? ta_arena_strndup(g->arena, src->path, strlen(src->path)) : NULL;
    s->id = src->id;
    s->begin = UINT64_MAX;
    s->end = 0;
    g->priv[g->nspans].commit = src->commit;
    g->priv[g->nspans].ctx = src->ctx;
    return (uint16_t)g->nspans++;
}

static bool group_full(const ta_pipeline *p, const ta_batch_group *g) {
    return g->nrecs >= p->c.batch_max_records || g->bytes >= p->c.batch_max_bytes ||
           g->nspans >= 60000;
}

void ta_pipeline_skip(ta_pipeline *p, const ta_emit_src *src, uint64_t end) {
    ta_batch_group *g = open_group(p);
    ta_span *s = &g->spans[span_for(g, src)];
    if (s->begin == UINT64_MAX) s->begin = end;
    if (end > s->end) s->end = end;
}

void ta_pipeline_emit(ta_pipeline *p, const ta_emit_src *src, const char *line, size_t len,
                      uint64_t off, uint64_t end, int64_t observed_ns) {
    ta_batch_group *g = open_group(p);
    uint16_t si = span_for(g, src);
    ta_span *s = &g->spans[si];
    if (s->begin == UINT64_MAX) s->begin = off;
    if (end > s->end) s->end = end;
    if (src->stats) {
        atomic_fetch_add_explicit(&src->stats->lines, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&src->stats->bytes, end - off, memory_order_relaxed);
    }
    if (g->nrecs == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 256;
        g->recs = realloc(g->recs, g->cap * sizeof *g->recs);
        if (!g->recs) abort();
    }
    ta_record *r = &g->recs[g->nrecs];
    memset(r, 0, sizeof *r);
    r->line = ta_arena_strndup(g->arena, line, len);
    r->line_len = (uint32_t)len;
    r->observed_ns = observed_ns;
    r->ts_ns = observed_ns;
    r->span = si;
    r->offset = off;
    r->input = src->info;
    if (src->parser && src->parser->type->parse(src->parser, r, g->arena) < 0) {
        r->parse_error = true;
        if (src->stats) atomic_fetch_add_explicit(&src->stats->parse_errors, 1, memory_order_relaxed);
    }
    for (uint32_t i = 0; i < src->nprocs; i++) {
        if (src->procs[i]->type->process(src->procs[i], r, g->arena) == TA_DROP) {
            if (src->stats) atomic_fetch_add_explicit(&src->stats->dropped, 1, memory_order_relaxed);
            if (group_full(p, g)) ta_pipeline_flush(p);
            return; /* the span still covers it: committed like a shipped line */
        }
    }
    g->nrecs++;
    g->bytes += len;
    if (group_full(p, g)) ta_pipeline_flush(p);
}

/* Builds output i's view: shared records, or a private copy run through
 * that output's processors. */
static void make_copy(ta_pipeline *p, ta_batch_group *g, uint32_t i) {
    ta_batch *b = &g->copies[i];
    ta_out_slot *o = &p->outs[i];
    b->seq = g->seq;
    b->spans = g->spans;
    b->nspans = g->nspans;
    b->group = g;
    if (!o->nprocs) {
        b->recs = g->recs;
        b->nrecs = g->nrecs;
        b->bytes = g->bytes;
        return;
    }
    b->recs = ta_arena_alloc(g->arena, (g->nrecs ? g->nrecs : 1) * sizeof *b->recs);
    b->nrecs = 0;
    b->bytes = 0;
    for (uint32_t r = 0; r < g->nrecs; r++) {
        ta_record *rec = &b->recs[b->nrecs];
        *rec = g->recs[r];
        if (rec->nfields) { /* private fields: processors may edit them in place */
            rec->fields = ta_arena_alloc(g->arena, rec->nfields * sizeof *rec->fields);
            memcpy(rec->fields, g->recs[r].fields, rec->nfields * sizeof *rec->fields);
            rec->fields_cap = rec->nfields;
        }
        int keep = TA_KEEP;
        for (uint32_t k = 0; k < o->nprocs && keep == TA_KEEP; k++)
            keep = o->procs[k]->type->process(o->procs[k], rec, g->arena);
        if (keep == TA_KEEP) {
            b->nrecs++;
            b->bytes += rec->line_len;
        }
    }
}

static void commit_ready(ta_pipeline *p);

void ta_pipeline_flush(ta_pipeline *p) {
    ta_batch_group *g = p->open;
    if (!g) return;
    p->open = NULL;
    g->copies = calloc(p->nouts ? p->nouts : 1, sizeof *g->copies);
    if (!g->copies) abort();
    for (uint32_t i = 0; i < p->nouts; i++) make_copy(p, g, i);
    if (p->tail) p->tail->next = g;
    else p->head = g;
    p->tail = g;
    p->inflight++;
    atomic_store(&g->pending, p->nouts);
    if (!p->nouts) g->done = true;
    for (uint32_t i = 0; i < p->nouts; i++) {
        ta_output *o = p->outs[i].out;
        atomic_fetch_add_explicit(&o->stats->inflight, 1, memory_order_relaxed);
        if (o->type->submit(o, &g->copies[i]) < 0) {
            ta_error("output %s refused a batch; it will be re-read next start", o->name);
            ta_batch_done(&g->copies[i], TA_ABANDONED, 0);
        }
    }
    commit_ready(p);
}

void ta_batch_done(ta_batch *b, ta_result r, uint32_t n_invalid) {
    ta_batch_group *g = b->group;
    ta_pipeline *p = g->p;
    ta_output *o = p->outs[b - g->copies].out;
    ta_output_stats *st = o->stats;
    atomic_fetch_sub_explicit(&st->inflight, 1, memory_order_relaxed);
    if (r == TA_ABANDONED) {
        atomic_store(&g->abandoned, true);
    } else {
        if (n_invalid > b->nrecs) n_invalid = b->nrecs;
        atomic_fetch_add_explicit(&st->batches, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&st->records, b->nrecs - n_invalid, memory_order_relaxed);
        atomic_fetch_add_explicit(&st->records_invalid, n_invalid, memory_order_relaxed);
    }
    if (atomic_fetch_sub(&g->pending, 1) != 1) return;
    pthread_mutex_lock(&p->lock);
    g->done_next = p->done_list;
    p->done_list = g;
    pthread_mutex_unlock(&p->lock);
    uint64_t one = 1;
    ssize_t w = write(p->efd, &one, sizeof one);
    (void)w; /* EAGAIN only when the counter is saturated: still readable */
}

static void commit_ready(ta_pipeline *p) {
    while (p->head && p->head->done) {
        ta_batch_group *g = p->head;
        p->head = g->next;
        if (!p->head) p->tail = NULL;
        p->inflight--;
        if (atomic_load(&g->abandoned)) p->stop_commits = true;
        if (!p->stop_commits)
            for (uint32_t i = 0; i < g->nspans; i++)
                if (g->priv[i].commit && g->spans[i].end >= g->spans[i].begin)
                    g->priv[i].commit(g->priv[i].ctx, &g->spans[i]);
        group_free(g);
    }
}

void ta_pipeline_process_acks(ta_pipeline *p) {
    uint64_t v;
    while (read(p->efd, &v, sizeof v) > 0) {}
    pthread_mutex_lock(&p->lock);
    ta_batch_group *list = p->done_list;
    p->done_list = NULL;
    pthread_mutex_unlock(&p->lock);
    for (; list; list = list->done_next) list->done = true;
    commit_ready(p);
}

void ta_pipeline_drain(ta_pipeline *p, int64_t deadline_ns) {
    ta_pipeline_flush(p);
    while (p->inflight && ta_mono_ns() < deadline_ns) {
        struct pollfd pfd = {.fd = p->efd, .events = POLLIN};
        int64_t left_ms = (deadline_ns - ta_mono_ns()) / 1000000;
        poll(&pfd, 1, left_ms > 100 ? 100 : left_ms < 1 ? 1 : (int)left_ms);
        ta_pipeline_process_acks(p);
    }
    /* Past the deadline (or done): outputs give up on what they still hold. */
    for (uint32_t i = 0; i < p->nouts; i++)
        if (p->outs[i].out->type->drain) p->outs[i].out->type->drain(p->outs[i].out, deadline_ns);
    ta_pipeline_process_acks(p);
}
