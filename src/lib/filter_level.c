/* filter_level.c — built-in filter: minimum level. */
#include "filter_impl.h"

#include <stdint.h>

static int level_keep(trail_entry *e, void *ud) { return e->level >= (int)(intptr_t)ud; }

trail_filter *trail_filter_level(int min_level) {
    return trail_filter_custom(level_keep, (void *)(intptr_t)min_level, NULL);
}
