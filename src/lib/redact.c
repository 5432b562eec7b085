/* redact.c — the redaction filter: secret-named fields and context values,
 * secret-shaped substrings of the message, string fields, context values and
 * the strings inside raw JSON fields (by key there too).
 *
 * Where the rewritten entry lives. trail_entry's msg, fields and ctx are
 * const pointers into the caller's record, so the filter never writes into
 * them: it builds replacements in a scratch arena and points the entry (the
 * mutable copy the chain passes around) at them. The arena belongs to one
 * (thread, filter) pair and is reset the next time the same filter runs on
 * the same thread. A dispatch — filters, then formatting, then the write —
 * is single-threaded and finishes before that thread runs the filter again,
 * so the storage outlives every use of the entry. (Two arenas alternate,
 * and an arena the incoming entry still points into is not emptied, so an
 * entry filtered again by the same filter never reads overwritten output.) Several redact filters in one
 * chain get separate arenas (keyed by a filter id that is never reused), so
 * a later one does not clobber an earlier one's output. Arenas are freed
 * with their thread (pthread key destructor), or when the filter is freed
 * on this thread; a thread keeps at most SLOTS of them (least recently used
 * is recycled; a chain with more than SLOTS redact filters is not
 * supported). */
#include "core_impl.h"
#include "filter_impl.h"
#include "redact_shapes.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- scratch */

#define SLOTS 8

typedef struct chunk {
    struct chunk *next;
    size_t cap, used;
    _Alignas(16) unsigned char data[];
} chunk;

/* Caches of verdicts, per slot (so per thread and filter: no locking).
 * Entries hold a copy of what they describe and are checked with memcmp,
 * so a stale pointer or a reused buffer can never return a wrong verdict. */
#define KEY_CACHE 64
#define KEY_CACHE_MAX 30
#define MSG_CACHE 64
#define MSG_CACHE_MAX 120

typedef struct key_verdict {
    uint8_t len; /* 0 = empty */
    uint8_t secret;
    char key[KEY_CACHE_MAX];
} key_verdict;

typedef struct msg_verdict { /* call-site messages known to hold no shape */
    const char *ptr;
    uint32_t len;
    char copy[MSG_CACHE_MAX];
} msg_verdict;

typedef struct slot {
    uint64_t owner; /* filter id, 0 = free */
    key_verdict keys[KEY_CACHE];
    msg_verdict msgs[MSG_CACHE];
    uint64_t last_use;
    chunk *chunks[2]; /* two arenas, used in turn; each newest (largest) chunk first */
    int cur;          /* the arena of the current run */
    trail_buf tmp;    /* staging for text rewrites */
} slot;

typedef struct scratch {
    slot s[SLOTS];
    uint64_t tick;
} scratch;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static uint64_t next_filter_id = 1;

static void slot_release(slot *sl) {
    for (int a = 0; a < 2; a++)
        for (chunk *c = sl->chunks[a], *n; c; c = n) {
            n = c->next;
            free(c);
        }
    trail_buf_free(&sl->tmp);
    memset(sl, 0, sizeof *sl);
}

static void scratch_destroy(void *p) {
    scratch *sc = p;
    for (int i = 0; i < SLOTS; i++) slot_release(&sc->s[i]);
    free(sc);
}

static void scratch_key_init(void) { pthread_key_create(&scratch_key, scratch_destroy); }

static scratch *thread_scratch(int create) {
    pthread_once(&scratch_once, scratch_key_init);
    scratch *sc = pthread_getspecific(scratch_key);
    if (!sc && create) {
        sc = calloc(1, sizeof *sc);
        if (sc && pthread_setspecific(scratch_key, sc) != 0) {
            free(sc);
            sc = NULL;
        }
    }
    return sc;
}

static int in_arena(const chunk *c, const void *p) {
    for (; c && p; c = c->next)
        if ((uintptr_t)p >= (uintptr_t)c->data && (uintptr_t)p < (uintptr_t)c->data + c->cap) return 1;
    return 0;
}

