/* proc_util_test.h — start/stop child processes and speak minimal HTTP on
 * 127.0.0.1 for the integration tests. Every wait is bounded. */
#ifndef TRAILD_PROC_UTIL_TEST_H
#define TRAILD_PROC_UTIL_TEST_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

static inline void pu_sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* A free TCP port on 127.0.0.1 (bind to 0, read it back). */
static inline int pu_free_port(void) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK(bind(s, (struct sockaddr *)&a, sizeof a) == 0);
    socklen_t l = sizeof a;
    getsockname(s, (struct sockaddr *)&a, &l);
    close(s);
    return ntohs(a.sin_port);
}

/* fork+exec argv with stdout/stderr to logpath; env entries "K=V" added. */
static inline pid_t pu_spawn(char *const argv[], const char *logpath, char *const env[]) {
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* dies with the test, even when the test fails or times out */
        int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        for (int i = 0; env && env[i]; i++) putenv(env[i]);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execvp(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static inline void pu_stop(pid_t pid, int sig) {
    if (pid <= 0) return;
    kill(pid, sig);
    for (int i = 0; i < 100; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid) return;
        pu_sleep_ms(50);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* One HTTP/1.0-style request; returns the status code or -1. */
static inline int pu_http_get(int port, const char *path, const char *ua) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {5, 0};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
        close(s);
        return -1;
    }
    char req[1024];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: %s\r\nConnection: close\r\n\r\n",
                     path, port, ua);
    if (write(s, req, (size_t)n) != n) {
        close(s);
        return -1;
    }
    char resp[4096];
    size_t got = 0;
    ssize_t r;
    while (got < sizeof resp - 1 && (r = read(s, resp + got, sizeof resp - 1 - got)) > 0) got += (size_t)r;
    resp[got] = 0;
    close(s);
    int code = -1;
    if (sscanf(resp, "HTTP/%*s %d", &code) != 1) return -1;
    return code;
}

/* Waits until a server answers on port (bounded). */
static inline bool pu_wait_http(int port) {
    for (int i = 0; i < 100; i++) {
        if (pu_http_get(port, "/ready-probe", "probe") > 0) return true;
        pu_sleep_ms(100);
    }
    return false;
}

/* Occurrences of needle in hay. A plain loop: sanitizer interceptors make
 * repeated strstr over a large buffer quadratic. */
static inline int count_in(const char *hay, const char *needle) {
    if (!hay) return 0;
    size_t nl = strlen(needle), hl = strlen(hay);
    int n = 0;
    for (size_t i = 0; nl && i + nl <= hl; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, nl) == 0) {
            n++;
            i += nl - 1;
        }
    return n;
}

/* Waits until file contains needle (bounded); returns the content or NULL. */
static inline char *pu_wait_file(const char *path, const char *needle, int count) {
    for (int i = 0; i < 200; i++) {
        char *s = test_read_file(path, NULL);
        if (s && count_in(s, needle) >= count) return s;
        free(s);
        pu_sleep_ms(100);
    }
    return NULL;
}


#endif
