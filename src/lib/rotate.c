/* rotate.c — rotated-file names, the rename that never overwrites, and
 * retention by count and age. See rotate.h for the naming scheme. */
#include "rotate.h"
#include "compress.h"
#include "core_impl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STAMP_LEN 19 /* YYYY-mm-ddTHH-MM-SS */

static int64_t (*clock_fn)(void);

void trail__rotate_set_clock(int64_t (*now_ns)(void)) { __atomic_store_n(&clock_fn, now_ns, __ATOMIC_RELEASE); }

int64_t trail__rotate_now_ns(void) {
    int64_t (*fn)(void) = __atomic_load_n(&clock_fn, __ATOMIC_ACQUIRE);
    return fn ? fn() : trail__now_ns();
}

int64_t trail__rotate_period_start(int64_t t_s, uint32_t interval_s) {
    if (!interval_s) return t_s;
    int64_t r = t_s % (int64_t)interval_s;
    if (r < 0) r += interval_s;
    return t_s - r;
}

/* The file name part of path and the length of its stem (up to the last
 * dot that is not the first character). */
static const char *base_of(const char *path, size_t *stem_len) {
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    *stem_len = (dot && dot != base) ? (size_t)(dot - base) : strlen(base);
    return base;
}

int trail__rotate_format(char *out, size_t size, const char *path, int64_t start_s, unsigned seq) {
    size_t stem_len;
    const char *base = base_of(path, &stem_len);
    size_t prefix = (size_t)(base - path) + stem_len; /* dir + stem */
    const char *ext = base + stem_len;
    time_t t = (time_t)start_s;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) return -EINVAL;
    char stamp[32], suffix[16] = "";
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H-%M-%S", &tm);
    if (seq) snprintf(suffix, sizeof suffix, "_%04u", seq);
    int n = snprintf(out, size, "%.*s.%s%s%s", (int)prefix, path, stamp, suffix, ext);
    return (n < 0 || (size_t)n >= size) ? -ENAMETOOLONG : 0;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Checks "YYYY-mm-ddTHH-MM-SS" by shape. */
static int is_stamp(const char *s) {
    static const char shape[] = "dddd-dd-ddTdd-dd-dd";
    for (int i = 0; i < STAMP_LEN; i++) {
        if (shape[i] == 'd' ? !is_digit(s[i]) : s[i] != shape[i]) return 0;
    }
    return 1;
}

int trail__rotate_match(const char *base, const char *name, size_t *key_len) {
    size_t stem_len;
    base_of(base, &stem_len);
    const char *ext = base + stem_len;
    size_t ext_len = strlen(ext);
    if (strncmp(name, base, stem_len) != 0 || name[stem_len] != '.') return 0;
    const char *p = name + stem_len + 1;
    if (strnlen(p, STAMP_LEN) < STAMP_LEN || !is_stamp(p)) return 0;
    p += STAMP_LEN;
    if (*p == '_') {
        p++;
        if (!is_digit(*p)) return 0;
        while (is_digit(*p)) p++;
    }
    if (strncmp(p, ext, ext_len) != 0) return 0;
    p += ext_len;
    size_t key = (size_t)(p - name);
    if (*p && strcmp(p, ".gz") != 0 && strcmp(p, ".zst") != 0) return 0;
    if (key_len) *key_len = key;
    return 1;
}

/* rename without replacing: renameat2(RENAME_NOREPLACE), or link + unlink
 * on file systems without it. */
static int rename_noreplace(const char *from, const char *to) {
#ifdef RENAME_NOREPLACE
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0) return 0;
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) return -errno;
#endif
    if (link(from, to) != 0) return -errno;
    if (unlink(from) != 0) {
        int err = errno;
        unlink(to);
        return -err;
    }
    return 0;
}

static int compressed_exists(const char *name) {
    char c[8192];
    struct stat st;
    snprintf(c, sizeof c, "%s.gz", name);
    if (lstat(c, &st) == 0) return 1;
    snprintf(c, sizeof c, "%s.zst", name);
    return lstat(c, &st) == 0;
}

int trail__rotate_move(const char *path, int64_t start_s, unsigned *seq, char *out, size_t size) {
    for (unsigned s = *seq, tries = 0; tries < 100000; s++, tries++) {
        int rc = trail__rotate_format(out, size, path, start_s, s);
        if (rc) return rc;
        if (compressed_exists(out)) continue; /* its original is gone; the name is still taken */
        rc = rename_noreplace(path, out);
        if (rc == -EEXIST) continue;
        if (rc == 0) *seq = s + 1;
        return rc;
    }
    return -EEXIST;
}

typedef struct rotated {
    char *name;
    size_t key_len;
    int64_t mtime;
} rotated;

static int cmp_rotated(const void *a, const void *b) {
    return strcmp(((const rotated *)a)->name, ((const rotated *)b)->name);
}

