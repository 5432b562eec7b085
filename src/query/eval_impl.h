/* eval_impl.h — internals shared by the evaluator's files: string and id
 * maps, push-down hints, and the two evaluation entry points. */
#ifndef TRAIL_EVAL_IMPL_H
#define TRAIL_EVAL_IMPL_H

#include <stdint.h>

#include "logql_pipeline.h"
#include "query.h"

/* String -> index map (open addressing; keys copied). */
typedef struct smap {
    char **keys;
    size_t *lens;
    size_t *vals;
    size_t cap, n;
} smap;

size_t smap_slot(smap *m, const char *key, size_t n, int *found);
size_t smap_get_or_add(smap *m, const char *key, size_t n, size_t next_index, int *added);
void smap_free(smap *m);

/* Stream id -> output index, for pipelines that add no labels: then an
 * entry's output labels are its stream's, and the key need not be rebuilt
 * (sorting and escaping labels per entry dominated metric queries). */
typedef struct idcache {
    uint64_t *ids;
    size_t *idx;
    size_t cap, n;
} idcache;

int idcache_get(const idcache *c, uint64_t id, size_t *idx);
void idcache_put(idcache *c, uint64_t id, size_t idx);
void idcache_free(idcache *c);

/* Does any stage add labels (so output labels differ from the stream's)? */
int pipeline_extracts(const tq_log_expr *le);

double tq_now_mono(void);
tq_label *copy_plabels(tq_arena *a, const tq_pipe *p);

/* Push-down hints (see build_hints). */
typedef struct hints {
    tq_label eq[8];
    size_t neq;
    const char *contains[8];
    size_t ncontains;
} hints;

void build_hints(const tq_log_expr *le, hints *h, tq_scan *s);

int eval_log(const tq_log_expr *le, const tq_params *p, const tq_source *src, tq_result *r, char *err, size_t errlen);
/* Evaluates a metric query into r (series, sorted). */
int eval_metric_query(const tq_query *q, const tq_params *p, const tq_source *src, tq_result *r, char *err,
                      size_t errlen);

#endif
