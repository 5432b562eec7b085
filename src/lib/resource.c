/* resource.c — static fields (service, version, machine_id, container_id,
 * region, env, hostname, pid): detected once, overridable.
 *
 * Precedence per field, highest first: trail_resource_set(); TRAIL_* env
 * vars; OTEL_SERVICE_NAME; OTEL_RESOURCE_ATTRIBUTES; the trail_init()
 * argument (service only); detection (files, hostname); built-in default.
 * Environment beats code so operators can rename a service without a build.
 *
 * Strings are never freed once published: formatters may hold a pointer from
 * trail_resource_get() while trail_resource_set() replaces it (each set
 * keeps one small copy for the life of the process, which is fine for a call
 * made at start-up). */
#include "core_impl.h"
#include "ctx_impl.h"
#include "resource_detect.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef TRAIL_BUILD_VERSION
#define TRAIL_BUILD_VERSION ""
#endif


static trail_resource res;
static uint32_t generation = 1;
static pthread_once_t detect_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t res_mu = PTHREAD_MUTEX_INITIALIZER;
static int service_pinned; /* set by env or trail_resource_set: trail_init's argument does not override */

/* Detected values live in these buffers (written once, before publication). */
static char b_service[256], b_version[128], b_machine[256], b_container[65], b_region[128], b_env[128],
    b_host[256];

static const char *pick_env(const char *name, char *buf, size_t size) {
    const char *v = getenv(name);
    if (!v || !*v) return NULL;
    size_t n = strnlen(v, size - 1);
    memcpy(buf, v, n);
    buf[n] = '\0';
    return buf;
}

static const char *pick_otel(const char *attrs, const char *key, char *buf, size_t size) {
    return trail__otel_attr_get(attrs, key, buf, size) > 0 ? buf : NULL;
}

static void detect_container(void) {
    if (pick_env("TRAIL_CONTAINER_ID", b_container, sizeof b_container)) return;
    static char text[16384]; /* detection runs once, under pthread_once */
    long n = trail__read_small_file("/proc/self/cgroup", text, sizeof text);
    if (n > 0 && trail__container_id_from_cgroup(text, (size_t)n, b_container)) return;
    n = trail__read_small_file("/proc/self/mountinfo", text, sizeof text);
    if (n > 0 && trail__container_id_from_mountinfo(text, (size_t)n, b_container)) return;
    b_container[0] = '\0';
}

static void on_fork_child(void) { trail__resource_after_fork(); }

/* Strings published by set/init live in a list so they stay reachable (no
 * leak reports) and are never freed while a formatter may hold one. Called
 * under res_mu. */
typedef struct kept_str {
    struct kept_str *next;
    char s[];
} kept_str;
static kept_str *kept;

static char *keep_copy(const char *v) {
    size_t n = strlen(v);
    kept_str *k = malloc(sizeof *k + n + 1);
    if (!k) return NULL;
    memcpy(k->s, v, n + 1);
    k->next = kept;
    kept = k;
    return k->s;
}

