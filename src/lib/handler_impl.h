/* handler_impl.h — the handler interface. A handler is only ever called
 * from one writer at a time: the backend thread in async mode, or the
 * caller holding the sync-mode mutex. Owned by handler.c and handler_*.c. */
#ifndef TRAIL_HANDLER_IMPL_H
#define TRAIL_HANDLER_IMPL_H

#include "trail.h"

struct trail_handler_ops {
    /* One formatted entry (line ends with '\n'). Implementations buffer and
     * write on flush(), or write at once; rotation decisions happen here. */
    int (*write)(trail_handler *h, const trail_entry *e, const char *line, size_t len);
    /* End of a backend batch: push buffered bytes to the OS. */
    int (*flush)(trail_handler *h);
    /* Reopen the output (optional; NULL when meaningless). */
    void (*reopen)(trail_handler *h);
    /* Free implementation state (the base struct is freed by handler.c). */
    void (*destroy)(trail_handler *h);
};

struct trail_handler {
    const struct trail_handler_ops *ops;
    int refs;                 /* atomic */
    int level;                /* atomic; 0 = everything */
    int reopen_requested;     /* atomic flag, set by trail_handler_reopen/trail_reopen_all */
    int tty_fd;               /* fd the console formatter checks for colour, -1 none */
    trail_formatter *formatter;
    trail_filter *filters;    /* chain, run in order */
    struct trail_handler *next_all; /* registry of live handlers (reopen_all) */
};

/* Allocates `size` bytes (>= sizeof(struct trail_handler), the base first),
 * refs = 1, registers it, and installs fmt as formatter (ownership taken). */
trail_handler *trail__handler_new(size_t size, const struct trail_handler_ops *ops, trail_formatter *fmt);

/* Level check, filters (on a copy of *e), format, ops->write. Returns 1 when
 * written, 0 when filtered out, negative on error. scratch is the caller's
 * reusable buffer. Called by the core for every entry and handler. */
int trail__handler_dispatch(trail_handler *h, const trail_entry *e, trail_buf *scratch);
/* ops->flush, plus a pending reopen. */
int trail__handler_flush(trail_handler *h);
void trail__handler_retain(trail_handler *h);

/* Write wrapper every handler uses for file output, with fault injection for
 * tests: trail__io_inject(ENOSPC, 3) makes the next 3 writes fail. Returns
 * bytes written or -errno; retries EINTR and short writes. */
long trail__io_write(int fd, const void *buf, size_t len);
void trail__io_inject(int err, int count);

#endif
