/* loop.c — see loop.h. */
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

typedef struct handler {
    int fd;
    ta_loop_fn fn;
    void *arg;
} handler;

struct ta_loop {
    int ep;
    handler h[64];
    int n;
};

ta_loop *ta_loop_new(void) {
    ta_loop *l = calloc(1, sizeof *l);
    if (!l) abort();
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    if (l->ep < 0) abort();
    return l;
}

void ta_loop_free(ta_loop *l) {
    if (!l) return;
    close(l->ep);
    free(l);
}

int ta_loop_add(ta_loop *l, int fd, ta_loop_fn fn, void *arg) {
    if (fd < 0) return 0;
    if (l->n == 64) return -ENOSPC;
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)l->n};
    if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) < 0) return -errno;
    l->h[l->n++] = (handler){fd, fn, arg};
    return 0;
}

void ta_loop_del(ta_loop *l, int fd) {
    for (int i = 0; i < l->n; i++) {
        if (l->h[i].fd != fd) continue;
        epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
        l->h[i].fd = -1; /* slot kept: epoll data holds indices */
        l->h[i].fn = NULL;
    }
}

void ta_loop_mute(ta_loop *l, int fd, bool mute) {
    for (int i = 0; i < l->n; i++) {
        if (l->h[i].fd != fd) continue;
        struct epoll_event ev = {.events = mute ? 0 : EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev);
    }
}

int ta_loop_wait(ta_loop *l, int timeout_ms) {
    struct epoll_event evs[16];
    int n = epoll_wait(l->ep, evs, 16, timeout_ms);
    int ran = 0;
    for (int i = 0; i < n; i++) {
        handler *h = &l->h[evs[i].data.u32];
        if (h->fn) {
            h->fn(h->arg);
            ran++;
        }
    }
    return ran;
}
