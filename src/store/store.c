/* store.c — the public write side: open/close, append (routed to category
 * partitions), sync, flush, retention passes and the background thread,
 * refresh for read-only handles, stats. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store_impl.h"

#define DAY_NS (86400LL * 1000000000LL)

int64_t st_part_oldest(st_partition *p);

bool st_category_ok(const char *c) {
    size_t n = c ? strlen(c) : 0;
    if (n == 0 || n > 64 || c[0] == '.') return false;
    for (size_t i = 0; i < n; i++) {
        char ch = c[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-')) return false;
    }
    return true;
}

int64_t st_retention_for(const trail_store *s, const char *category) {
    for (uint32_t i = 0; i < s->cfg.nretention; i++)
        if (strcmp(s->cfg.retention[i].category, category) == 0) return s->cfg.retention[i].max_age_ns;
    if (strcmp(category, "access") == 0) return 731 * DAY_NS;
    if (strcmp(category, "app") == 0) return 90 * DAY_NS;
    return s->cfg.default_max_age_ns;
}

/* Finds (or, for writers with create, opens/creates) a partition. */
st_partition *st_store_part(trail_store *s, const char *name, bool create, int *err) {
    *err = 0;
    pthread_rwlock_rdlock(&s->rw);
    for (uint32_t i = 0; i < s->nparts; i++)
        if (strcmp(s->parts[i]->name, name) == 0) {
            st_partition *p = s->parts[i];
            pthread_rwlock_unlock(&s->rw);
            return p;
        }
    pthread_rwlock_unlock(&s->rw);
    if (!create) return NULL;
    pthread_rwlock_wrlock(&s->rw);
    st_partition *p = NULL;
    for (uint32_t i = 0; i < s->nparts && !p; i++)
        if (strcmp(s->parts[i]->name, name) == 0) p = s->parts[i];
    if (!p) {
        *err = st_part_open(s, name, true, &p);
        if (!*err) {
            if (s->nparts == s->partcap) {
                s->partcap = s->partcap ? s->partcap * 2 : 8;
                s->parts = realloc(s->parts, s->partcap * sizeof *s->parts);
                if (!s->parts) abort();
            }
            s->parts[s->nparts++] = p;
        }
    }
    pthread_rwlock_unlock(&s->rw);
    return p;
}

static void *background(void *arg);

static void fill_defaults(trail_store_config *c) {
    if (!c->block_bytes) c->block_bytes = 256 << 10;
    if (!c->head_bytes) c->head_bytes = 4 << 20;
    if (c->head_bytes < c->block_bytes) c->head_bytes = c->block_bytes;
    if (!c->segment_bytes) c->segment_bytes = 64ull << 20;
    if (!c->segment_span_ns) c->segment_span_ns = 3600LL * 1000000000LL;
    if (!c->seal_interval_ns) c->seal_interval_ns = 2LL * 1000000000LL;
    if (!c->dedupe_window) c->dedupe_window = 128u << 10;
    if (!c->zstd_level) c->zstd_level = 1; /* on log lines as good as 3 (or better), and faster */
    if (!c->maintain_interval_ns) c->maintain_interval_ns = 10LL * 1000000000LL;
    if (!c->default_max_age_ns) c->default_max_age_ns = 90 * DAY_NS;
}

static int open_parts(trail_store *s) {
    DIR *d = opendir(s->cfg.dir);
    if (!d) return errno == ENOENT && s->ro ? 0 : -errno;
    struct dirent *de;
    int r = 0;
    while ((de = readdir(d)) && !r) {
        if (!st_category_ok(de->d_name)) continue;
        char *path = NULL;
        struct stat st;
        if (asprintf(&path, "%s/%s", s->cfg.dir, de->d_name) < 0) abort();
        bool dir = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
        free(path);
        if (!dir) continue;
        pthread_rwlock_rdlock(&s->rw);
        bool known = false;
        for (uint32_t i = 0; i < s->nparts; i++) known |= strcmp(s->parts[i]->name, de->d_name) == 0;
        pthread_rwlock_unlock(&s->rw);
        if (known) continue;
        st_partition *p;
        r = st_part_open(s, de->d_name, false, &p);
        if (r) break;
        pthread_rwlock_wrlock(&s->rw);
        if (s->nparts == s->partcap) {
            s->partcap = s->partcap ? s->partcap * 2 : 8;
            s->parts = realloc(s->parts, s->partcap * sizeof *s->parts);
            if (!s->parts) abort();
        }
        s->parts[s->nparts++] = p;
        pthread_rwlock_unlock(&s->rw);
    }
    closedir(d);
    return r;
}