static int fields_in_arena(const chunk *c, const trail_field *f, size_t n) {
    if (in_arena(c, f)) return 1;
    for (size_t i = 0; i < n; i++)
        if ((f[i].type == TRAIL_T_STR || f[i].type == TRAIL_T_JSON) && in_arena(c, f[i].v.s)) return 1;
    return 0;
}

/* Whether e still points into arena c: the same entry filtered again by
 * the same filter. Then c must not be emptied under it. */
static int entry_in_arena(const chunk *c, const trail_entry *e) {
    return c && (in_arena(c, e->msg) || fields_in_arena(c, e->fields, e->nfields) ||
                 fields_in_arena(c, e->ctx, e->nctx));
}

/* This thread's arena for filter id, emptied: what it held belonged to the
 * previous entry this filter rewrote on this thread. */
static slot *slot_for(uint64_t id, const trail_entry *e) {
    scratch *sc = thread_scratch(1);
    if (!sc) return NULL;
    slot *victim = &sc->s[0];
    for (int i = 0; i < SLOTS; i++) {
        if (sc->s[i].owner == id) {
            victim = &sc->s[i];
            goto found;
        }
        if (sc->s[i].last_use < victim->last_use) victim = &sc->s[i];
    }
    /* A slot taken over from another filter: its verdicts are not ours. */
    memset(victim->keys, 0, sizeof victim->keys);
    memset(victim->msgs, 0, sizeof victim->msgs);
    victim->owner = id;
found:
    victim->last_use = ++sc->tick;
    /* Switch arenas: the other one holds the previous run's output, which
     * may be this run's input (the same entry filtered twice). */
    victim->cur ^= 1;
    chunk *head = victim->chunks[victim->cur];
    /* Keep only the newest chunk (the biggest): steady state is one chunk, no malloc. */
    if (head && !entry_in_arena(head, e)) {
        for (chunk *c = head->next, *n; c; c = n) {
            n = c->next;
            free(c);
        }
        head->next = NULL;
        head->used = 0;
    }
    return victim;
}

/* Fault injection for tests (trail__redact_set_alloc): arena chunks come
 * from here. */
static void *(*chunk_malloc)(size_t) = malloc;
void trail__redact_set_alloc(void *(*fn)(size_t)) { chunk_malloc = fn ? fn : malloc; }

