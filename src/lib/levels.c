/* levels.c — level names, colours, parsing, custom levels. */
#include "core_impl.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct level_info {
    char *name;  /* NULL = unregistered */
    char *color;
} level_info;

/* Readers on the backend thread look names up without a lock: registered
 * strings are never freed before trail_shutdown, only replaced. */
static level_info custom[256];
static pthread_mutex_t level_mu = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local char unnamed[16];

static const char *builtin_name(int level) {
    switch (level) {
    case TRAIL_DEBUG: return "debug";
    case TRAIL_INFO: return "info";
    case TRAIL_SUCCESS: return "success";
    case TRAIL_WARNING: return "warning";
    case TRAIL_ERROR: return "error";
    case TRAIL_CRITICAL: return "critical";
    default: return NULL;
    }
}

int trail_level_register(int level, const char *name, const char *ansi_color) {
    if (level < 1 || level > TRAIL_LEVEL_MAX || !name || !*name || strlen(name) > 32)
        return trail__error(-EINVAL, "trail_level_register: level must be 1..255 and name 1..32 characters");
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
            return trail__error(-EINVAL, "trail_level_register: name '%s' may hold only letters, digits, '_' and '-'", name);
    char *n = strdup(name), *c = ansi_color ? strdup(ansi_color) : NULL;
    if (!n || (ansi_color && !c)) {
        free(n);
        free(c);
        return -ENOMEM;
    }
    for (char *p = n; *p; p++) *p = (char)tolower((unsigned char)*p);
    pthread_mutex_lock(&level_mu);
    /* Old strings are leaked on purpose: a concurrent reader may hold them. */
    __atomic_store_n(&custom[level].color, c, __ATOMIC_RELEASE);
    __atomic_store_n(&custom[level].name, n, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&level_mu);
    return 0;
}

const char *trail_level_name(int level) {
    if (level >= 1 && level <= TRAIL_LEVEL_MAX) {
        const char *n = __atomic_load_n(&custom[level].name, __ATOMIC_ACQUIRE);
        if (n) return n;
    }
    const char *b = builtin_name(level);
    if (b) return b;
    snprintf(unnamed, sizeof unnamed, "level%d", level);
    return unnamed;
}

const char *trail__level_color(int level) {
    if (level >= 1 && level <= TRAIL_LEVEL_MAX) {
        const char *c = __atomic_load_n(&custom[level].color, __ATOMIC_ACQUIRE);
        if (c) return c;
    }
    if (level >= TRAIL_CRITICAL) return "\033[1;41;97m"; /* bold white on red */
    if (level >= TRAIL_ERROR) return "\033[31m";
    if (level >= TRAIL_WARNING) return "\033[33m";
    if (level >= TRAIL_SUCCESS) return "\033[32m";
    if (level >= TRAIL_INFO) return "\033[36m";
    return "\033[2m";
}

int trail__level_bucket(int level) {
    if (level >= TRAIL_CRITICAL) return 5;
    if (level >= TRAIL_ERROR) return 4;
    if (level >= TRAIL_WARNING) return 3;
    if (level >= TRAIL_SUCCESS) return 2;
    if (level >= TRAIL_INFO) return 1;
    return 0;
}

int trail_level_parse(const char *text) {
    if (!text || !*text) return -EINVAL;
    char *end;
    long v = strtol(text, &end, 10);
    if (*end == 0) return v >= 1 && v <= TRAIL_LEVEL_MAX ? (int)v : -EINVAL;
    static const struct { const char *name; int level; } aliases[] = {
        {"debug", TRAIL_DEBUG}, {"info", TRAIL_INFO}, {"success", TRAIL_SUCCESS},
        {"warning", TRAIL_WARNING}, {"warn", TRAIL_WARNING}, {"error", TRAIL_ERROR},
        {"err", TRAIL_ERROR}, {"critical", TRAIL_CRITICAL}, {"crit", TRAIL_CRITICAL},
        {"fatal", TRAIL_CRITICAL}, {"off", TRAIL_OFF},
    };
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcasecmp(text, aliases[i].name) == 0) return aliases[i].level;
    for (int l = 1; l <= TRAIL_LEVEL_MAX; l++) {
        const char *n = __atomic_load_n(&custom[l].name, __ATOMIC_ACQUIRE);
        if (n && strcasecmp(n, text) == 0) return l;
    }
    return -EINVAL;
}