int trail_store_open(const trail_store_config *cfg, trail_store **out, char *err, size_t errlen) {
    *out = NULL;
    if (!cfg || !cfg->dir || !*cfg->dir) {
        if (err) snprintf(err, errlen, "store: no directory given (set `dir`)");
        return -EINVAL;
    }
    trail_store *s = calloc(1, sizeof *s);
    if (!s) return -ENOMEM;
    s->cfg = *cfg;
    fill_defaults(&s->cfg);
    s->cfg.dir = strdup(cfg->dir);
    trail_store_retention *ret = calloc(cfg->nretention + 1, sizeof *ret);
    for (uint32_t i = 0; i < cfg->nretention; i++) {
        ret[i].category = strdup(cfg->retention[i].category ? cfg->retention[i].category : "");
        ret[i].max_age_ns = cfg->retention[i].max_age_ns;
    }
    s->cfg.retention = ret;
    s->ro = (cfg->flags & TRAIL_STORE_READONLY) != 0;
    s->dofsync = !(cfg->flags & TRAIL_STORE_NO_FSYNC);
    s->lock_fd = -1;
    pthread_rwlock_init(&s->rw, NULL);
    pthread_mutex_init(&s->bg_mu, NULL);
    pthread_cond_init(&s->bg_cv, NULL);
    int r = 0;
    if (!s->ro) {
        r = st_mkdirs(s->cfg.dir);
        char *lock = NULL;
        if (asprintf(&lock, "%s/LOCK", s->cfg.dir) < 0) abort();
        if (!r) {
            s->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
            if (s->lock_fd < 0) r = -errno;
            else if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) r = errno == EWOULDBLOCK ? -EBUSY : -errno;
        }
        free(lock);
        if (r) {
            if (err)
                snprintf(err, errlen, "store: cannot open %s for writing: %s", s->cfg.dir,
                         r == -EBUSY ? "another process has it open (LOCK held)" : strerror(-r));
            trail_store_close(s);
            return r;
        }
    }
    r = open_parts(s);
    if (r) {
        if (err) snprintf(err, errlen, "store: cannot open %s: %s", s->cfg.dir, strerror(-r));
        trail_store_close(s);
        return r;
    }
    if (!s->ro && !(cfg->flags & TRAIL_STORE_NO_BACKGROUND)) {
        if (pthread_create(&s->bg, NULL, background, s) == 0) s->bg_running = true;
    }
    *out = s;
    return 0;
}

void trail_store_close(trail_store *s) {
    if (!s) return;
    if (s->bg_running) {
        pthread_mutex_lock(&s->bg_mu);
        s->stop = true;
        pthread_cond_signal(&s->bg_cv);
        pthread_mutex_unlock(&s->bg_mu);
        pthread_join(s->bg, NULL);
    }
    if (!s->ro) {
        trail_store_sync(s);
        trail_store_flush(s);
    }
    for (uint32_t i = 0; i < s->nparts; i++) st_part_free(s->parts[i]);
    free(s->parts);
    for (uint32_t i = 0; i < s->cfg.nretention; i++) free((char *)s->cfg.retention[i].category);
    free((void *)s->cfg.retention);
    free((char *)s->cfg.dir);
    if (s->lock_fd >= 0) close(s->lock_fd);
    pthread_rwlock_destroy(&s->rw);
    pthread_mutex_destroy(&s->bg_mu);
    pthread_cond_destroy(&s->bg_cv);
    free(s);
}

/* ------------------------------------------------------------ append */

static bool entry_ok(const trail_store_entry *e) {
    if (!st_category_ok(e->category) || e->nlabels > TRAIL_STORE_MAX_LABELS ||
        e->line_len > TRAIL_STORE_MAX_LINE || (!e->line && e->line_len) || (e->nlabels && !e->labels))
        return false;
    for (uint32_t i = 0; i < e->nlabels; i++) {
        const trail_store_label *l = &e->labels[i];
        if (!l->name || !*l->name || !l->value || strlen(l->name) > 1024 || strlen(l->value) > 65535)
            return false;
        if (strcmp(l->name, "category") == 0 && strcmp(l->value, e->category) != 0) return false;
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(e->labels[j].name, l->name) == 0) return false; /* a name twice */
    }
    return true;
}

/* Within one call the caller's strings cannot change: an entry whose
 * category and label pointers equal an already checked entry's is valid
 * too (callers reuse the same label strings; checking costs strlen/strcmp
 * per label). A small cache by those pointers. */
