/* redact.c — the redaction filter: secret-named fields and context values,
 * secret-shaped substrings of the message, string fields, context values and
 * the strings inside raw JSON fields (by key there too). Where rewritten
 * entries live: redact_scratch.c; raw JSON: redact_json.c; shapes:
 * redact_shapes.c. */
#include "core_impl.h"
#include "filter_impl.h"
#include "redact_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- keys */

static const char *const default_keys[] = {
    "password", "passwd",     "passphrase",  "secret",     "token",       "authorization",
    "api_key",  "api-key",    "apikey",      "cookie",     "private_key", "private-key",
    "credential", "session",  NULL};



static unsigned char lower(unsigned char c) { return c >= 'A' && c <= 'Z' ? (unsigned char)(c | 0x20) : c; }

/* Case-insensitive substring match of any configured key. */
int trail__redact_key(const char *key, size_t len, void *ud) {
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

/* trail__redact_key() through this slot's cache, keyed by the key's bytes. */
static int secret_key_cached(const redactor *r, trail__rslot *sl, const char *key) {
    size_t n = strlen(key);
    if (n == 0 || n > KEY_CACHE_MAX) return trail__redact_key(key, n, (void *)r);
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
    int secret = trail__redact_key(key, n, (void *)r);
    v->len = (uint8_t)n;
    v->secret = (uint8_t)secret;
    memcpy(v->key, key, n);
    return secret;
}

/* ------------------------------------------------------------- entries */

/* Rewrites one string value into the arena; returns it or NULL (unchanged
 * or out of memory). */
/* Rewrites one string value into the arena. Returns it, or NULL when
 * nothing matched; sets *oom when it could not be rewritten. */
static const char *rewrite_text(const redactor *r, trail__rslot *sl, const char *s, size_t n, int json, size_t *out_len,
                                int *oom) {
    sl->tmp.len = 0;
    long m = json ? trail__redact_json(r, s, n, &sl->tmp) : trail__redact_text(&r->shapes, s, n, &sl->tmp);
    if (m == 0) return NULL;
    const char *p = m > 0 && sl->tmp.len < TRAIL_LEN_CSTR ? trail__rslot_copy(sl, sl->tmp.data, sl->tmp.len) : NULL;
    if (!p) *oom = 1;
    *out_len = sl->tmp.len;
    return p;
}

/* Redacts an array of fields; returns a new array in the arena when
 * something changed, else NULL (with *oom set if it could not). */
static trail_field *redact_fields(const redactor *r, trail__rslot *sl, const trail_field *f, size_t n, int *oom) {
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
            out = trail__rslot_alloc(sl, n * sizeof *out);
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
    trail__rslot *sl = trail__rslot_for(r->id, e);
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
    trail__rslot_drop(r->id);
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
    r->id = trail__redact_new_id();
    r->shapes.shapes = o.no_default_shapes ? o.shapes : (o.shapes | TRAIL_REDACT_ALL_SHAPES);
    r->repl = strdup(o.replacement ? o.replacement : "[REDACTED]");
    if (!r->repl) goto oom;
    r->shapes.repl = r->repl;
    r->shapes.repl_len = strlen(r->repl);
    r->shapes.secret_key = trail__redact_key;
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