static void *arena_alloc(slot *sl, size_t n) {
    n = (n + 15) & ~(size_t)15;
    chunk *c = sl->chunks[sl->cur];
    if (!c || c->cap - c->used < n) {
        size_t cap = c ? c->cap * 2 : 4096;
        while (cap < n) cap *= 2;
        chunk *nc = chunk_malloc(sizeof *nc + cap);
        if (!nc) return NULL;
        nc->next = c;
        nc->cap = cap;
        nc->used = 0;
        sl->chunks[sl->cur] = c = nc;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

static const char *arena_copy(slot *sl, const char *s, size_t n) {
    char *p = arena_alloc(sl, n ? n : 1);
    if (p && n) memcpy(p, s, n);
    return p;
}

/* ------------------------------------------------------------- keys */

static const char *const default_keys[] = {
    "password", "passwd",     "passphrase",  "secret",     "token",       "authorization",
    "api_key",  "api-key",    "apikey",      "cookie",     "private_key", "private-key",
    "credential", "session",  NULL};

typedef struct redactor {
    uint64_t id;
    trail__shape_cfg shapes; /* repl = plain replacement */
    char *repl;              /* plain */
    char *json_repl;         /* as a JSON string literal, quotes included */
    size_t json_repl_len;
    char *inner_json_repl;   /* JSON-escaped, no quotes: inside a JSON string */
    size_t inner_json_repl_len;
    char **keys; /* lowercase */
    size_t *key_len;
    size_t nkeys;
    int has_short_key;        /* a 1-byte key: the bigram prefilter cannot see it */
    uint64_t bigram[65536 / 64]; /* (first, second) lowercase bytes of every key */
} redactor;

static unsigned char lower(unsigned char c) { return c >= 'A' && c <= 'Z' ? (unsigned char)(c | 0x20) : c; }

/* Case-insensitive substring match of any configured key. */
static int secret_key(const char *key, size_t len, void *ud) {
    const redactor *r = ud;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = lower((unsigned char)key[i]);
        if (!r->has_short_key) {
            /* Prefilter: most positions of most keys start no pattern. */
            if (i + 1 >= len) break;
            unsigned bg = (unsigned)c << 8 | lower((unsigned char)key[i + 1]);
            if (!(r->bigram[bg >> 6] >> (bg & 63) & 1)) continue;
        }
        for (size_t k = 0; k < r->nkeys; k++) {
            size_t kl = r->key_len[k];
            if ((unsigned char)r->keys[k][0] != c || kl > len - i) continue;
            size_t j = 1;
            while (j < kl && lower((unsigned char)key[i + j]) == (unsigned char)r->keys[k][j]) j++;
            if (j == kl) return 1;
        }
    }
    return 0;
}

/* secret_key() through this slot's cache, keyed by the key's bytes. */
static int secret_key_cached(const redactor *r, slot *sl, const char *key) {
    size_t n = strlen(key);
    if (n == 0 || n > KEY_CACHE_MAX) return secret_key(key, n, (void *)r);
    uint64_t a = 0, b = 0;
    if (n >= 8) {
        memcpy(&a, key, 8);
        memcpy(&b, key + n - 8, 8);
    } else {
        for (size_t i = 0; i < n; i++) a = a << 8 | (unsigned char)key[i];
    }
    uint64_t h = (a * 0x9E3779B97F4A7C15ull) ^ (b * 0xC2B2AE3D27D4EB4Full) ^ n;
    /* Two-way: a key has two places, so two hot keys that collide do not
     * evict each other on every entry. */
    size_t idx = (size_t)((h * 0x2545F4914F6CDD1Dull) >> 58) & ~(size_t)1;
    key_verdict *w = &sl->keys[idx];
    for (int k = 0; k < 2; k++)
        if (w[k].len == n && memcmp(w[k].key, key, n) == 0) return w[k].secret;
    key_verdict *v = !w[0].len ? &w[0] : !w[1].len ? &w[1] : &w[(h >> 40) & 1];
    int secret = secret_key(key, n, (void *)r);
    v->len = (uint8_t)n;
    v->secret = (uint8_t)secret;
    memcpy(v->key, key, n);
    return secret;
}

/* ------------------------------------------------------------- JSON */

static size_t json_string_end(const char *s, size_t n, size_t i) { /* s[i] == '"'; index after the closing quote */
    for (i++; i < n; i++) {
        if (s[i] == '\\') i++;
        else if (s[i] == '"') return i + 1;
    }
    return n;
}

static size_t skip_ws(const char *s, size_t n, size_t i) {
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
    return i;
}

/* End of the JSON value at s[i] (string, balanced container or scalar). */
static size_t json_value_end(const char *s, size_t n, size_t i) {
    if (i >= n) return n;
    if (s[i] == '"') return json_string_end(s, n, i);
    if (s[i] == '{' || s[i] == '[') {
        size_t depth = 0;
        while (i < n) {
            char c = s[i];
            if (c == '"') {
                i = json_string_end(s, n, i);
                continue;
            }
            if (c == '{' || c == '[') depth++;
            else if ((c == '}' || c == ']') && --depth == 0) return i + 1;
            i++;
        }
        return n;
    }
    /* A scalar; up to the next separator, spaces included, so in malformed
     * JSON "Bearer x" after a secret key goes as a whole. */
    while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != '\r' && s[i] != '\n' && s[i]) i++;
    return i;
}

/* Rewrites raw JSON: values under secret keys become the replacement string
 * (whole objects and arrays included); the contents of every string (keys
 * too) are shape-scanned with a JSON-escaped replacement; text between
 * strings (numbers, or anything in malformed JSON, which is rendered as a
 * string) is shape-scanned with a quoted replacement so valid JSON stays
 * valid. Returns the number of replacements; out gets the text only if > 0. */
