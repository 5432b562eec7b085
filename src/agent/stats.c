/* stats.c — process-wide counter registry keyed by input/output name.
 * Entries are never freed, so /metrics can read them from its own thread
 * at any time, across config reloads. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"

struct entry {
    struct entry *next;
    char *name, *type;
    int is_output;
    union {
        ta_input_stats in;
        ta_output_stats out;
    } s;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *head, **tail = &head;
static atomic_bool ready;

static struct entry *get(const char *name, const char *type, int is_output) {
    pthread_mutex_lock(&lock);
    struct entry *e;
    for (e = head; e; e = e->next)
        if (e->is_output == is_output && strcmp(e->name, name) == 0) break;
    if (!e) {
        e = calloc(1, sizeof *e);
        if (!e) abort();
        e->name = strdup(name);
        e->type = type ? strdup(type) : NULL;
        e->is_output = is_output;
        *tail = e;
        tail = &e->next;
    }
    pthread_mutex_unlock(&lock);
    return e;
}

ta_input_stats *ta_stats_input(const char *name) { return &get(name, NULL, 0)->s.in; }

ta_output_stats *ta_stats_output(const char *name, const char *type) {
    return &get(name, type, 1)->s.out;
}

void ta_stats_visit(ta_stats_visitor fn, void *ctx) {
    pthread_mutex_lock(&lock);
    for (int pass = 0; pass < 2; pass++)
        for (struct entry *e = head; e; e = e->next)
            if (e->is_output == pass)
                fn(ctx, pass ? "output" : "input", e->name, e->type, &e->s);
    pthread_mutex_unlock(&lock);
}

bool ta_agent_ready(void) { return atomic_load(&ready); }
void ta_agent_set_ready(bool r) { atomic_store(&ready, r); }

static _Atomic int64_t ckpt_saved_ns;
void ta_stats_checkpoint_saved(int64_t now_ns) { atomic_store(&ckpt_saved_ns, now_ns); }
int64_t ta_stats_checkpoint_saved_ns(void) { return atomic_load(&ckpt_saved_ns); }