#define OK_CACHE 64
static uint32_t ptrs_slot(const trail_store_entry *e) {
    uint64_t h = (uintptr_t)e->category ^ e->nlabels;
    for (uint32_t i = 0; i < e->nlabels; i++)
        h = (h ^ (uintptr_t)e->labels[i].name ^ ((uint64_t)(uintptr_t)e->labels[i].value << 1)) * 0x9e3779b97f4a7c15ULL;
    return (uint32_t)(h * 0x9e3779b97f4a7c15ULL >> 58) & (OK_CACHE - 1);
}

static bool same_ptrs(const trail_store_entry *a, const trail_store_entry *b) {
    if (a->category != b->category || a->nlabels != b->nlabels) return false;
    for (uint32_t i = 0; i < a->nlabels; i++)
        if (a->labels[i].name != b->labels[i].name || a->labels[i].value != b->labels[i].value) return false;
    return true;
}

static bool entry_ok_cached(const trail_store_entry *e, const trail_store_entry **cache) {
    if (e->line_len > TRAIL_STORE_MAX_LINE || (!e->line && e->line_len) || (e->nlabels && !e->labels) ||
        e->nlabels > TRAIL_STORE_MAX_LABELS)
        return false;
    uint32_t slot = ptrs_slot(e);
    if (cache[slot] && same_ptrs(cache[slot], e)) return true;
    if (!entry_ok(e)) return false;
    cache[slot] = e;
    return true;
}

int trail_store_append(trail_store *s, const trail_store_entry *e, size_t n, trail_store_append_result *res) {
    if (res) memset(res, 0, sizeof *res);
    if (!s || (n && !e)) return -EINVAL;
    if (s->ro) return -EROFS;
    const trail_store_entry *checked[OK_CACHE] = {0};
    for (size_t i = 0; i < n; i++)
        if (!entry_ok_cached(&e[i], checked)) return -EINVAL;
    const trail_store_entry **group = malloc((n ? n : 1) * sizeof *group);
    bool *done = calloc(n ? n : 1, 1);
    if (!group || !done) abort();
    int r = 0;
    for (size_t i = 0; i < n && !r; i++) {
        if (done[i]) continue;
        size_t m = 0;
        for (size_t j = i; j < n; j++)
            if (!done[j] && (j == i || e[j].category == e[i].category || strcmp(e[j].category, e[i].category) == 0)) {
                group[m++] = &e[j];
                done[j] = true;
            }
        st_partition *p = st_store_part(s, e[i].category, true, &r);
        if (!p) break;
        pthread_mutex_lock(&p->mu);
        r = st_part_append(p, group, m, res);
        pthread_mutex_unlock(&p->mu);
    }
    free(group);
    free(done);
    return r;
}

/* Runs fn on every partition under its writer lock; first error wins. */
static int each_part(trail_store *s, int (*fn)(st_partition *)) {
    int r = 0;
    pthread_rwlock_rdlock(&s->rw);
    for (uint32_t i = 0; i < s->nparts; i++) {
        st_partition *p = s->parts[i];
        pthread_mutex_lock(&p->mu);
        int x = fn(p);
        pthread_mutex_unlock(&p->mu);
        if (x && !r) r = x;
    }
    pthread_rwlock_unlock(&s->rw);
    return r;
}

int trail_store_sync(trail_store *s) {
    if (!s) return -EINVAL;
    if (s->ro) return 0;
    return each_part(s, st_part_sync);
}

int trail_store_flush(trail_store *s) {
    if (!s) return -EINVAL;
    if (s->ro) return 0;
    return each_part(s, st_part_seal);
}

/* ------------------------------------------------------------ maintenance */

static void seal_due(trail_store *s) {
    int64_t now = st_mono_ns();
    pthread_rwlock_rdlock(&s->rw);
    for (uint32_t i = 0; i < s->nparts; i++) {
        st_partition *p = s->parts[i];
        pthread_mutex_lock(&p->mu);
        if (p->nhead && now - p->head_since >= s->cfg.seal_interval_ns) st_part_seal(p);
        pthread_mutex_unlock(&p->mu);
    }
    pthread_rwlock_unlock(&s->rw);
}