typedef struct json_rw {
    const char *s;
    size_t copied;
    long count;
    trail_buf *out;
} json_rw;

/* Shape-scans s[a, b); on a match emits everything up to b, redacted. */
static int json_region(json_rw *w, const trail__shape_cfg *cfg, size_t a, size_t b) {
    if (b <= a) return 0;
    size_t mark = w->out->len;
    if (trail_buf_put(w->out, w->s + w->copied, a - w->copied)) return -ENOMEM;
    long m = trail__redact_text(cfg, w->s + a, b - a, w->out);
    if (m < 0) return -ENOMEM;
    if (m == 0) {
        w->out->len = mark;
        return 0;
    }
    w->count += m;
    w->copied = b;
    return 0;
}

static int json_sep(char c) { return strchr(" \t\r\n,:[]{}", c) != NULL; }

/* Text between strings: a match is widened to its whole token (a number
 * such as -4111111111111111 or 1e4111111111111111) and replaced by the
 * quoted replacement, so a valid document stays valid. */
static int json_outer_region(json_rw *w, const trail__shape_cfg *cfg, size_t a, size_t b) {
    if (b <= a) return 0;
    const char *s = w->s + a;
    size_t n = b - a, pos = 0, ms, me;
    unsigned possible = trail__shapes_possible(cfg, s, n);
    while (pos < n && trail__shape_next_in(cfg, possible, s, n, pos, &ms, &me)) {
        while (ms > pos && !json_sep(s[ms - 1])) ms--;
        while (me < n && !json_sep(s[me])) me++;
        if (trail_buf_put(w->out, w->s + w->copied, a + ms - w->copied) ||
            trail_buf_put(w->out, cfg->repl, cfg->repl_len))
            return -ENOMEM;
        w->copied = a + me;
        w->count++;
        pos = me > ms ? me : ms + 1;
    }
    return 0;
}

static long redact_json(const redactor *r, const char *s, size_t n, trail_buf *out) {
    json_rw w = {s, 0, 0, out};
    size_t start = out->len, i = 0;
    trail__shape_cfg inner = r->shapes, outer = r->shapes;
    inner.repl = r->inner_json_repl;
    inner.repl_len = r->inner_json_repl_len;
    outer.repl = r->json_repl;
    outer.repl_len = r->json_repl_len;
    for (;;) {
        const char *q = memchr(s + i, '"', n - i);
        size_t qs = q ? (size_t)(q - s) : n;
        if (json_outer_region(&w, &outer, i, qs)) goto oom;
        if (qs >= n) break;
        size_t end = json_string_end(s, n, qs);
        size_t cs = qs + 1, ce = end > cs && s[end - 1] == '"' ? end - 1 : end;
        size_t after = skip_ws(s, n, end);
        if (json_region(&w, &inner, cs, ce)) goto oom;
        if (after < n && s[after] == ':' && secret_key(s + cs, ce - cs, (void *)r)) {
            size_t v = skip_ws(s, n, after + 1);
            size_t ve = json_value_end(s, n, v);
            if (trail_buf_put(out, s + w.copied, v - w.copied) || trail_buf_put(out, r->json_repl, r->json_repl_len))
                goto oom;
            w.copied = i = ve;
            w.count++;
            continue;
        }
        i = end;
    }
    if (w.count && trail_buf_put(out, s + w.copied, n - w.copied)) goto oom;
    if (!w.count) out->len = start;
    return w.count;
oom:
    out->len = start;
    return -ENOMEM;
}

/* ------------------------------------------------------------- entries */

/* Rewrites one string value into the arena; returns it or NULL (unchanged
 * or out of memory). */
/* Rewrites one string value into the arena. Returns it, or NULL when
 * nothing matched; sets *oom when it could not be rewritten. */
