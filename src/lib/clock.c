/* clock.c — wall-clock time for the slow paths (the hot path uses the TSC, see tsc.c). */
#include "core_impl.h"

#include <time.h>

int64_t trail__now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
