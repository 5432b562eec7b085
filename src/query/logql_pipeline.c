/* logql_pipeline.c — evaluation of log pipeline stages on one entry.
 *
 * Extracted labels follow Loki: nested JSON objects flatten with '_'
 * (`{"a":{"b":1}}` gives a_b="1"), arrays are skipped, characters that are
 * not valid in a label name become '_', and a name that collides with a
 * stream label gets the suffix "_extracted". Structured metadata is visible
 * to label filters too (as in Loki 3).
 */
#include "logql_pipeline.h"

#include <stdlib.h>
#include <string.h>

#include "logql_regex.h"
#include "tq_json.h"

void tq_pipe_init(tq_pipe *p) { memset(p, 0, sizeof *p); }

void tq_pipe_free(tq_pipe *p) {
    free(p->l);
    tq_arena_free(&p->arena);
    memset(p, 0, sizeof *p);
}

const tq_plabel *tq_pipe_get(const tq_pipe *p, const char *name, size_t nlen) {
    for (size_t i = 0; i < p->n; i++)
        if (p->l[i].nlen == nlen && memcmp(p->l[i].name, name, nlen) == 0) return &p->l[i];
    return NULL;
}

static void push_label(tq_pipe *p, const char *name, size_t nlen, const char *val, size_t vlen, int extracted) {
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->l = realloc(p->l, p->cap * sizeof *p->l);
        if (!p->l) abort();
    }
    p->l[p->n++] = (tq_plabel){name, val, nlen, vlen, extracted, 0};
}

/* Adds an extracted label with Loki's collision rules. */
static tq_plabel *add_extracted(tq_pipe *p, const char *name, size_t nlen, const char *val, size_t vlen) {
    for (size_t i = 0; i < p->n; i++) {
        if (p->l[i].nlen != nlen || memcmp(p->l[i].name, name, nlen) != 0) continue;
        if (p->l[i].extracted) { /* a later parser overwrites */
            p->l[i].value = val;
            p->l[i].vlen = vlen;
            p->l[i].hidden = 0;
            return &p->l[i];
        }
        char *n2 = tq_arena_alloc(&p->arena, nlen + 11);
        memcpy(n2, name, nlen);
        memcpy(n2 + nlen, "_extracted", 11);
        return add_extracted(p, n2, nlen + 10, val, vlen);
    }
    push_label(p, name, nlen, val, vlen, 1);
    return &p->l[p->n - 1];
}

