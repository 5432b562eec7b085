/* resource_detect.c — see resource_detect.h. Linear scans, no allocation. */
#include "resource_detect.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static int is_space(char c) { return c == ' ' || c == '\t'; }
static int is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
static int hexv(char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; }

/* Percent-decodes s[0..n) into out; -EINVAL on a bad escape, -ERANGE if too long. */
static int pct_decode(const char *s, size_t n, char *out, size_t size) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n) return -EINVAL;
            if (!is_hex(s[i + 1]) || !is_hex(s[i + 2])) return -EINVAL;
            c = (char)(hexv(s[i + 1]) << 4 | hexv(s[i + 2]));
            i += 2;
        }
        if (out) {
            if (o + 1 >= size) return -ERANGE;
            out[o] = c;
        }
        o++;
    }
    if (out) out[o] = '\0';
    return (int)o;
}

int trail__otel_attr_get(const char *attrs, const char *key, char *out, size_t size) {
    if (!attrs || !key) return -ENOENT;
    size_t klen = strlen(key);
    int found = -ENOENT;
    const char *p = attrs;
    while (*p) {
        const char *end = strchr(p, ',');
        if (!end) end = p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        const char *ks = p, *ke = eq ? eq : end;
        while (ks < ke && is_space(*ks)) ks++;
        while (ke > ks && is_space(ke[-1])) ke--;
        if (!eq && ks == ke) { /* empty member (",," or a trailing comma): tolerated */
        } else if (!eq || ks == ke) {
            return -EINVAL;
        } else {
            const char *vs = eq + 1, *ve = end;
            while (vs < ve && is_space(*vs)) vs++;
            while (ve > vs && is_space(ve[-1])) ve--;
            int n = pct_decode(vs, (size_t)(ve - vs), NULL, 0); /* validates every pair */
            if (n < 0) return n;
            /* Later duplicates win, like the SDKs' map insertion. */
            if ((size_t)(ke - ks) == klen && memcmp(ks, key, klen) == 0) {
                if ((size_t)n + 1 > size) found = -ERANGE;
                else found = pct_decode(vs, (size_t)(ve - vs), out, size);
            }
        }
        p = *end ? end + 1 : end;
    }
    return found;
}

/* Length of the run of hex digits at s (bounded by n). */
static size_t hex_run(const char *s, size_t n) {
    size_t i = 0;
    while (i < n && is_hex(s[i])) i++;
    return i;
}

/* Finds a 64-hex run in line[0..n) delimited by non-hex characters
 * (a '-' prefix like "docker-" or a ".scope" suffix is fine). */
static int find_id64(const char *line, size_t n, char out[65]) {
    for (size_t i = 0; i < n;) {
        size_t r = hex_run(line + i, n - i);
        if (r == 64) {
            for (size_t k = 0; k < 64; k++) out[k] = (char)(line[i + k] | 0x20);
            out[64] = '\0';
            return 1;
        }
        i += r ? r : 1;
    }
    return 0;
}

static int contains(const char *s, size_t n, const char *needle) {
    size_t m = strlen(needle);
    if (m > n) return 0;
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(s + i, needle, m) == 0) return 1;
    return 0;
}

int trail__container_id_from_cgroup(const char *text, size_t len, char out[65]) {
    static const char *markers[] = {"docker", "kubepods", "containerd", "crio", "cri-o", "libpod", "ecs", "lxc", NULL};
    if (!text) return 0;
    for (size_t pos = 0; pos < len;) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + 1;
        /* "hierarchy:controllers:path"; only the path matters. */
        const char *c1 = memchr(line, ':', n);
        const char *c2 = c1 ? memchr(c1 + 1, ':', n - (size_t)(c1 + 1 - line)) : NULL;
        if (!c2) continue;
        const char *path = c2 + 1;
        size_t plen = n - (size_t)(path - line);
        int marked = 0;
        for (int m = 0; markers[m]; m++) marked |= contains(path, plen, markers[m]);
        if (marked && find_id64(path, plen, out)) return 1;
    }
    return 0;
}

int trail__container_id_from_mountinfo(const char *text, size_t len, char out[65]) {
    if (!text) return 0;
    for (size_t pos = 0; pos < len;) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + 1;
        if (!contains(line, n, "/etc/hostname") && !contains(line, n, "/etc/resolv.conf") &&
            !contains(line, n, "/etc/hosts"))
            continue;
        /* ".../containers/<64 hex>/..." (docker, containerd) or
         * ".../overlay-containers/<64 hex>/userdata/..." (podman). */
        for (size_t i = 0; i + 12 <= n; i++) {
            if (memcmp(line + i, "containers/", 11) != 0) continue;
            const char *id = line + i + 11;
            size_t rest = n - (i + 11);
            if (hex_run(id, rest) == 64 && (rest == 64 || id[64] == '/')) {
                for (size_t k = 0; k < 64; k++) out[k] = (char)(id[k] | 0x20);
                out[64] = '\0';
                return 1;
            }
        }
    }
    return 0;
}

int trail__machine_id_from_text(const char *text, size_t len, char out[33]) {
    if (!text) return 0;
    size_t i = 0;
    while (i < len && (is_space(text[i]) || text[i] == '\n')) i++;
    if (len - i < 32 || hex_run(text + i, len - i) != 32) return 0;
    for (size_t k = 0; k < 32; k++) out[k] = (char)(text[i + k] | 0x20);
    out[32] = '\0';
    return 1;
}

long trail__read_small_file(const char *path, char *buf, size_t size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t got = 0;
    while (got + 1 < size) {
        ssize_t r = read(fd, buf + got, size - 1 - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    buf[got] = '\0';
    return (long)got;
}
