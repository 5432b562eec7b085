/* arena.h — lifetime of an arena (allocation is declared in pipeline.h). */
#ifndef TRAILD_ARENA_H
#define TRAILD_ARENA_H
#include "pipeline.h"

ta_arena *ta_arena_new(void);
void ta_arena_free(ta_arena *a);
size_t ta_arena_size(const ta_arena *a); /* bytes reserved */

#endif
