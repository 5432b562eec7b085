/* mem_source.h — an in-memory tq_source: entries kept in arrays, scanned in
 * full. Used by tests (as the brute-force reference's data) and by the API
 * when traild runs without a store. Thread-safe (one mutex). */
#ifndef TRAIL_MEM_SOURCE_H
#define TRAIL_MEM_SOURCE_H

#include "tq_source.h"

typedef struct tq_mem tq_mem;

tq_mem *tq_mem_new(void);
void tq_mem_free(tq_mem *m);
/* Adds one entry to the stream with these labels (any order; copied).
 * An exact duplicate (same stream, timestamp and line) is stored once. */
int tq_mem_add(tq_mem *m, const tq_label *labels, size_t nlabels, int64_t ts, const char *line, size_t len);
size_t tq_mem_count(const tq_mem *m);
/* A tq_source view of m. */
tq_source tq_mem_source(tq_mem *m);

#endif