int trail_store_maintain(trail_store *s, int64_t now_ns) {
    if (!s) return -EINVAL;
    if (s->ro) return 0;
    if (!now_ns) now_ns = st_now_ns();
    seal_due(s);
    int deleted = 0;
    pthread_rwlock_rdlock(&s->rw);
    for (uint32_t i = 0; i < s->nparts; i++) {
        st_partition *p = s->parts[i];
        int64_t age = st_retention_for(s, p->name);
        if (age <= 0) continue;
        pthread_mutex_lock(&p->mu);
        deleted += st_part_retire(p, now_ns - age);
        pthread_mutex_unlock(&p->mu);
    }
    if (s->cfg.max_bytes) {
        for (;;) {
            uint64_t total = 0;
            st_partition *oldest = NULL;
            int64_t oldest_ts = INT64_MAX;
            for (uint32_t i = 0; i < s->nparts; i++) {
                st_partition *p = s->parts[i];
                pthread_mutex_lock(&p->mu);
                total += st_part_disk_bytes(p);
                int64_t o = st_part_oldest(p);
                pthread_mutex_unlock(&p->mu);
                if (o < oldest_ts) {
                    oldest_ts = o;
                    oldest = p;
                }
            }
            if (total <= s->cfg.max_bytes || !oldest) break;
            uint64_t freed = 0;
            pthread_mutex_lock(&oldest->mu);
            int n = st_part_delete_oldest(oldest, &freed);
            pthread_mutex_unlock(&oldest->mu);
            if (!n) break;
            deleted += n;
        }
    }
    pthread_rwlock_unlock(&s->rw);
    return deleted;
}

static void *background(void *arg) {
    trail_store *s = arg;
    int64_t tick = s->cfg.seal_interval_ns / 4;
    if (tick > 250000000) tick = 250000000;
    if (tick < 1000000) tick = 1000000;
    int64_t next_maint = st_mono_ns() + s->cfg.maintain_interval_ns;
    pthread_mutex_lock(&s->bg_mu);
    while (!s->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t t = (int64_t)ts.tv_nsec + tick;
        ts.tv_sec += t / 1000000000;
        ts.tv_nsec = t % 1000000000;
        pthread_cond_timedwait(&s->bg_cv, &s->bg_mu, &ts);
        if (s->stop) break;
        pthread_mutex_unlock(&s->bg_mu);
        if (st_mono_ns() >= next_maint) {
            trail_store_maintain(s, 0);
            next_maint = st_mono_ns() + s->cfg.maintain_interval_ns;
        } else {
            seal_due(s);
        }
        pthread_mutex_lock(&s->bg_mu);
    }
    pthread_mutex_unlock(&s->bg_mu);
    return NULL;
}

int trail_store_refresh(trail_store *s) {
    if (!s) return -EINVAL;
    if (!s->ro) return 0;
    pthread_mutex_lock(&s->bg_mu); /* no background thread when read-only: serialises refreshes */
    int r = open_parts(s);
    pthread_rwlock_rdlock(&s->rw);
    for (uint32_t i = 0; i < s->nparts && !r; i++) r = st_part_refresh(s->parts[i]);
    pthread_rwlock_unlock(&s->rw);
    pthread_mutex_unlock(&s->bg_mu);
    return r;
}

/* ------------------------------------------------------------ stats */

void trail_store_get_stats(trail_store *s, trail_store_stats *st) {
    memset(st, 0, sizeof *st);
    if (!s) return;
    pthread_rwlock_rdlock(&s->rw);
    for (uint32_t i = 0; i < s->nparts; i++) {
        st_partition *p = s->parts[i];
        pthread_mutex_lock(&p->mu);
        pthread_rwlock_rdlock(&p->rw);
        st->disk_bytes += st_part_disk_bytes(p);
        st->streams += p->streams.n;
        st->segments += p->nsegs;
        st->head_entries += p->nhead;
        st->entries += p->nhead;
        for (size_t h = 0; h < p->nhead; h++) st->raw_bytes += p->head[h].line_len;
        for (uint32_t g = 0; g < p->nsegs; g++) {
            st_segment *seg = p->segs[g];
            st->blocks += seg->nblocks;
            for (uint32_t b = 0; b < seg->nblocks; b++) {
                if (seg->blocks[b]->seq >= p->view_cutoff) continue;
                st->entries += seg->blocks[b]->count;
                st->raw_bytes += seg->blocks[b]->line_bytes;
            }
        }
        pthread_rwlock_unlock(&p->rw);
        pthread_mutex_unlock(&p->mu);
    }
    pthread_rwlock_unlock(&s->rw);
    st->duplicates = atomic_load(&s->duplicates);
    st->segments_deleted = atomic_load(&s->segments_deleted);
    st->corrupt_blocks = atomic_load(&s->corrupt_blocks);
    st->torn_bytes = atomic_load(&s->torn_bytes);
}

const char *trail_store_strerror(int err) {
    switch (err) {
    case 0: return "success";
    case -EBUSY: return "the store directory is open for writing by another process";
    case -EROFS: return "the store was opened read-only";
    case -EINVAL: return "invalid argument (category must match [a-z0-9_-]{1,64}; labels need names)";
    case -ENOSPC: return "no space left on the store's disk";
    default: return err < 0 ? strerror(-err) : "unknown error";
    }
}
