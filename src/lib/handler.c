/* handler.c — the handler base: references, level, formatter, filters,
 * dispatch of one entry, the registry used by trail_reopen_all(). */
#include "handler_impl.h"
#include "core_impl.h"
#include "filter_impl.h"
#include "formatter_impl.h"

#include <pthread.h>
#include <stdlib.h>

/* Live handlers, for trail_reopen_all(). Only the list head is touched from
 * a signal handler (reading, never modifying), so handlers are linked in
 * under the mutex and unlinked under it too. */
static trail_handler *all_handlers;
static pthread_mutex_t all_mu = PTHREAD_MUTEX_INITIALIZER;

trail_handler *trail__handler_new(size_t size, const struct trail_handler_ops *ops, trail_formatter *fmt) {
    if (size < sizeof(trail_handler)) size = sizeof(trail_handler);
    trail_handler *h = calloc(1, size);
    if (!h) {
        trail_formatter_free(fmt);
        return NULL;
    }
    h->ops = ops;
    h->refs = 1;
    h->tty_fd = -1;
    h->formatter = fmt;
    pthread_mutex_lock(&all_mu);
    h->next_all = all_handlers;
    __atomic_store_n(&all_handlers, h, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&all_mu);
    return h;
}

void trail__handler_retain(trail_handler *h) {
    if (h) __atomic_fetch_add(&h->refs, 1, __ATOMIC_RELAXED);
}

void trail_handler_release(trail_handler *h) {
    if (!h || __atomic_sub_fetch(&h->refs, 1, __ATOMIC_ACQ_REL) != 0) return;
    pthread_mutex_lock(&all_mu);
    for (trail_handler **p = &all_handlers; *p; p = &(*p)->next_all) {
        if (*p == h) {
            __atomic_store_n(p, h->next_all, __ATOMIC_RELEASE);
            break;
        }
    }
    pthread_mutex_unlock(&all_mu);
    if (h->ops && h->ops->flush) h->ops->flush(h);
    if (h->ops && h->ops->destroy) h->ops->destroy(h);
    trail_formatter_free(h->formatter);
    trail__filters_free(h->filters);
    free(h);
}

void trail_handler_set_level(trail_handler *h, int level) {
    if (h) __atomic_store_n(&h->level, level, __ATOMIC_RELAXED);
}

void trail_handler_set_formatter(trail_handler *h, trail_formatter *f) {
    if (!h || !f) return;
    trail_formatter *old = h->formatter;
    if (f->bind_fd) f->bind_fd(f, h->tty_fd);
    h->formatter = f;
    trail_formatter_free(old);
}

void trail_handler_add_filter(trail_handler *h, trail_filter *f) {
    if (h) trail__filter_append(&h->filters, f);
    else trail_filter_free(f);
}

void trail_handler_reopen(trail_handler *h) {
    if (h) __atomic_store_n(&h->reopen_requested, 1, __ATOMIC_RELAXED);
}

void trail_reopen_all(void) {
    /* Async-signal-safe: atomic loads and stores only. */
    for (trail_handler *h = __atomic_load_n(&all_handlers, __ATOMIC_ACQUIRE); h; h = h->next_all)
        __atomic_store_n(&h->reopen_requested, 1, __ATOMIC_RELAXED);
}

int trail__handler_dispatch(trail_handler *h, const trail_entry *e, trail_buf *scratch) {
    if (e->level < __atomic_load_n(&h->level, __ATOMIC_RELAXED)) return 0;
    if (__atomic_load_n(&h->reopen_requested, __ATOMIC_RELAXED)) trail__handler_flush(h);
    trail_entry copy;
    if (h->filters) { /* filters may change the entry: this handler's own copy */
        copy = *e;
        if (!trail__filters_run(h->filters, &copy)) return 0;
        e = &copy;
    }
    scratch->len = 0;
    if (!h->formatter) return 0;
    int rc = h->formatter->format(h->formatter, e, scratch);
    if (rc < 0) return rc;
    rc = h->ops->write(h, e, scratch->data, scratch->len);
    return rc < 0 ? rc : 1;
}

int trail__handler_flush(trail_handler *h) {
    int rc = h->ops->flush ? h->ops->flush(h) : 0;
    if (__atomic_exchange_n(&h->reopen_requested, 0, __ATOMIC_RELAXED) && h->ops->reopen) h->ops->reopen(h);
    return rc;
}
