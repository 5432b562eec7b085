/* checkpoint.c — see checkpoint.h. Format, one entry per line after a
 * version line:  input \t dev \t ino \t fp(hex) \t fp_len \t offset \t seen \t path
 * Paths are %-escaped (%, tab, newline) so any file name survives. */
#include "checkpoint.h"
#include "timefmt.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent_log.h"

#define HEADER "traild-checkpoint 1\n"

struct ta_ckpt {
    char *path;
    ta_ckpt_entry *v;
    size_t n, cap;
    bool dirty;
};

static void entry_free(ta_ckpt_entry *e) {
    free(e->input);
    free(e->path);
}

static void unescape(char *s) {
    char *w = s;
    for (char *r = s; *r; r++) {
        if (r[0] == '%' && r[1] && r[2]) {
            char hex[3] = {r[1], r[2], 0};
            *w++ = (char)strtol(hex, NULL, 16);
            r += 2;
        } else *w++ = *r;
    }
    *w = 0;
}

static void put_escaped(FILE *f, const char *s) {
    for (; *s; s++) {
        if (*s == '%' || *s == '\t' || *s == '\n' || *s == '\r') fprintf(f, "%%%02X", (unsigned char)*s);
        else fputc(*s, f);
    }
}

static ta_ckpt_entry *append(ta_ckpt *c) {
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->v = realloc(c->v, c->cap * sizeof *c->v);
        if (!c->v) abort();
    }
    ta_ckpt_entry *e = &c->v[c->n++];
    memset(e, 0, sizeof *e);
    return e;
}

static void load(ta_ckpt *c, FILE *f) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int lineno = 0;
    while ((len = getline(&line, &cap, f)) > 0) {
        lineno++;
        if (line[len - 1] == '\n') line[--len] = 0;
        if (lineno == 1) {
            if (strcmp(line, "traild-checkpoint 1") != 0) {
                ta_warn("checkpoint %s: unknown format, ignoring it", c->path);
                break;
            }
            continue;
        }
        char *fld[10];
        int nf = 0;
        char *save = NULL;
        for (char *t = strtok_r(line, "\t", &save); t && nf < 10; t = strtok_r(NULL, "\t", &save)) fld[nf++] = t;
        if (nf != 8 && nf != 10) {
            ta_warn("checkpoint %s:%d: malformed line skipped", c->path, lineno);
            continue;
        }
        ta_ckpt_entry *e = append(c);
        unescape(fld[0]);
        unescape(fld[7]);
        e->input = strdup(fld[0]);
        e->id.dev = strtoull(fld[1], NULL, 10);
        e->id.ino = strtoull(fld[2], NULL, 10);
        e->id.fp = strtoull(fld[3], NULL, 16);
        e->id.fp_len = (uint32_t)strtoul(fld[4], NULL, 10);
        e->offset = strtoull(fld[5], NULL, 10);
        e->seen_s = strtoll(fld[6], NULL, 10);
        e->path = strdup(fld[7]);
        if (nf == 10) {
            e->tail_fp = strtoull(fld[8], NULL, 16);
            e->tail_len = (uint32_t)strtoul(fld[9], NULL, 10);
            if (e->tail_len > 256) e->tail_len = 0;
        }
        if (e->id.fp_len > TA_FP_BYTES) e->id.fp_len = TA_FP_BYTES;
    }
    free(line);
}

ta_ckpt *ta_ckpt_open(const char *path, char *err, size_t errlen) {
    ta_ckpt *c = calloc(1, sizeof *c);
    if (!c) abort();
    if (!path) return c;
    c->path = strdup(path);
    FILE *f = fopen(path, "re");
    if (!f) {
        if (errno != ENOENT) {
            snprintf(err, errlen, "cannot read checkpoint %s: %s — check state_dir permissions", path,
                     strerror(errno));
            ta_ckpt_free(c);
            return NULL;
        }
        return c;
    }
    load(c, f);
    fclose(f);
    return c;
}

void ta_ckpt_free(ta_ckpt *c) {
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) entry_free(&c->v[i]);
    free(c->v);
    free(c->path);
    free(c);
}

