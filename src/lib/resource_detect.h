/* resource_detect.h — detection of static fields, as pure functions over
 * text so tests can feed sample files. Owned by resource_detect.c. */
#ifndef TRAIL_RESOURCE_DETECT_H
#define TRAIL_RESOURCE_DETECT_H

#include <stddef.h>

/* Looks key up in an OTEL_RESOURCE_ATTRIBUTES value ("k1=v1,k2=v2", values
 * percent-encoded, spaces around keys and values ignored) and writes the
 * decoded value to out (NUL-terminated). Returns its length, -ENOENT when the
 * key is absent, -ERANGE when out is too small, -EINVAL when the whole value
 * is malformed (a pair without '=', an empty key, a bad %XX escape): per the
 * OpenTelemetry spec the whole variable is then discarded. */
int trail__otel_attr_get(const char *attrs, const char *key, char *out, size_t size);

/* Finds a container id (64 hex, as docker, containerd, CRI-O, podman and
 * kubepods name them) in the text of /proc/self/cgroup. Returns 1 and the
 * NUL-terminated id in out, 0 when none. */
int trail__container_id_from_cgroup(const char *text, size_t len, char out[65]);
/* Same from /proc/self/mountinfo (cgroup v2 hosts: the container's
 * hostname/resolv.conf/hosts bind mounts live under .../containers/<id>/). */
int trail__container_id_from_mountinfo(const char *text, size_t len, char out[65]);

/* First line of a machine-id file, trimmed; 1 when it is a 32-hex id. */
int trail__machine_id_from_text(const char *text, size_t len, char out[33]);

/* Reads up to size-1 bytes of a file into buf (NUL-terminated); returns the
 * length or -1. Small /proc and /etc files only. */
long trail__read_small_file(const char *path, char *buf, size_t size);

#endif
