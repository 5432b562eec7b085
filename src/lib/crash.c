/* crash.c — fatal signals (SEGV, ABRT, BUS, FPE, ILL) and SIGTERM: drain
 * what is queued, then chain to the handler installed before ours.
 *
 * The drain asks the backend for one more pass and waits for it with
 * async-signal-safe calls only (atomics, futex, nanosleep), bounded in
 * time. When the backend cannot do it (the crash is on the backend thread,
 * or it does not answer in time), the crashing thread drains inline if the
 * configuration mutex is free: not async-signal-safe, but the process is
 * going down and the entries are worth the risk. Then: a previous handler
 * function is called directly (ours stays installed); a default action is
 * restored and the signal re-raised, so the exit status shows the signal. */
#include "runtime.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#define DRAIN_TIMEOUT_MS 2000

static const int crash_signals[] = {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL, SIGTERM};
#define NSIG_HANDLED (int)(sizeof crash_signals / sizeof crash_signals[0])
static struct sigaction previous[NSIG_HANDLED];
static int draining;

static int slot_of(int sig) {
    for (int i = 0; i < NSIG_HANDLED; i++)
        if (crash_signals[i] == sig) return i;
    return -1;
}

static void drain(void) {
    if (!__atomic_load_n(&trail__rt.initialized, __ATOMIC_ACQUIRE) || trail__rt.mode != TRAIL_ASYNC) return;
    if (trail__backend_running() && !trail__backend_is_self() && trail__backend_wait_pass(DRAIN_TIMEOUT_MS) == 0)
        return;
    if (!trail__backend_is_self()) trail__backend_drain_inline();
}

static void on_signal(int sig, siginfo_t *info, void *uctx) {
    int saved_errno = errno;
    int slot = slot_of(sig);
    if (!__atomic_exchange_n(&draining, 1, __ATOMIC_SEQ_CST)) drain();
    struct sigaction prev = previous[slot];
    if ((prev.sa_flags & SA_SIGINFO) && prev.sa_sigaction) {
        __atomic_store_n(&draining, 0, __ATOMIC_SEQ_CST);
        prev.sa_sigaction(sig, info, uctx);
        errno = saved_errno;
        return;
    }
    if (!(prev.sa_flags & SA_SIGINFO) && prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN) {
        __atomic_store_n(&draining, 0, __ATOMIC_SEQ_CST);
        prev.sa_handler(sig);
        errno = saved_errno;
        return;
    }
    if (!(prev.sa_flags & SA_SIGINFO) && prev.sa_handler == SIG_IGN && sig == SIGTERM) {
        __atomic_store_n(&draining, 0, __ATOMIC_SEQ_CST);
        errno = saved_errno;
        return;
    }
    /* Default action: restore it and re-raise, unblocked, so the process
     * ends the way it would have without us. */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    errno = saved_errno;
}

int trail__crash_install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < NSIG_HANDLED; i++) sigaddset(&sa.sa_mask, crash_signals[i]);
    for (int i = 0; i < NSIG_HANDLED; i++) {
        struct sigaction cur;
        sigaction(crash_signals[i], NULL, &cur);
        if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_signal) continue; /* already ours */
        if (sigaction(crash_signals[i], &sa, &previous[i]) != 0) return -errno;
    }
    return 0;
}

void trail__crash_uninstall(void) {
    for (int i = 0; i < NSIG_HANDLED; i++) {
        struct sigaction cur;
        sigaction(crash_signals[i], NULL, &cur);
        /* Someone installed a handler after us: leave theirs in place. */
        if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_signal) sigaction(crash_signals[i], &previous[i], NULL);
    }
}
