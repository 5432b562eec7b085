/* out_store.h — the embedded store behind traild's "store" output, shared
 * in-process: the output and the query side (HTTP API in traild) use the
 * same trail_store handle, reference-counted by directory, so a config
 * reload (new generation while the old one drains) reuses the open store
 * instead of fighting over its LOCK. */
#ifndef TRAILD_OUT_STORE_H
#define TRAILD_OUT_STORE_H

#include "store.h"

/* A reference to the open store of `dir` (NULL: the most recently opened
 * store output's), or NULL if none is open. Release it when done. */
trail_store *ta_store_acquire(const char *dir);
void ta_store_release(trail_store *s);

#endif
