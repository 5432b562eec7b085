/* proc_filter.c — `filter` keeps entries that pass every condition given;
 * `drop` removes entries that match. Conditions: a minimum level, a field
 * equal to a value, a field matching a regex. Entries without a known level
 * pass a level filter (an unparsed line is never silently lost). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc_util.h"

typedef struct cond_conf {
    const char *min_level;
    const char *field;
    const char *equals;
    const char *matches;
} cond_conf;

static const ta_option cond_options[] = {
    {"min_level", TA_OPT_STR, NULL, offsetof(cond_conf, min_level),
     "trace|debug|info|warning|error|fatal: level at or above (entries without a level pass)", NULL, false},
    {"field", TA_OPT_STR, "message", offsetof(cond_conf, field),
     "field that equals/matches test (message, level, category or any field name)", NULL, false},
    {"equals", TA_OPT_STR, NULL, offsetof(cond_conf, equals), "exact value of the field", NULL, false},
    {"matches", TA_OPT_STR, NULL, offsetof(cond_conf, matches), "POSIX extended regex on the field", NULL, false},
    TA_OPTIONS_END,
};

typedef struct cond_proc {
    ta_processor base;
    cond_conf c;
    int min_sev;
    regex_t re;
    bool has_re, is_drop;
} cond_proc;

/* True when r satisfies every configured condition. */
static bool test(const cond_proc *p, const ta_record *r) {
    if (p->min_sev >= 0 && r->severity && r->severity < p->min_sev) return false;
    if (!p->c.equals && !p->has_re) return true;
    const char *s;
    size_t n;
    if (!ta_rec_value(r, p->c.field, &s, &n)) return false;
    if (p->c.equals && (strlen(p->c.equals) != n || memcmp(p->c.equals, s, n) != 0)) return false;
    if (p->has_re && !ta_regex_match(&p->re, s, n)) return false;
    return true;
}

static int filter_process(ta_processor *self, ta_record *r, ta_arena *a) {
    (void)a;
    cond_proc *p = (cond_proc *)self;
    bool t = test(p, r);
    return p->is_drop ? (t ? TA_DROP : TA_KEEP) : (t ? TA_KEEP : TA_DROP);
}

static int create(const void *conf, ta_processor **out, char *err, size_t errlen, bool is_drop) {
    cond_proc *p = calloc(1, sizeof *p);
    if (!p) return -ENOMEM;
    p->c = *(const cond_conf *)conf;
    p->is_drop = is_drop;
    p->min_sev = -1;
    if (p->c.min_level && (p->min_sev = ta_level_severity(p->c.min_level)) < 0) {
        snprintf(err, errlen, "min_level: unknown level '%s' (trace, debug, info, warning, error, fatal)", p->c.min_level);
        free(p);
        return -EINVAL;
    }
    if (p->c.matches) {
        if (ta_regex_compile(&p->re, p->c.matches, "matches", err, errlen) < 0) {
            free(p);
            return -EINVAL;
        }
        p->has_re = true;
    }
    if (is_drop && p->min_sev < 0 && !p->c.equals && !p->has_re) {
        snprintf(err, errlen, "drop needs a condition: min_level, equals or matches");
        free(p);
        return -EINVAL;
    }
    *out = &p->base;
    return 0;
}

static int filter_create(const void *c, ta_processor **o, char *e, size_t el) { return create(c, o, e, el, false); }
static int drop_create(const void *c, ta_processor **o, char *e, size_t el) { return create(c, o, e, el, true); }

static void cond_destroy(ta_processor *self) {
    cond_proc *p = (cond_proc *)self;
    if (p->has_re) regfree(&p->re);
    free(p);
}

const ta_processor_type ta_proc_filter = {
    .name = "filter",
    .options = cond_options,
    .conf_size = sizeof(cond_conf),
    .help = "keeps only entries that meet every condition (dropped ones are counted)",
    .create = filter_create,
    .process = filter_process,
    .destroy = cond_destroy,
};

const ta_processor_type ta_proc_drop = {
    .name = "drop",
    .options = cond_options,
    .conf_size = sizeof(cond_conf),
    .help = "drops entries that meet every condition (counted)",
    .create = drop_create,
    .process = filter_process,
    .destroy = cond_destroy,
};
