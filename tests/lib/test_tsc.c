/* TSC timestamps follow the wall clock across steps: a clock set forward or
 * back (NTP step, settimeofday, a VM paused and resumed) must not leave
 * entries minutes off, nor bend the measured tick rate. The steps are
 * simulated with the clock's test offset, never on the machine's clock. */
#include "core_impl.h"
#include "runtime.h"
#include "test.h"

#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
static uint64_t ticks(void) { return __builtin_ia32_rdtsc(); }
#else
static uint64_t ticks(void) { return 0; } /* no TSC: tsc_or_skip() skips */
#endif

static int64_t error_ns(void) {
    int64_t a = trail__now_ns();
    int64_t t = trail__tsc_to_ns(ticks());
    int64_t b = trail__now_ns();
    int64_t mid = a + (b - a) / 2;
    return t > mid ? t - mid : mid - t;
}

static int tsc_or_skip(void) {
    trail__tsc_init();
    if (!trail__tsc_enabled) printf("skip: the TSC is not usable here\n");
    return trail__tsc_enabled;
}

static void step_and_check(int64_t step_ns) {
    if (!tsc_or_skip()) return;
    CHECK_INT(error_ns(), <, 1000000);
    __atomic_store_n(&trail__clock_test_offset_ns, step_ns, __ATOMIC_RELAXED);
    /* Before the resync the TSC still shows the old time. */
    CHECK_INT(error_ns(), >, 60LL * 1000000000);
    trail__tsc_resync();
    CHECK_INT(error_ns(), <, 1000000);
    /* The tick rate was not measured across the step: a second later the
     * conversion is still right, before and after the next resync. */
    struct timespec s = {1, 100 * 1000 * 1000};
    nanosleep(&s, NULL);
    CHECK_INT(error_ns(), <, 2000000);
    trail__tsc_resync();
    CHECK_INT(error_ns(), <, 1000000);
}

TEST(clock_stepped_forward) { step_and_check(26LL * 60 * 1000000000); }

TEST(clock_stepped_back) { step_and_check(-26LL * 60 * 1000000000); }

TEST(steady_clock_keeps_the_slope) {
    if (!tsc_or_skip()) return;
    for (int i = 0; i < 3; i++) {
        struct timespec s = {1, 50 * 1000 * 1000};
        nanosleep(&s, NULL);
        trail__tsc_resync();
        CHECK_INT(error_ns(), <, 1000000);
    }
}
