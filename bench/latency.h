/* latency.h — per-call timing with rdtscp, shared by every peer so each
 * logger is timed by exactly the same code (C and C++). */
#ifndef BENCH_LATENCY_H
#define BENCH_LATENCY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How producers pace themselves in latency runs: `burst` timed calls, then a
 * sleep of pause_ns so an async backend can drain. Without the pause the
 * ring fills and we would time back-pressure, not the call (that is what the
 * throughput run measures). */
typedef struct bench_pace {
    uint32_t burst;
    uint32_t pause_ns;
    uint64_t pause_cycles; /* pause_ns in TSC cycles (spin mode) */
    int spin;              /* 1: busy-wait (the core stays awake); 0: nanosleep */
} bench_pace;

/* rdtscp waits for earlier instructions to finish; the lfence keeps later
 * ones from starting before the timestamp is taken. The "memory" clobber
 * stops the compiler moving the timed statement across it. */
static inline uint64_t bench_tsc(void) {
    uint32_t lo, hi, aux;
    __asm__ __volatile__("rdtscp\n\tlfence" : "=a"(lo), "=d"(hi), "=c"(aux)::"memory");
    return ((uint64_t)hi << 32) | lo;
}

/* Waits pace->pause_ns: spinning on the TSC, or sleeping (timer slack is
 * set to 1 ns by the harness). */
void bench_pause(const bench_pace *pace);

/* Times `stmt` once per index i in [0, n): samples[i] = TSC cycles.
 * `i` is visible to stmt (used as the entry's qty). */
#define BENCH_LATENCY_LOOP(samples, n, pace, i, stmt)                         \
    do {                                                                      \
        size_t i = 0;                                                         \
        while (i < (n)) {                                                     \
            size_t bench_end_ = i + (pace)->burst;                            \
            if (bench_end_ > (n)) bench_end_ = (n);                           \
            for (; i < bench_end_; i++) {                                     \
                uint64_t bench_t0_ = bench_tsc();                             \
                stmt;                                                         \
                uint64_t bench_d_ = bench_tsc() - bench_t0_;                  \
                (samples)[i] = bench_d_ > UINT32_MAX ? UINT32_MAX : (uint32_t)bench_d_; \
            }                                                                 \
            bench_pause(pace);                                                \
        }                                                                     \
    } while (0)

/* TSC frequency in cycles per nanosecond, calibrated against
 * CLOCK_MONOTONIC_RAW over ~200 ms (done once, in the parent). */
double bench_tsc_calibrate(void);

typedef struct bench_pcts {
    double p50, p99, p999, p9999, max, mean; /* nanoseconds */
    uint64_t n;
} bench_pcts;

/* Sorts samples in place and fills percentiles in ns. */
void bench_percentiles(uint32_t *samples, size_t n, double cycles_per_ns, bench_pcts *out);

#ifdef __cplusplus
}
#endif
#endif
