/* logger.c — the registry of named, hierarchical loggers ("shop.db.pool"),
 * level inheritance, handlers and filters per logger, bound loggers.
 *
 * Every change happens under the configuration mutex; the logging hot path
 * only reads head.effective_level (relaxed atomic), which set_level
 * recomputes for the whole subtree so the hot path never walks parents. */
#include "logger.h"
#include "core_impl.h"
#include "filter_impl.h"
#include "handler_impl.h"
#include "runtime.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct trail_logger trail__root_logger = {
    .head = {TRAIL_OFF},
    .level = TRAIL_INFO,
    .propagate = 1,
    .name = "",
    .base = &trail__root_logger,
};

static trail_logger *named; /* every named logger but the root */

trail_logger *trail_root(void) { return &trail__root_logger; }

static trail_logger *resolve(const trail_logger *lg) {
    return lg ? (trail_logger *)lg : &trail__root_logger;
}

const char *trail_logger_name(const trail_logger *lg) { return resolve(lg)->name; }

static void set_effective(trail_logger *lg, int eff) {
    __atomic_store_n(&lg->head.effective_level, eff, __ATOMIC_RELAXED);
    for (trail_logger *b = lg->bound_list; b; b = b->bound_next)
        __atomic_store_n(&b->head.effective_level, eff, __ATOMIC_RELAXED);
}

/* Recomputes the effective level of lg and its descendants. */
static void recompute(trail_logger *lg) {
    int eff = lg->level ? lg->level : (lg->parent ? lg->parent->head.effective_level : TRAIL_INFO);
    set_effective(lg, eff);
    for (trail_logger *c = lg->children; c; c = c->sibling) recompute(c);
}

void trail__loggers_init(int root_level) {
    trail__cfg_lock();
    if (root_level > 0) trail__root_logger.level = root_level;
    trail__root_logger.propagate = 1;
    recompute(&trail__root_logger);
    trail__cfg_unlock();
}

static trail_logger *find_child(trail_logger *parent, const char *name, size_t len) {
    for (trail_logger *c = parent->children; c; c = c->sibling)
        if (strlen(c->name) == len && memcmp(c->name, name, len) == 0) return c;
    return NULL;
}

static trail_logger *create_child(trail_logger *parent, const char *name, size_t len) {
    trail_logger *lg = calloc(1, sizeof *lg);
    if (!lg) return NULL;
    lg->name = malloc(len + 1);
    if (!lg->name) {
        free(lg);
        return NULL;
    }
    memcpy(lg->name, name, len);
    lg->name[len] = 0;
    lg->propagate = 1;
    lg->parent = parent;
    lg->base = lg;
    lg->head.effective_level = parent->head.effective_level;
    lg->sibling = parent->children;
    parent->children = lg;
    lg->next_all = named;
    named = lg;
    return lg;
}

trail_logger *trail_get(const char *name) {
    if (!name || !*name) return &trail__root_logger;
    /* Normalise "a..b." to "a.b" so every name maps to a well-formed path. */
    size_t len = strlen(name);
    char *norm = malloc(len + 1);
    if (!norm) {
        trail__error(-ENOMEM, "trail_get(%s): out of memory", name);
        return NULL;
    }
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (name[i] == '.' && (n == 0 || norm[n - 1] == '.')) continue;
        norm[n++] = name[i];
    }
    if (n && norm[n - 1] == '.') n--;
    norm[n] = 0;
    trail__cfg_lock();
    trail_logger *cur = &trail__root_logger;
    for (size_t i = 0; i <= n && n && cur; i++) {
        if (i == n || norm[i] == '.') {
            trail_logger *next = find_child(cur, norm, i);
            cur = next ? next : create_child(cur, norm, i);
        }
    }
    trail__cfg_unlock();
    free(norm);
    if (!cur) trail__error(-ENOMEM, "trail_get(%s): out of memory", name);
    return cur;
}

void trail_logger_set_level(trail_logger *lg, int level) {
    lg = resolve(lg)->base;
    if (level < 0) level = 0;
    if (level > TRAIL_OFF) level = TRAIL_OFF;
    trail__cfg_lock();
    if (lg == &trail__root_logger && level == 0) level = TRAIL_INFO; /* the root cannot inherit */
    lg->level = level;
    if (lg != &trail__root_logger || __atomic_load_n(&trail__rt.initialized, __ATOMIC_RELAXED)) recompute(lg);
    trail__cfg_unlock();
}

int trail_logger_level(const trail_logger *lg) {
    return __atomic_load_n(&resolve(lg)->head.effective_level, __ATOMIC_RELAXED);
}

int trail_logger_add_handler(trail_logger *lg, trail_handler *h) {
    if (!h) return trail__error(-EINVAL, "trail_logger_add_handler: handler is NULL");
    lg = resolve(lg)->base;
    trail__cfg_lock();
    for (size_t i = 0; i < lg->nhandlers; i++) {
        if (lg->handlers[i] == h) {
            trail__cfg_unlock();
            return 0; /* already attached: adding twice would write twice */
        }
    }
    if (lg->nhandlers == lg->cap_handlers) {
        size_t cap = lg->cap_handlers ? lg->cap_handlers * 2 : 4;
        trail_handler **n = realloc(lg->handlers, cap * sizeof *n);
        if (!n) {
            trail__cfg_unlock();
            return trail__error(-ENOMEM, "trail_logger_add_handler: out of memory");
        }
        lg->handlers = n;
        lg->cap_handlers = cap;
    }
    trail__handler_retain(h);
    lg->handlers[lg->nhandlers++] = h;
    trail__cfg_unlock();
    return 0;
}

