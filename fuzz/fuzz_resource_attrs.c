/* fuzz_resource_attrs.c — the static-field parsers on arbitrary bytes:
 * OTEL_RESOURCE_ATTRIBUTES lookups, /proc/self/cgroup and mountinfo
 * container-id scans, machine-id. Results must be bounded, terminated and
 * well-formed (ids are 64 lowercase hex). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resource_detect.h"

static int lower_hex64(const char *id) {
    if (strlen(id) != 64) return 0;
    for (int i = 0; i < 64; i++)
        if (!strchr("0123456789abcdef", id[i])) return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    static const char *keys[] = {"service.name", "service.version", "cloud.region", "deployment.environment", "a",
                                 ""};
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
        char out[64];
        memset(out, 'x', sizeof out);
        int n = trail__otel_attr_get(text, keys[k], out, sizeof out);
        if (n >= 0 && ((size_t)n >= sizeof out || out[n] != '\0')) abort();
        char tiny[1];
        n = trail__otel_attr_get(text, keys[k], tiny, sizeof tiny);
        if (n > 0) abort(); /* only an empty value fits in one byte */
    }
    char id[65];
    if (trail__container_id_from_cgroup(text, size, id) && !lower_hex64(id)) abort();
    if (trail__container_id_from_mountinfo(text, size, id) && !lower_hex64(id)) abort();
    char mid[33];
    if (trail__machine_id_from_text(text, size, mid) && strlen(mid) != 32) abort();
    free(text);
    return 0;
}
