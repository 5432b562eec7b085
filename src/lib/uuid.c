/* uuid.c — UUID v4 and v7 (RFC 9562) and the random bytes behind every id.
 *
 * Randomness: getrandom(2) fills a 512-byte per-thread buffer, so one system
 * call serves ~32 UUIDs. A pthread_atfork child handler bumps a generation
 * that invalidates every thread's buffer: a forked child must not reuse the
 * parent's unread bytes (that would duplicate request ids across processes).
 *
 * v7 monotonicity (RFC 9562 §6.2, method 1 with a 22-bit counter): one
 * process-wide 64-bit state = unix_ms << 22 | counter, advanced with a CAS.
 * A new millisecond starts the counter at a random value below 2^21 (room to
 * count); within a millisecond it increments; if it overflows, the carry
 * advances the timestamp by 1 ms, which the RFC allows. If the wall clock
 * steps back the state simply keeps counting, so ids never go backwards. */
#include "random_impl.h"
#include "trail.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define RAND_BUF 512

static unsigned fork_gen;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static void on_fork_child(void) { __atomic_add_fetch(&fork_gen, 1, __ATOMIC_RELAXED); }
static void register_atfork(void) { pthread_atfork(NULL, NULL, on_fork_child); }

static _Thread_local struct {
    unsigned char buf[RAND_BUF];
    size_t pos; /* bytes already used; RAND_BUF = empty */
    unsigned gen;
    int init;
} rnd;

static void fill_kernel(unsigned char *p, size_t n) {
    while (n) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            /* No getrandom (very old kernel/seccomp): fall back to a time and
             * address mix; ids stay unique in practice, not unpredictable. */
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)(uintptr_t)p;
            for (size_t i = 0; i < n; i++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                p[i] = (unsigned char)x;
            }
            return;
        }
        p += r;
        n -= (size_t)r;
    }
}

void trail__random_bytes(void *out, size_t n) {
    unsigned char *o = out;
    unsigned gen = __atomic_load_n(&fork_gen, __ATOMIC_RELAXED);
    if (!rnd.init || rnd.gen != gen) {
        if (!rnd.init) pthread_once(&atfork_once, register_atfork);
        rnd.init = 1;
        rnd.gen = __atomic_load_n(&fork_gen, __ATOMIC_RELAXED);
        rnd.pos = RAND_BUF;
    }
    if (n > RAND_BUF / 2) {
        fill_kernel(o, n);
        return;
    }
    if (RAND_BUF - rnd.pos < n) {
        fill_kernel(rnd.buf, RAND_BUF);
        rnd.pos = 0;
    }
    memcpy(o, rnd.buf + rnd.pos, n);
    /* Wipe what was handed out: a later memory dump cannot replay old ids. */
    memset(rnd.buf + rnd.pos, 0, n);
    rnd.pos += n;
}

void trail__hex(const unsigned char *in, size_t n, char *out) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
}

static void format_uuid(const unsigned char b[16], char out[37]) {
    /* 8-4-4-4-12 */
    char *p = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) *p++ = '-';
        trail__hex(b + i, 1, p);
        p += 2;
    }
    *p = '\0';
}

void trail_uuid_v4(char out[37]) {
    unsigned char b[16];
    if (!out) return;
    trail__random_bytes(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* variant 10 */
    format_uuid(b, out);
}

#define V7_COUNTER_BITS 22
static uint64_t v7_state;

/* Next (ms << 22 | counter), strictly greater than any previous one. */
static uint64_t v7_next(uint64_t now_ms, uint32_t rand21) {
    uint64_t fresh = (now_ms << V7_COUNTER_BITS) | (rand21 & ((1u << (V7_COUNTER_BITS - 1)) - 1));
    uint64_t old = __atomic_load_n(&v7_state, __ATOMIC_RELAXED);
    for (;;) {
        uint64_t next = (old >> V7_COUNTER_BITS) < now_ms ? fresh : old + 1;
        if (__atomic_compare_exchange_n(&v7_state, &old, next, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
            return next;
    }
}

void trail_uuid_v7(char out[37]) {
    unsigned char b[16];
    if (!out) return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    trail__random_bytes(b, sizeof b);
    uint32_t r21 = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16;
    uint64_t st = v7_next(ms, r21);
    uint64_t t = st >> V7_COUNTER_BITS;
    uint32_t ctr = (uint32_t)(st & ((1u << V7_COUNTER_BITS) - 1));
    for (int i = 0; i < 6; i++) b[i] = (unsigned char)(t >> (40 - 8 * i)); /* 48-bit big-endian ms */
    /* counter: top 12 bits in rand_a, low 10 bits at the top of rand_b */
    b[6] = (unsigned char)(0x70 | ((ctr >> 18) & 0x0f));
    b[7] = (unsigned char)(ctr >> 10);
    b[8] = (unsigned char)(0x80 | ((ctr >> 4) & 0x3f));
    b[9] = (unsigned char)(((ctr & 0x0f) << 4) | (b[9] & 0x0f));
    format_uuid(b, out);
}