static void detect(void) {
    const char *attrs = getenv("OTEL_RESOURCE_ATTRIBUTES");
    char probe[2];
    if (attrs && trail__otel_attr_get(attrs, "\x01", probe, sizeof probe) == -EINVAL) {
        trail__report_once("otel_resource_attributes",
                           "OTEL_RESOURCE_ATTRIBUTES is malformed (want k=v,k=v with %%XX escapes); ignored");
        attrs = NULL;
    }
    char tmp[256];
    const char *s;

    if ((s = pick_env("TRAIL_SERVICE", b_service, sizeof b_service)) ||
        (s = pick_env("OTEL_SERVICE_NAME", b_service, sizeof b_service)) ||
        (s = pick_otel(attrs, "service.name", b_service, sizeof b_service)))
        service_pinned = 1;
    else {
        const char *prog = program_invocation_short_name;
        snprintf(b_service, sizeof b_service, "%s", prog && *prog ? prog : "unknown");
    }

    if (!pick_env("TRAIL_VERSION", b_version, sizeof b_version) &&
        !pick_otel(attrs, "service.version", b_version, sizeof b_version))
        snprintf(b_version, sizeof b_version, "%s", TRAIL_BUILD_VERSION);

    if (gethostname(b_host, sizeof b_host - 1) != 0) b_host[0] = '\0';
    b_host[sizeof b_host - 1] = '\0';
    pick_otel(attrs, "host.name", b_host, sizeof b_host);

    if (!pick_env("TRAIL_MACHINE_ID", b_machine, sizeof b_machine)) {
        long n = trail__read_small_file("/etc/machine-id", tmp, sizeof tmp);
        if (n <= 0 || !trail__machine_id_from_text(tmp, (size_t)n, b_machine)) {
            n = trail__read_small_file("/var/lib/dbus/machine-id", tmp, sizeof tmp);
            if (n <= 0 || !trail__machine_id_from_text(tmp, (size_t)n, b_machine))
                snprintf(b_machine, sizeof b_machine, "%s", b_host);
        }
    }

    detect_container();

    if (!pick_env("TRAIL_REGION", b_region, sizeof b_region) &&
        !pick_otel(attrs, "cloud.region", b_region, sizeof b_region))
        b_region[0] = '\0';

    if (!pick_env("TRAIL_ENV", b_env, sizeof b_env) &&
        !pick_otel(attrs, "deployment.environment.name", b_env, sizeof b_env) &&
        !pick_otel(attrs, "deployment.environment", b_env, sizeof b_env))
        snprintf(b_env, sizeof b_env, "production");

    res.service = b_service;
    res.version = b_version;
    res.machine_id = b_machine;
    res.container_id = b_container;
    res.region = b_region;
    res.env = b_env;
    res.hostname = b_host;
    res.pid = (int)getpid();
    pthread_atfork(NULL, NULL, on_fork_child);
}

void trail__resource_init(const char *service) {
    pthread_once(&detect_once, detect);
    if (!service || !*service) return;
    pthread_mutex_lock(&res_mu);
    if (!service_pinned) {
        char *copy = keep_copy(service);
        if (copy) {
            __atomic_store_n(&res.service, copy, __ATOMIC_RELEASE);
            __atomic_add_fetch(&generation, 1, __ATOMIC_RELEASE);
        }
    }
    pthread_mutex_unlock(&res_mu);
}

const trail_resource *trail_resource_get(void) {
    pthread_once(&detect_once, detect);
    return &res;
}

int trail_resource_set(const char *key, const char *value) {
    if (!key || !value) return trail__error(-EINVAL, "trail_resource_set: key and value must not be NULL");
    pthread_once(&detect_once, detect);
    const char **slot = NULL;
    if (!strcmp(key, "service")) slot = &res.service;
    else if (!strcmp(key, "version")) slot = &res.version;
    else if (!strcmp(key, "machine_id")) slot = &res.machine_id;
    else if (!strcmp(key, "container_id")) slot = &res.container_id;
    else if (!strcmp(key, "region")) slot = &res.region;
    else if (!strcmp(key, "env")) slot = &res.env;
    else if (!strcmp(key, "hostname")) slot = &res.hostname;
    else
        return trail__error(-EINVAL,
                            "trail_resource_set: unknown key \"%s\" (service, version, machine_id, "
                            "container_id, region, env, hostname)",
                            key);
    pthread_mutex_lock(&res_mu);
    char *copy = keep_copy(value);
    if (!copy) {
        pthread_mutex_unlock(&res_mu);
        return trail__error(-ENOMEM, "trail_resource_set: out of memory");
    }
    __atomic_store_n(slot, copy, __ATOMIC_RELEASE);
    if (slot == &res.service) service_pinned = 1;
    __atomic_add_fetch(&generation, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&res_mu);
    return 0;
}

uint32_t trail__resource_generation(void) { return __atomic_load_n(&generation, __ATOMIC_ACQUIRE); }

void trail__resource_after_fork(void) {
    __atomic_store_n(&res.pid, (int)getpid(), __ATOMIC_RELAXED);
    __atomic_add_fetch(&generation, 1, __ATOMIC_RELEASE);
}
