/* loki_receiver_main.c — the test Loki receiver as a program, for the
 * benchmark and for trying traild by hand:
 *   loki_receiver PORT [fail_status fail_percent]
 * Serves until SIGINT/SIGTERM, then prints its counters (also at GET /stats). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "loki_receiver.h"

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: loki_receiver PORT [fail_status fail_percent]\n");
        return 2;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    lr_conf c = {.port = atoi(argv[1]), .window_ns = 3600LL * 1000000000, .max_age_ns = 7 * 86400LL * 1000000000};
    lr_server *s = lr_start(&c);
    if (!s) {
        fprintf(stderr, "loki_receiver: cannot listen on 127.0.0.1:%s\n", argv[1]);
        return 1;
    }
    if (argc >= 4) lr_fail_percent(s, atoi(argv[2]), atoi(argv[3]), (unsigned)getpid());
    fprintf(stderr, "loki_receiver: listening on 127.0.0.1:%d\n", lr_port(s));
    int sig;
    sigwait(&set, &sig);
    lr_stats st = lr_get_stats(s);
    printf("requests %llu accepted %llu duplicates %llu rejected %llu bytes %llu\n", (unsigned long long)st.requests,
           (unsigned long long)st.accepted, (unsigned long long)st.duplicates, (unsigned long long)st.rejected,
           (unsigned long long)st.bytes);
    lr_stop(s);
    return 0;
}
