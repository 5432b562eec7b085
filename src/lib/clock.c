/* clock.c — wall-clock time for the slow paths (the hot path uses the TSC, see tsc.c). */
#include "core_impl.h"

#include <time.h>

/* Tests only: added to the wall clock to simulate clock steps without
 * touching the machine's clock. */
int64_t trail__clock_test_offset_ns;

int64_t trail__now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec +
           __atomic_load_n(&trail__clock_test_offset_ns, __ATOMIC_RELAXED);
}
