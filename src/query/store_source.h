/* store_source.h — the embedded store (src/store) as a tq_source. */
#ifndef TRAIL_STORE_SOURCE_H
#define TRAIL_STORE_SOURCE_H

#include "tq_source.h"

struct trail_store;

/* A tq_source reading (and, for push, writing) the store. The store must
 * outlive every use of the source. push_category: the category of pushed
 * streams without a valid `category` label (NULL = "app"). */
tq_source tq_store_source(struct trail_store *store, const char *push_category);
void tq_store_source_free(tq_source *src);

#endif