static const char *rewrite_text(const redactor *r, slot *sl, const char *s, size_t n, int json, size_t *out_len,
                                int *oom) {
    sl->tmp.len = 0;
    long m = json ? redact_json(r, s, n, &sl->tmp) : trail__redact_text(&r->shapes, s, n, &sl->tmp);
    if (m == 0) return NULL;
    const char *p = m > 0 && sl->tmp.len < TRAIL_LEN_CSTR ? arena_copy(sl, sl->tmp.data, sl->tmp.len) : NULL;
    if (!p) *oom = 1;
    *out_len = sl->tmp.len;
    return p;
}

/* Redacts an array of fields; returns a new array in the arena when
 * something changed, else NULL (with *oom set if it could not). */
static trail_field *redact_fields(const redactor *r, slot *sl, const trail_field *f, size_t n, int *oom) {
    trail_field *out = NULL;
    for (size_t i = 0; i < n; i++) {
        trail_field nf = f[i];
        int changed = 0;
        size_t len = f[i].len;
        if (f[i].key && f[i].type != TRAIL_T_NULL && secret_key_cached(r, sl, f[i].key)) {
            nf.type = TRAIL_T_STR;
            nf.v.s = r->repl;
            nf.len = (uint32_t)r->shapes.repl_len;
            changed = 1;
        } else if ((f[i].type == TRAIL_T_STR || f[i].type == TRAIL_T_JSON) && f[i].v.s) {
            if (len == TRAIL_LEN_CSTR) len = strlen(f[i].v.s);
            size_t nl;
            const char *ns = rewrite_text(r, sl, f[i].v.s, len, f[i].type == TRAIL_T_JSON, &nl, oom);
            if (ns) {
                nf.v.s = ns;
                nf.len = (uint32_t)nl;
                changed = 1;
            }
        }
        if (!changed) continue;
        if (!out) {
            out = arena_alloc(sl, n * sizeof *out);
            if (!out) {
                *oom = 1;
                return NULL;
            }
            memcpy(out, f, n * sizeof *out);
        }
        out[i] = nf;
    }
    return out;
}

static int oom_reported;

static int redact_entry(trail_entry *e, void *ud) {
    const redactor *r = ud;
    int oom = 0;
    slot *sl = slot_for(r->id, e);
    if (!sl) oom = 1;
    if (!oom && e->msg && e->msg_len) {
        /* A call-site message (file set) is a literal seen again and again:
         * remember the clean ones. The copy check keeps this exact even if
         * an earlier filter pointed msg at a reused buffer. */
        msg_verdict *mv = NULL;
        int known_clean = 0;
        if (e->file && e->msg_len <= MSG_CACHE_MAX) {
            mv = &sl->msgs[((uintptr_t)e->msg * 0x9E3779B97F4A7C15ull) >> 58];
            known_clean = mv->ptr == e->msg && mv->len == e->msg_len && memcmp(mv->copy, e->msg, e->msg_len) == 0;
        }
        if (!known_clean) {
            size_t nl;
            const char *nm = rewrite_text(r, sl, e->msg, e->msg_len, 0, &nl, &oom);
            if (nm) {
                e->msg = nm;
                e->msg_len = nl;
            } else if (mv && !oom) {
                mv->ptr = e->msg;
                mv->len = (uint32_t)e->msg_len;
                memcpy(mv->copy, e->msg, e->msg_len);
            }
        }
    }
    if (!oom && e->nfields) {
        trail_field *nf = redact_fields(r, sl, e->fields, e->nfields, &oom);
        if (nf) e->fields = nf;
    }
    if (!oom && e->nctx) {
        trail_field *nc = redact_fields(r, sl, e->ctx, e->nctx, &oom);
        if (nc) e->ctx = nc;
    }
    if (oom) {
        /* Something could not be rewritten: letting a secret through is
         * worse than losing the entry (counted as filtered). */
        __atomic_store_n(&oom_reported, 1, __ATOMIC_RELAXED);
        trail__report_once("redact_oom", "redaction: out of memory; entries are dropped until memory returns");
        return 0;
    }
    if (__atomic_load_n(&oom_reported, __ATOMIC_RELAXED) && __atomic_exchange_n(&oom_reported, 0, __ATOMIC_RELAXED))
        trail__report_clear("redact_oom"); /* recovered: report again next time */
    return 1;
}