ta_ckpt_entry *ta_ckpt_find(ta_ckpt *c, const char *input, uint64_t dev, uint64_t ino) {
    for (size_t i = 0; i < c->n; i++)
        if (c->v[i].id.dev == dev && c->v[i].id.ino == ino && strcmp(c->v[i].input, input) == 0)
            return &c->v[i];
    return NULL;
}

void ta_ckpt_put(ta_ckpt *c, const char *input, const ta_file_id *id, uint64_t offset, const char *path) {
    ta_ckpt_entry *e = ta_ckpt_find(c, input, id->dev, id->ino);
    if (!e) {
        e = append(c);
        e->input = strdup(input);
    }
    if (!e->path || strcmp(e->path, path) != 0) {
        free(e->path);
        e->path = strdup(path);
    }
    if (e->offset != offset) e->tail_len = 0; /* stale: the caller sets the new one */
    e->id = *id;
    e->offset = offset;
    e->seen_s = (int64_t)time(NULL);
    c->dirty = true;
}

void ta_ckpt_set_tail(ta_ckpt *c, const char *input, uint64_t dev, uint64_t ino, uint64_t tail_fp, uint32_t tail_len) {
    ta_ckpt_entry *e = ta_ckpt_find(c, input, dev, ino);
    if (e) {
        e->tail_fp = tail_fp;
        e->tail_len = tail_len;
    }
}

void ta_ckpt_touch(ta_ckpt *c, const char *input, uint64_t dev, uint64_t ino) {
    ta_ckpt_entry *e = ta_ckpt_find(c, input, dev, ino);
    if (e) e->seen_s = (int64_t)time(NULL);
}

void ta_ckpt_forget(ta_ckpt *c, const char *input, uint64_t dev, uint64_t ino) {
    ta_ckpt_entry *e = ta_ckpt_find(c, input, dev, ino);
    if (!e) return;
    entry_free(e);
    *e = c->v[--c->n];
    c->dirty = true;
}

bool ta_ckpt_dirty(const ta_ckpt *c) { return c->dirty; }
size_t ta_ckpt_count(const ta_ckpt *c) { return c->n; }
const ta_ckpt_entry *ta_ckpt_at(const ta_ckpt *c, size_t i) { return &c->v[i]; }

static int fsync_dir(const char *path) {
    char *copy = strdup(path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(copy);
    if (fd < 0) return -errno;
    int r = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return r;
}

int ta_ckpt_save(ta_ckpt *c, int64_t keep_s) {
    if (!c->dirty || !c->path) return 0;
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; i < c->n;) {
        if (keep_s > 0 && now - c->v[i].seen_s > keep_s) {
            entry_free(&c->v[i]);
            c->v[i] = c->v[--c->n];
        } else i++;
    }
    size_t tl = strlen(c->path) + 8;
    char *tmp = malloc(tl);
    snprintf(tmp, tl, "%s.tmp", c->path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = errno;
        ta_error("cannot write checkpoint %s: %s — positions are not saved", tmp, strerror(e));
        free(tmp);
        return -e;
    }
    FILE *f = fdopen(fd, "w");
    fputs(HEADER, f);
    for (size_t i = 0; i < c->n; i++) {
        ta_ckpt_entry *e = &c->v[i];
        put_escaped(f, e->input);
        fprintf(f, "\t%" PRIu64 "\t%" PRIu64 "\t%016" PRIx64 "\t%u\t%" PRIu64 "\t%" PRId64 "\t", e->id.dev,
                e->id.ino, e->id.fp, e->id.fp_len, e->offset, e->seen_s);
        put_escaped(f, e->path);
        fprintf(f, "\t%016" PRIx64 "\t%u\n", e->tail_fp, e->tail_len);
    }
    int r = 0;
    if (fflush(f) != 0 || fsync(fd) < 0) r = -errno;
    if (fclose(f) != 0 && !r) r = -errno;
    if (!r && rename(tmp, c->path) < 0) r = -errno;
    if (!r) r = fsync_dir(c->path);
    if (r) ta_error("cannot save checkpoint %s: %s", c->path, strerror(-r));
    else {
        c->dirty = false;
        ta_stats_checkpoint_saved(ta_now_ns());
    }
    free(tmp);
    return r;
}

bool ta_ckpt_has_input(const ta_ckpt *c, const char *input) {
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->v[i].input, input) == 0) return true;
    return false;
}
