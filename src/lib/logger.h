/* logger.h — the logger object as the core sees it (logger.c, route.c,
 * capture.c, backend.c). */
#ifndef TRAIL_LOGGER_H
#define TRAIL_LOGGER_H

#include "trail.h"

struct trail_logger {
    struct trail_logger_head head; /* first: trail_enabled() reads it inline */
    int level;                     /* own level; 0 = inherit (bound loggers: unused) */
    int propagate;
    char *name;                    /* full dotted name, "" for root */
    struct trail_logger *parent;   /* NULL for root */
    struct trail_logger *children; /* first child */
    struct trail_logger *sibling;  /* next child of the same parent */
    struct trail_logger *next_all; /* registry of named loggers */
    struct trail_logger *base;     /* the named logger (itself unless bound) */
    trail_handler **handlers;
    size_t nhandlers, cap_handlers;
    trail_filter *filters;
    /* Bound loggers (trail_with_fields): fields appended to every entry. */
    trail_field *bound;
    size_t nbound;
    struct trail_logger *bound_next; /* list of bound loggers of a base */
    struct trail_logger *bound_list; /* on a base: its bound loggers */
    struct trail_logger *grave_next; /* released, waiting for the backend */
    uint64_t grave_ticket;
};

/* The root logger; exists statically so trail_enabled(NULL, ...) is always
 * safe (its level is TRAIL_OFF until trail_setup). */
extern struct trail_logger trail__root_logger;

/* Frees every logger but the root and resets the root (trail_shutdown). */
void trail__loggers_free_all(void);
/* Frees a released bound logger (backend, once nothing refers to it). */
void trail__logger_free_bound(trail_logger *lg);
/* Resets the root to its initial state with the given level. */
void trail__loggers_init(int root_level);

#endif
