/* sighup.c — reopen files on SIGHUP (logrotate's "move, then kill -HUP").
 *
 * The handler only sets each handler's reopen flag (trail_reopen_all is
 * async-signal-safe); the writer reopens before its next write. Then it
 * chains to the handler that was installed before, so the application's own
 * SIGHUP handling (config reload) keeps working. A previous SIG_DFL (which
 * would terminate the process) or SIG_IGN is not chained. */
#include "core_impl.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>

static struct sigaction previous;
static int installed;
static pthread_mutex_t install_mu = PTHREAD_MUTEX_INITIALIZER;

static void on_sighup(int sig, siginfo_t *info, void *uctx) {
    int saved = errno;
    trail_reopen_all();
    if (previous.sa_flags & SA_SIGINFO) {
        if (previous.sa_sigaction) previous.sa_sigaction(sig, info, uctx);
    } else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
        previous.sa_handler(sig);
    }
    errno = saved;
}

int trail_reopen_on_sighup(void) {
    pthread_mutex_lock(&install_mu);
    int rc = 0;
    if (!installed) {
        /* Read the previous action before installing ours, so `previous` is
         * complete before our handler can run. */
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_sighup;
        sa.sa_flags = SA_SIGINFO | SA_RESTART;
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGHUP, NULL, &previous) != 0 || sigaction(SIGHUP, &sa, NULL) != 0)
            rc = trail__error(-errno, "trail_reopen_on_sighup: cannot install the SIGHUP handler: %s",
                              trail_strerror(errno));
        else if (previous.sa_sigaction == on_sighup)
            previous.sa_handler = SIG_DFL; /* never chain to ourselves */
        installed = rc == 0;
    }
    pthread_mutex_unlock(&install_mu);
    return rc;
}
