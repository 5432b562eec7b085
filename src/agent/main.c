/* main.c — traild command line: run, --check-config, --print-options. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "agent_log.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: traild --config FILE          run the agent\n"
            "       traild --check-config FILE    validate FILE and exit (0 = valid)\n"
            "       traild --print-options        print every config key with its default (Markdown)\n"
            "signals: SIGHUP reloads the config keeping positions; SIGTERM/SIGINT drain and save positions.\n");
}

int main(int argc, char **argv) {
    const char *config = NULL;
    bool check = false;
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", required_argument, NULL, 'k'},
        {"print-options", no_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'k':
            config = optarg;
            check = true;
            break;
        case 'p': ta_config_print_options(stdout); return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!config) {
        usage(stderr);
        return 2;
    }
    char err[1024];
    ta_config *cfg;
    if (ta_config_load(config, &cfg, err, sizeof err) < 0) {
        fprintf(stderr, "traild: %s\n", err);
        return 1;
    }
    if (check) {
        printf("%s: ok (%u input(s), %u output(s))\n", config, cfg->ninputs, cfg->noutputs);
        ta_config_free(cfg);
        return 0;
    }
    /* Block the signals the agent reads from a signalfd, before any thread
     * starts, so output threads inherit the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    ta_agent *a;
    if (ta_agent_new(cfg, config, &a, err, sizeof err) < 0) {
        fprintf(stderr, "traild: %s\n", err);
        return 1;
    }
    ta_info("running with %s", config);
    int r = ta_agent_run(a);
    ta_agent_free(a);
    return r == 0 ? 0 : 1;
}