/* ------------------------------------------------------------- setup */

static void redactor_free(void *ud) {
    redactor *r = ud;
    if (!r) return;
    scratch *sc = thread_scratch(0);
    if (sc)
        for (int i = 0; i < SLOTS; i++)
            if (sc->s[i].owner == r->id) slot_release(&sc->s[i]);
    for (size_t k = 0; k < r->nkeys; k++) free(r->keys[k]);
    free(r->keys);
    free(r->key_len);
    free(r->repl);
    free(r->json_repl);
    free(r->inner_json_repl);
    free(r);
}

/* JSON-escapes s; with quotes when quoted. */
static char *json_escape(const char *s, int quoted, size_t *len) {
    size_t n = strlen(s);
    char *o = malloc(n * 6 + 3), *p = o;
    if (!o) return NULL;
    if (quoted) *p++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') *p++ = '\\', *p++ = (char)c;
        else if (c < 0x20) p += sprintf(p, "\\u%04x", c);
        else *p++ = (char)c;
    }
    if (quoted) *p++ = '"';
    *p = '\0';
    *len = (size_t)(p - o);
    return o;
}

static int add_key(redactor *r, const char *k) {
    size_t n = strlen(k);
    if (!n) return 0;
    char *lk = malloc(n + 1);
    char **nk = realloc(r->keys, (r->nkeys + 1) * sizeof *nk);
    if (nk) r->keys = nk;
    size_t *nl = nk ? realloc(r->key_len, (r->nkeys + 1) * sizeof *nl) : NULL;
    if (nl) r->key_len = nl;
    if (!lk || !nk || !nl) {
        free(lk);
        return -ENOMEM;
    }
    for (size_t i = 0; i <= n; i++) lk[i] = (char)lower((unsigned char)k[i]);
    if (n == 1) r->has_short_key = 1;
    else {
        unsigned bg = (unsigned)(unsigned char)lk[0] << 8 | (unsigned char)lk[1];
        r->bigram[bg >> 6] |= 1ull << (bg & 63);
    }
    r->keys[r->nkeys] = lk;
    r->key_len[r->nkeys++] = n;
    return 0;
}

trail_filter *trail_filter_redact(const trail_redact_opts *opts) {
    trail_redact_opts o = {0};
    if (opts) o = *opts;
    redactor *r = calloc(1, sizeof *r);
    if (!r) goto oom;
    r->id = __atomic_fetch_add(&next_filter_id, 1, __ATOMIC_RELAXED);
    r->shapes.shapes = o.no_default_shapes ? o.shapes : (o.shapes | TRAIL_REDACT_ALL_SHAPES);
    r->repl = strdup(o.replacement ? o.replacement : "[REDACTED]");
    if (!r->repl) goto oom;
    r->shapes.repl = r->repl;
    r->shapes.repl_len = strlen(r->repl);
    r->shapes.secret_key = secret_key;
    r->shapes.key_ud = r;
    r->json_repl = json_escape(r->repl, 1, &r->json_repl_len);
    r->inner_json_repl = json_escape(r->repl, 0, &r->inner_json_repl_len);
    if (!r->json_repl || !r->inner_json_repl) goto oom;
    if (!o.no_default_keys)
        for (const char *const *k = default_keys; *k; k++)
            if (add_key(r, *k)) goto oom;
    if (o.keys)
        for (const char *const *k = o.keys; *k; k++)
            if (add_key(r, *k)) goto oom;
    trail_filter *f = trail_filter_custom(redact_entry, r, redactor_free);
    if (!f) goto oom;
    return f;
oom:
    redactor_free(r);
    trail__error(-ENOMEM, "trail_filter_redact: out of memory");
    return NULL;
}