/* Rotated files of path in its directory, sorted oldest first. */
static rotated *list_rotated(const char *path, char *dir, size_t dir_size, size_t *count) {
    size_t stem_len;
    const char *base = base_of(path, &stem_len);
    size_t dlen = (size_t)(base - path);
    if (dlen == 0) snprintf(dir, dir_size, ".");
    else snprintf(dir, dir_size, "%.*s", (int)dlen, path);
    *count = 0;
    DIR *d = opendir(dir);
    if (!d) return NULL;
    rotated *v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t key_len;
        if (!trail__rotate_match(base, de->d_name, &key_len)) continue;
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 32;
            rotated *nv = realloc(v, ncap * sizeof *nv);
            if (!nv) break;
            v = nv;
            cap = ncap;
        }
        v[n].name = strdup(de->d_name);
        if (!v[n].name) break;
        v[n].key_len = key_len;
        v[n].mtime = (int64_t)st.st_mtime;
        n++;
    }
    closedir(d);
    if (n) qsort(v, n, sizeof *v, cmp_rotated);
    *count = n;
    return v;
}

static void free_rotated(rotated *v, size_t n) {
    for (size_t i = 0; i < n; i++) free(v[i].name);
    free(v);
}

/* Deletes one file unless a writer holds it (flock shared while appending):
 * a writer that finds its file unlinked reopens the path, so no line is
 * written into a deleted file. */
static int delete_unless_busy(int dfd, const char *name) {
    int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return errno == ENOENT ? 0 : -1;
    int rc = -1;
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
        rc = unlinkat(dfd, name, 0) == 0 || errno == ENOENT ? 1 : -1;
        flock(fd, LOCK_UN);
    }
    close(fd);
    return rc;
}

static int same_key(const rotated *a, const rotated *b) {
    return a->key_len == b->key_len && memcmp(a->name, b->name, a->key_len) == 0;
}

int trail__rotate_prune(const char *path, uint32_t max_files, uint32_t max_age_s, int64_t now_s) {
    if (!max_files && !max_age_s) return 0;
    char dir[4096];
    size_t n;
    rotated *v = list_rotated(path, dir, sizeof dir, &n);
    if (!v) return 0;
    /* Number of distinct files (a file and its .gz count once). */
    size_t groups = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || !same_key(&v[i], &v[i - 1])) groups++;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int deleted = 0;
    size_t group = 0;
    for (size_t i = 0; i < n && dfd >= 0; group++) {
        size_t j = i;
        int64_t newest = v[i].mtime;
        while (j < n && same_key(&v[j], &v[i])) {
            if (v[j].mtime > newest) newest = v[j].mtime;
            j++;
        }
        int too_many = max_files && groups - group > max_files;
        int too_old = max_age_s && newest < now_s - (int64_t)max_age_s;
        if (too_many || too_old)
            for (size_t k = i; k < j; k++)
                if (delete_unless_busy(dfd, v[k].name) > 0) deleted++;
        i = j;
    }
    if (dfd >= 0) close(dfd);
    free_rotated(v, n);
    return deleted;
}

void trail__rotate_resume_compression(const char *path, trail_compress type) {
    if (type == TRAIL_COMPRESS_NONE) return;
    char dir[4096], full[8192];
    size_t n;
    rotated *v = list_rotated(path, dir, sizeof dir, &n);
    if (!v) return;
    for (size_t i = 0; i < n; i++) {
        int compressed = v[i].name[v[i].key_len] != '\0';
        int has_compressed = i + 1 < n && same_key(&v[i], &v[i + 1]);
        if (compressed || has_compressed) continue;
        snprintf(full, sizeof full, "%s/%s", dir, v[i].name);
        trail__compress_submit(full, type);
    }
    free_rotated(v, n);
}

/* ".<rotated name>.gz.tmp<pid>.<n>" of this path: returns the pid, else 0. */
static long temp_owner(const char *base, const char *name) {
    if (name[0] != '.') return 0;
    const char *tmp = strstr(name, ".tmp");
    for (const char *next; tmp && (next = strstr(tmp + 1, ".tmp"));) tmp = next;
    if (!tmp) return 0;
    char rotated[512];
    size_t n = (size_t)(tmp - (name + 1));
    if (n >= sizeof rotated) return 0;
    memcpy(rotated, name + 1, n);
    rotated[n] = 0;
    size_t key_len;
    if (!trail__rotate_match(base, rotated, &key_len) || rotated[key_len] == '\0') return 0;
    char *end;
    long pid = strtol(tmp + 4, &end, 10);
    return (pid > 0 && *end == '.') ? pid : 0;
}

void trail__rotate_cleanup_temps(const char *path) {
    size_t stem_len;
    const char *base = base_of(path, &stem_len);
    char dir[4096];
    size_t dlen = (size_t)(base - path);
    if (dlen == 0) snprintf(dir, sizeof dir, ".");
    else snprintf(dir, sizeof dir, "%.*s", (int)dlen, path);
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        long pid = temp_owner(base, de->d_name);
        if (pid && pid != (long)getpid() && kill((pid_t)pid, 0) != 0 && errno == ESRCH)
            unlinkat(dirfd(d), de->d_name, 0);
    }
    closedir(d);
}