int trail_logger_remove_handler(trail_logger *lg, trail_handler *h) {
    lg = resolve(lg)->base;
    trail__cfg_lock();
    for (size_t i = 0; i < lg->nhandlers; i++) {
        if (lg->handlers[i] == h) {
            memmove(&lg->handlers[i], &lg->handlers[i + 1], (lg->nhandlers - i - 1) * sizeof *lg->handlers);
            lg->nhandlers--;
            trail_handler_release(h);
            trail__cfg_unlock();
            return 0;
        }
    }
    trail__cfg_unlock();
    return trail__error(-ENOENT, "trail_logger_remove_handler: handler is not attached to logger '%s'", lg->name);
}

void trail_logger_add_filter(trail_logger *lg, trail_filter *f) {
    if (!f) return;
    lg = resolve(lg)->base;
    trail__cfg_lock();
    trail__filter_append(&lg->filters, f);
    trail__cfg_unlock();
}

void trail_logger_set_propagate(trail_logger *lg, int propagate) {
    lg = resolve(lg)->base;
    trail__cfg_lock();
    lg->propagate = propagate != 0;
    trail__cfg_unlock();
}

/* ------------------------------------------------------------ bound loggers */

static int copies_bytes(uint32_t type) {
    return type == TRAIL_T_STR || type == TRAIL_T_BYTES || type == TRAIL_T_JSON;
}

static size_t value_len(const trail_field *f) {
    if (!f->v.s) return 0;
    return f->len == TRAIL_LEN_CSTR ? strlen(f->v.s) : f->len;
}

trail_logger *trail_with_fields(trail_logger *lg, const trail_field *fields, size_t n) {
    lg = resolve(lg);
    if (!fields) n = 0;
    size_t total = lg->nbound + n;
    /* One allocation: the field array, then keys and values. */
    size_t bytes = total * sizeof(trail_field);
    const trail_field *parts[2] = {lg->bound, fields};
    size_t counts[2] = {lg->nbound, n};
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < counts[k]; i++) {
            const trail_field *f = &parts[k][i];
            bytes += (f->key ? strlen(f->key) : 6) + 1;
            if (copies_bytes(f->type)) bytes += value_len(f) + 1;
        }
    }
    trail_logger *b = calloc(1, sizeof *b);
    char *mem = malloc(bytes ? bytes : 1);
    if (!b || !mem) {
        free(b);
        free(mem);
        trail__error(-ENOMEM, "trail_with_fields: out of memory");
        return NULL;
    }
    trail_field *out = (trail_field *)(void *)mem;
    char *p = mem + total * sizeof(trail_field);
    size_t j = 0;
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < counts[k]; i++, j++) {
            const trail_field *f = &parts[k][i];
            out[j] = *f;
            const char *key = f->key ? f->key : "(null)";
            size_t kl = strlen(key) + 1;
            memcpy(p, key, kl);
            out[j].key = p;
            p += kl;
            if (copies_bytes(f->type)) {
                if (!f->v.s) {
                    out[j].type = TRAIL_T_NULL;
                    out[j].len = 0;
                    continue;
                }
                size_t vl = value_len(f);
                memcpy(p, f->v.s, vl);
                p[vl] = 0;
                out[j].v.s = p;
                out[j].len = (uint32_t)vl;
                p += vl + 1;
            }
        }
    }
    trail_logger *base = lg->base;
    b->base = base;
    b->name = base->name;
    b->propagate = base->propagate;
    b->bound = out;
    b->nbound = total;
    trail__cfg_lock();
    b->head.effective_level = base->head.effective_level;
    b->bound_next = base->bound_list;
    base->bound_list = b;
    trail__cfg_unlock();
    return b;
}

/* Unlinks b from its base; the caller decides when the memory goes. */
static void unlink_bound(trail_logger *b) {
    for (trail_logger **p = &b->base->bound_list; *p; p = &(*p)->bound_next) {
        if (*p == b) {
            *p = b->bound_next;
            break;
        }
    }
}

void trail__logger_free_bound(trail_logger *lg) {
    free(lg->bound);
    free(lg);
}

void trail_logger_release(trail_logger *lg) {
    if (!lg || lg->base == lg) return; /* named loggers live until shutdown */
    trail__cfg_lock();
    unlink_bound(lg);
    __atomic_store_n(&lg->head.effective_level, TRAIL_OFF, __ATOMIC_RELAXED);
    trail__cfg_unlock();
    if (trail__rt.mode == TRAIL_ASYNC && trail__backend_running()) trail__backend_defer_free(lg);
    else trail__logger_free_bound(lg);
}

/* ------------------------------------------------------------------ teardown */

static void free_logger_parts(trail_logger *lg) {
    for (size_t i = 0; i < lg->nhandlers; i++) trail_handler_release(lg->handlers[i]);
    free(lg->handlers);
    lg->handlers = NULL;
    lg->nhandlers = lg->cap_handlers = 0;
    trail__filters_free(lg->filters);
    lg->filters = NULL;
    while (lg->bound_list) {
        trail_logger *b = lg->bound_list;
        lg->bound_list = b->bound_next;
        trail__logger_free_bound(b);
    }
}

void trail__loggers_free_all(void) {
    trail__cfg_lock();
    while (named) {
        trail_logger *lg = named;
        named = lg->next_all;
        free_logger_parts(lg);
        free(lg->name);
        free(lg);
    }
    free_logger_parts(&trail__root_logger);
    trail__root_logger.children = NULL;
    trail__root_logger.level = TRAIL_INFO;
    trail__root_logger.propagate = 1;
    __atomic_store_n(&trail__root_logger.head.effective_level, TRAIL_OFF, __ATOMIC_RELAXED);
    trail__cfg_unlock();
}
