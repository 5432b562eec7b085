/* tsc.c — timestamps for the hot path.
 *
 * Reading CLOCK_REALTIME costs ~20 ns even through the vDSO, the whole
 * budget of a log call, so producers store raw TSC ticks and the writer
 * converts them: ns = base_ns + (ticks - base_tsc) * mult >> 32. The TSC is
 * used only when the CPU says it is invariant (constant_tsc + nonstop_tsc)
 * and the kernel itself trusts it as its clocksource; otherwise raw values
 * are nanoseconds from clock_gettime. The conversion starts from a short
 * calibration at setup and is refined by the backend about once a second
 * against a long baseline, re-anchored so it tracks NTP adjustments. */
#include "core_impl.h"
#include "runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int trail__tsc_enabled;

/* Conversion parameters: written by setup and the backend, read by the
 * writer (relaxed atomics; a reader mixing two generations is off by at
 * most the resync correction, nanoseconds). */
static uint64_t base_tsc;
static int64_t base_ns;
static uint64_t mult; /* ns per tick, 32.32 fixed point */
/* The long baseline the slope is measured over. */
static uint64_t origin_tsc;
static int64_t origin_ns;
static int64_t last_resync_ns;

static int file_contains(const char *path, const char *const *words, int nwords, int all) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[4096];
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        int hits = 0;
        for (int i = 0; i < nwords; i++) hits += strstr(line, words[i]) != NULL;
        if (all ? hits == nwords : hits > 0) {
            found = 1;
            break;
        }
    }
    fclose(f);
    return found;
}

static int tsc_usable(void) {
#if defined(__x86_64__) || defined(__i386__)
    const char *env = getenv("TRAIL_TSC");
    if (env && strcmp(env, "0") == 0) return 0;
    static const char *const flags[] = {" constant_tsc", " nonstop_tsc"};
    static const char *const tsc[] = {"tsc"};
    return file_contains("/proc/cpuinfo", flags, 2, 1) &&
           file_contains("/sys/devices/system/clocksource/clocksource0/current_clocksource", tsc, 1, 0);
#else
    return 0;
#endif
}

#if defined(__x86_64__) || defined(__i386__)
static uint64_t rdtsc(void) { return __builtin_ia32_rdtsc(); }
#else
static uint64_t rdtsc(void) { return 0; }
#endif

/* A (tsc, ns) pair taken close together: the tightest of a few tries. */
static void sample(uint64_t *tsc, int64_t *ns) {
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < 5; i++) {
        uint64_t a = rdtsc();
        int64_t n = trail__now_ns();
        uint64_t b = rdtsc();
        if (b - a < best) {
            best = b - a;
            *tsc = a + (b - a) / 2;
            *ns = n;
        }
    }
}

static void store_params(uint64_t t, int64_t n, uint64_t m) {
    __atomic_store_n(&base_tsc, t, __ATOMIC_RELAXED);
    __atomic_store_n(&base_ns, n, __ATOMIC_RELAXED);
    __atomic_store_n(&mult, m, __ATOMIC_RELAXED);
}

void trail__tsc_init(void) {
    trail__tsc_enabled = 0;
    if (!tsc_usable()) return;
    uint64_t t0 = 0, t1 = 0;
    int64_t n0 = 0, n1 = 0;
    sample(&t0, &n0);
    struct timespec pause = {0, 5 * 1000 * 1000};
    nanosleep(&pause, NULL);
    sample(&t1, &n1);
    if (t1 <= t0 || n1 <= n0) return;
    uint64_t m = (uint64_t)(((unsigned __int128)(n1 - n0) << 32) / (t1 - t0));
    if (m == 0) return;
    origin_tsc = t0;
    origin_ns = n0;
    last_resync_ns = n1;
    store_params(t1, n1, m);
    trail__tsc_enabled = 1;
}

/* Beyond this gap between the converted TSC and the wall clock, the clock
 * stepped (settimeofday, NTP step) or the TSC jumped (VM pause, migration):
 * measuring a slope across the jump would be wrong, so start a new
 * baseline at the current pair. */
#define TSC_STEP_NS 2000000

void trail__tsc_resync(void) {
    if (!trail__tsc_enabled) return;
    uint64_t t = 0;
    int64_t n = 0;
    sample(&t, &n);
    int64_t since = n - last_resync_ns;
    if (since >= 0 && since < 1000000000) return;
    last_resync_ns = n;
    int64_t drift = trail__tsc_to_ns(t) - n;
    if (since < 0 || drift > TSC_STEP_NS || drift < -TSC_STEP_NS || t <= origin_tsc || n <= origin_ns) {
        origin_tsc = t;
        origin_ns = n;
        store_params(t, n, __atomic_load_n(&mult, __ATOMIC_RELAXED));
        return;
    }
    uint64_t m = (uint64_t)(((unsigned __int128)(n - origin_ns) << 32) / (t - origin_tsc));
    if (m) store_params(t, n, m);
}

int64_t trail__tsc_to_ns(uint64_t raw) {
    if (!trail__tsc_enabled) return (int64_t)raw;
    uint64_t bt = __atomic_load_n(&base_tsc, __ATOMIC_RELAXED);
    int64_t bn = __atomic_load_n(&base_ns, __ATOMIC_RELAXED);
    uint64_t m = __atomic_load_n(&mult, __ATOMIC_RELAXED);
    if (raw >= bt) return bn + (int64_t)(((unsigned __int128)(raw - bt) * m) >> 32);
    return bn - (int64_t)(((unsigned __int128)(bt - raw) * m) >> 32);
}