static char *sanitize(tq_arena *a, const char *prefix, size_t plen, const char *key, size_t klen, size_t *outlen) {
    size_t n = plen + (plen ? 1 : 0) + klen;
    char *s = tq_arena_alloc(a, n + 1);
    size_t o = 0;
    if (plen) {
        memcpy(s, prefix, plen);
        o = plen;
        s[o++] = '_';
    }
    for (size_t i = 0; i < klen; i++) {
        char c = key[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (c >= '0' && c <= '9' && o > 0);
        s[o++] = ok ? c : '_';
    }
    s[o] = 0;
    *outlen = o;
    return s;
}

static void flatten(tq_pipe *p, const tq_jval *obj, const char *prefix, size_t plen, int depth) {
    for (size_t i = 0; i < obj->n; i++) {
        const tq_jval *v = &obj->kids[i];
        size_t nl;
        char *name = sanitize(&p->arena, prefix, plen, obj->keys[i], obj->keylens[i], &nl);
        if (nl == 0) continue;
        switch (v->type) {
        case TQ_JOBJ:
            if (depth < 32) flatten(p, v, name, nl, depth + 1);
            break;
        case TQ_JARR: break;
        case TQ_JNULL: add_extracted(p, name, nl, "", 0); break;
        default: add_extracted(p, name, nl, v->s, v->len); break;
        }
    }
}

static void stage_json(tq_pipe *p) {
    /* Loki marks unparsable lines with __error__="JSONParserErr" and keeps
     * them; we do the same so `| __error__=""` drops them. */
    tq_jval *root = tq_json_parse(&p->arena, p->line, p->len, 64, NULL, 0);
    if (!root || root->type != TQ_JOBJ) {
        add_extracted(p, "__error__", 9, "JSONParserErr", 13);
        return;
    }
    flatten(p, root, NULL, 0, 0);
}

static void stage_logfmt(tq_pipe *p) {
    const char *s = p->line, *e = p->line + p->len;
    while (s < e) {
        while (s < e && (*s == ' ' || *s == '\t')) s++;
        const char *k = s;
        while (s < e && *s != '=' && *s != ' ' && *s != '\t') s++;
        size_t klen = (size_t)(s - k);
        const char *v = "";
        size_t vlen = 0;
        if (s < e && *s == '=') {
            s++;
            if (s < e && *s == '"') {
                s++;
                char *out = tq_arena_alloc(&p->arena, (size_t)(e - s) + 1);
                size_t o = 0;
                while (s < e && *s != '"') {
                    if (*s == '\\' && s + 1 < e) {
                        s++;
                        out[o++] = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s;
                        s++;
                    } else {
                        out[o++] = *s++;
                    }
                }
                if (s < e) s++;
                out[o] = 0;
                v = out;
                vlen = o;
            } else {
                v = s;
                while (s < e && *s != ' ' && *s != '\t') s++;
                vlen = (size_t)(s - v);
            }
        }
        if (klen) {
            size_t nl;
            char *name = sanitize(&p->arena, NULL, 0, k, klen, &nl);
            add_extracted(p, name, nl, v, vlen);
        }
    }
}

static int parse_num(const char *s, size_t n, double *out) {
    char buf[64];
    if (n == 0 || n >= sizeof buf) return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    char *end;
    double v = strtod(buf, &end);
    if (*end) {
        /* Durations ("1.5s", "250ms") compare in seconds, like Loki. */
        double ns;
        extern int tq_parse_duration(const char *, size_t, double *);
        if (tq_parse_duration(buf, n, &ns) == 0) { *out = ns / 1e9; return 0; }
        return -1;
    }
    *out = v;
    return 0;
}

static int eval_lf(tq_pipe *p, const tq_label_filter *f) {
    switch (f->kind) {
    case TQ_LF_AND: return eval_lf(p, f->left) && eval_lf(p, f->right);
    case TQ_LF_OR: return eval_lf(p, f->left) || eval_lf(p, f->right);
    case TQ_LF_CMP: break;
    }
    const tq_plabel *l = tq_pipe_get(p, f->name, strlen(f->name));
    const char *v = l ? l->value : "";
    size_t vl = l ? l->vlen : 0;
    if (!f->numeric) {
        switch (f->op) {
        case TQ_CMP_EQ: return vl == strlen(f->str) && memcmp(v, f->str, vl) == 0;
        case TQ_CMP_NEQ: return !(vl == strlen(f->str) && memcmp(v, f->str, vl) == 0);
        case TQ_CMP_RE: return tq_regex_match(&f->re, v, vl);
        case TQ_CMP_NRE: return !tq_regex_match(&f->re, v, vl);
        default: return 0;
        }
    }
    double x;
    /* A missing or non-numeric value fails a numeric comparison. */
    if (!l || parse_num(v, vl, &x) < 0) return 0;
    switch (f->op) {
    case TQ_CMP_GT: return x > f->num;
    case TQ_CMP_GE: return x >= f->num;
    case TQ_CMP_LT: return x < f->num;
    case TQ_CMP_LE: return x <= f->num;
    case TQ_CMP_NUM_EQ: return x == f->num;
    case TQ_CMP_NUM_NEQ: return x != f->num;
    default: return 0;
    }
}

/* The text a template part stands for. */
static void part_value(const tq_pipe *p, const tq_tmpl_part *pt, const char **v, size_t *n) {
    if (pt->is_line) {
        *v = p->line;
        *n = p->len;
    } else if (pt->is_label) {
        const tq_plabel *l = tq_pipe_get(p, pt->text, pt->len);
        *v = l ? l->value : "";
        *n = l ? l->vlen : 0;
    } else {
        *v = pt->text;
        *n = pt->len;
    }
}

static void stage_line_format(tq_pipe *p, const tq_stage *st) {
    size_t n = 0;
    for (size_t i = 0; i < st->nparts; i++) {
        const char *v;
        size_t l;
        part_value(p, &st->parts[i], &v, &l);
        n += l;
    }
    char *out = tq_arena_alloc(&p->arena, n + 1);
    size_t o = 0;
    for (size_t i = 0; i < st->nparts; i++) {
        const char *v;
        size_t l;
        part_value(p, &st->parts[i], &v, &l);
        if (l) memcpy(out + o, v, l);
        o += l;
    }
    out[o] = 0;
    p->line = out;
    p->len = o;
}

static int contains(const char *h, size_t hn, const char *n, size_t nn) {
    if (nn == 0) return 1;
    if (nn > hn) return 0;
    return memmem(h, hn, n, nn) != NULL;
}

int tq_pipe_run(tq_pipe *p, const tq_log_expr *le, const tq_entry *e) {
    tq_arena_reset(&p->arena);
    p->n = 0;
    p->line = e->line;
    p->len = e->len;
    for (size_t i = 0; i < e->nlabels; i++)
        push_label(p, e->labels[i].name, strlen(e->labels[i].name), e->labels[i].value, strlen(e->labels[i].value), 0);
    for (size_t i = 0; i < e->nmeta; i++) {
        tq_plabel *l = add_extracted(p, e->meta[i].name, strlen(e->meta[i].name), e->meta[i].value,
                                     strlen(e->meta[i].value));
        l->hidden = 1;
    }
    for (size_t i = 0; i < le->nstages; i++) {
        const tq_stage *st = &le->stages[i];
        switch (st->kind) {
        case TQ_STAGE_LINE_FILTER: {
            int m;
            if (st->line_op == TQ_LINE_CONTAINS || st->line_op == TQ_LINE_NOT_CONTAINS)
                m = contains(p->line, p->len, st->text, st->text_len);
            else
                m = tq_regex_match(&st->re, p->line, p->len);
            if (st->line_op == TQ_LINE_NOT_CONTAINS || st->line_op == TQ_LINE_NRE) m = !m;
            if (!m) return 0;
            break;
        }
        case TQ_STAGE_JSON: stage_json(p); break;
        case TQ_STAGE_LOGFMT: stage_logfmt(p); break;
        case TQ_STAGE_LABEL_FILTER:
            if (!eval_lf(p, st->lf)) return 0;
            break;
        case TQ_STAGE_LINE_FORMAT: stage_line_format(p, st); break;
        case TQ_STAGE_DROP:
        case TQ_STAGE_KEEP: {
            size_t o = 0;
            for (size_t k = 0; k < p->n; k++) {
                int listed = 0;
                for (size_t x = 0; x < st->nnames && !listed; x++)
                    listed = strlen(st->names[x]) == p->l[k].nlen && !memcmp(st->names[x], p->l[k].name, p->l[k].nlen);
                if (st->kind == TQ_STAGE_DROP ? !listed : listed) p->l[o++] = p->l[k];
            }
            p->n = o;
            break;
        }
        }
    }
    return 1;
}

static int cmp_plabel(const void *a, const void *b) {
    const tq_plabel *x = a, *y = b;
    size_t n = x->nlen < y->nlen ? x->nlen : y->nlen;
    int c = memcmp(x->name, y->name, n);
    return c ? c : (x->nlen < y->nlen ? -1 : x->nlen > y->nlen);
}

static void key_pair(tq_buf *key, const char *n, size_t nl, const char *v, size_t vl, int first) {
    if (!first) tq_buf_add(key, ", ", 2);
    tq_buf_add(key, n, nl);
    tq_buf_putc(key, '=');
    tq_buf_json_str(key, v, vl);
}

void tq_pipe_labels_key(tq_pipe *p, tq_buf *key) {
    /* Hidden labels (metadata) drop out of the output set here. */
    size_t o = 0;
    for (size_t i = 0; i < p->n; i++)
        if (!p->l[i].hidden) p->l[o++] = p->l[i];
    p->n = o;
    if (p->n) qsort(p->l, p->n, sizeof *p->l, cmp_plabel);
    key->len = 0;
    tq_buf_putc(key, '{');
    for (size_t i = 0; i < p->n; i++) key_pair(key, p->l[i].name, p->l[i].nlen, p->l[i].value, p->l[i].vlen, i == 0);
    tq_buf_putc(key, '}');
}

void tq_labels_key(const tq_label *l, size_t n, tq_buf *key) {
    key->len = 0;
    tq_buf_putc(key, '{');
    for (size_t i = 0; i < n; i++) key_pair(key, l[i].name, strlen(l[i].name), l[i].value, strlen(l[i].value), i == 0);
    tq_buf_putc(key, '}');
}

int tq_selector_matches(const tq_selector *sel, const tq_label *labels, size_t n) {
    for (size_t i = 0; i < sel->n; i++) {
        const tq_matcher *m = &sel->m[i];
        const char *v = "";
        for (size_t j = 0; j < n; j++)
            if (strcmp(labels[j].name, m->name) == 0) { v = labels[j].value; break; }
        int ok;
        switch (m->op) {
        case TQ_EQ: ok = strcmp(v, m->value) == 0; break;
        case TQ_NEQ: ok = strcmp(v, m->value) != 0; break;
        case TQ_RE: ok = tq_regex_match(&m->re, v, strlen(v)); break;
        default: ok = !tq_regex_match(&m->re, v, strlen(v)); break;
        }
        if (!ok) return 0;
    }
    return 1;
}
