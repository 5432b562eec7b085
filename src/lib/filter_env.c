/* filter_env.c — built-in filter: minimum level per environment.
 *
 * Rules "local=DEBUG,staging=INFO,*=WARNING" are parsed once. The minimum
 * for the current env (trail_resource_get()->env, compared without case) is
 * cached with the resource generation it was computed for, so the check is
 * two relaxed loads until trail_resource_set() or a fork changes the
 * resource. An env with no rule and no "*" keeps everything. Safe to run
 * from several threads at once (the cache is one atomic 64-bit word). */
#include "core_impl.h"
#include "ctx_impl.h"
#include "filter_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_RULES 32
#define NAME_MAX_LEN 64

typedef struct env_rules {
    int n;
    struct {
        char env[NAME_MAX_LEN];
        int level;
    } rule[MAX_RULES];
    int fallback; /* "*" rule; 0 = none */
    uint64_t cache; /* generation << 32 | min level, 0 = not computed */
} env_rules;

static int min_for(const env_rules *r, const char *env) {
    for (int i = 0; i < r->n; i++)
        if (strcasecmp(r->rule[i].env, env) == 0) return r->rule[i].level;
    return r->fallback;
}

static int env_keep(trail_entry *e, void *ud) {
    env_rules *r = ud;
    uint32_t gen = trail__resource_generation();
    uint64_t c = __atomic_load_n(&r->cache, __ATOMIC_RELAXED);
    int min;
    if (c && (uint32_t)(c >> 32) == gen) {
        min = (int)(uint32_t)c;
    } else {
        /* trail_resource_set() may publish a new string concurrently. */
        const char *env = __atomic_load_n(&trail_resource_get()->env, __ATOMIC_ACQUIRE);
        min = min_for(r, env ? env : "");
        __atomic_store_n(&r->cache, (uint64_t)gen << 32 | (uint32_t)min, __ATOMIC_RELAXED);
    }
    return e->level >= min;
}

static char *trim(char *s) {
    while (*s == ' ' || *s == '\t') s++;
    char *end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t')) *--end = '\0';
    return s;
}

trail_filter *trail_filter_env(const char *rules) {
    if (!rules) {
        trail__error(-EINVAL, "trail_filter_env: rules are NULL (want e.g. \"local=DEBUG,*=INFO\")");
        return NULL;
    }
    env_rules *r = calloc(1, sizeof *r);
    char *copy = strdup(rules);
    if (!r || !copy) {
        free(r);
        free(copy);
        trail__error(-ENOMEM, "trail_filter_env: out of memory");
        return NULL;
    }
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq) goto bad;
        *eq = '\0';
        char *env = trim(tok), *lvl = trim(eq + 1);
        int level = trail_level_parse(lvl);
        if (!*env || level < 0 || strlen(env) >= NAME_MAX_LEN) goto bad;
        if (strcmp(env, "*") == 0) {
            r->fallback = level;
        } else {
            if (r->n == MAX_RULES) goto bad;
            strcpy(r->rule[r->n].env, env);
            r->rule[r->n].level = level;
            r->n++;
        }
    }
    free(copy);
    trail_filter *f = trail_filter_custom(env_keep, r, free);
    if (!f) free(r);
    return f;
bad:
    trail__error(-EINVAL,
                 "trail_filter_env: bad rules \"%s\" (want env=LEVEL pairs separated by commas, \"*\" for "
                 "any other env, at most %d)",
                 rules, MAX_RULES);
    free(copy);
    free(r);
    return NULL;
}
