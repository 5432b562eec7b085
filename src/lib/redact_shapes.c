/* redact_shapes.c — see redact_shapes.h.
 *
 * Linear time: the main loop tries each scanner at position i only when i
 * is a boundary for that scanner (the previous byte cannot continue the
 * scanner's token), so every run of token characters is scanned from its
 * start once; scanners with a fixed maximum width (AWS ids, cards, AWS
 * secrets) look at a bounded window. After a match the loop resumes at the
 * match's end. */
#include "redact_shapes.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

/* Character classes, one bit per token set (generated for ASCII; bytes
 * >= 0x80 belong to none). C_KEYNEXT: may follow a word that starts a
 * key=value; C_MAILNEXT: may follow a word that starts an e-mail;
 * C_VALEND: ends an unquoted value (a backslash too, so an escaped quote in
 * JSON text keeps its escape). */
enum {
    C_ALNUM = 1, C_KEY = 2, C_B64URL = 4, C_TOKEN68 = 8, C_B64STD = 16, C_EMAIL = 32, C_DIGIT = 64,
    C_KEYNEXT = 128, C_MAILNEXT = 256, C_VALEND = 512
};
static const unsigned short cclass[256] = {
    512,   0,   0,   0,   0,   0,   0,   0,   0, 512, 512,   0,   0, 512,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    512,   0, 640,   0,   0, 288, 512, 512,   0, 512,   0, 312, 512, 430, 426,  24,
    127, 127, 127, 127, 127, 127, 127, 127, 127, 127,   0, 512,   0, 128,   0,   0,
    256,  63,  63,  63,  63,  63,  63,  63,  63,  63,  63,  63,  63,  63,  63,  63,
     63,  63,  63,  63,  63,  63,  63,  63,  63,  63,  63,   0, 640, 512,   0, 430,
      0,  63,  63,  63,  63,  63,  63,  63,  63,  63,  63,  63,  63,  63,  63,  63,
     63,  63,  63,  63,  63,  63,  63,  63,  63,  63,  63,   0,   0, 512,   8,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
};

/* Internal refinement of TRAIL_REDACT_AWS_KEY: secret keys (need '=' or ':'). */
#define SHAPE_AWS_SECRET (1u << 30)

static int is_alnum(unsigned char c) { return cclass[c] & C_ALNUM; }
static int is_digit(unsigned char c) { return cclass[c] & C_DIGIT; }
static int is_upper_or_digit(unsigned char c) { return (c >= 'A' && c <= 'Z') || is_digit(c); }
static int is_b64url(unsigned char c) { return cclass[c] & C_B64URL; }
/* RFC 6750 b64token characters. */
static int is_token68(unsigned char c) { return cclass[c] & C_TOKEN68; }
static int is_b64std(unsigned char c) { return cclass[c] & C_B64STD; }
static int is_keych(unsigned char c) { return cclass[c] & C_KEY; }
static int is_email_local(unsigned char c) { return cclass[c] & C_EMAIL; }

int trail__luhn_ok(const char *d, size_t n) {
    unsigned sum = 0;
    for (size_t k = 0; k < n; k++) {
        unsigned v = (unsigned)(d[n - 1 - k] - '0');
        if (k & 1) v = v * 2 > 9 ? v * 2 - 9 : v * 2;
        sum += v;
    }
    return n > 0 && sum % 10 == 0;
}

/* "Bearer <token>" / "Basic <token>": span of the token. A token must look
 * like one (8+ chars with a digit, capital or symbol, or 16+ chars), so
 * prose like "basic functionality" is left alone. */
static int scheme_at(const char *s, size_t n, size_t i, size_t *ms, size_t *me) {
    size_t k;
    if (n - i >= 7 && strncasecmp(s + i, "bearer", 6) == 0) k = i + 6;
    else if (n - i >= 6 && strncasecmp(s + i, "basic", 5) == 0) k = i + 5;
    else return 0;
    if (k >= n || (s[k] != ' ' && s[k] != '\t')) return 0;
    while (k < n && (s[k] == ' ' || s[k] == '\t')) k++;
    size_t t = k;
    int mixed = 0;
    while (t < n && is_token68((unsigned char)s[t])) {
        unsigned char c = (unsigned char)s[t];
        mixed |= !(c >= 'a' && c <= 'z');
        t++;
    }
    while (t < n && s[t] == '=') t++, mixed = 1;
    if (t < n && s[t - 1] == '=' && is_token68((unsigned char)s[t])) return 0; /* "key=value", not padding */
    size_t len = t - k;
    if (len < 8 || (!mixed && len < 16)) return 0;
    *ms = k;
    *me = t;
    return 1;
}

/* JWT/JWS/JWE: a run of base64url parts joined by dots, 3 or more parts,
 * the first two starting with "eyJ" ('{"' encoded). */
static int jwt_at(const char *s, size_t n, size_t i, size_t *me) {
    if (n - i < 10 || s[i + 1] != 'y' || s[i + 2] != 'J') return 0;
    size_t t = i, parts = 1, part_start = i, second_ok = 0;
    while (t < n && (is_b64url((unsigned char)s[t]) || s[t] == '.')) {
        if (s[t] == '.') {
            if (t == part_start) return 0; /* empty part other than the last */
            parts++;
            part_start = t + 1;
            if (parts == 2) second_ok = n - part_start >= 3 && s[part_start] == 'e' && s[part_start + 1] == 'y' &&
                                        s[part_start + 2] == 'J';
        }
        t++;
    }
    if (parts < 3 || !second_ok) return 0;
    *me = t;
    return 1;
}

/* AWS access key id: AKIA (long-term) or ASIA (temporary) + 16 [A-Z0-9]. */
static int aws_id_at(const char *s, size_t n, size_t i) {
    if (n - i < 20 || (memcmp(s + i, "AKIA", 4) != 0 && memcmp(s + i, "ASIA", 4) != 0)) return 0;
    for (size_t k = i + 4; k < i + 20; k++)
        if (!is_upper_or_digit((unsigned char)s[k])) return 0;
    return i + 20 == n || !is_alnum((unsigned char)s[i + 20]);
}

/* Whether key[0..len) contains "secret" (any case). */
static int has_secret_word(const char *key, size_t len) {
    for (size_t k = 0; k + 6 <= len; k++)
        if (strncasecmp(key + k, "secret", 6) == 0) return 1;
    return 0;
}

/* AWS secret access key: exactly 40 base64 characters right after a key
 * that mentions "secret" and a '=' or ':' (quotes and spaces allowed). */
static int aws_secret_at(const char *s, size_t n, size_t i) {
    size_t t = i;
    while (t < n && t - i <= 40 && is_b64std((unsigned char)s[t])) t++;
    if (t - i != 40 || (t < n && (is_b64std((unsigned char)s[t]) || s[t] == '='))) return 0;
    /* Look back: separators (bounded), then the key. */
    size_t b = i, seps = 0, assign = 0;
    while (b > 0 && seps < 8 && strchr(" \t\"'=:", s[b - 1])) {
        assign |= s[b - 1] == '=' || s[b - 1] == ':';
        b--, seps++;
    }
    if (!assign) return 0;
    size_t ke = b;
    while (b > 0 && ke - b < 64 && is_keych((unsigned char)s[b - 1])) b--;
    return has_secret_word(s + b, ke - b);
}

/* Card number: 13-19 digits, optionally grouped by single spaces or dashes.
 * Candidates end at a group boundary; the longest Luhn-valid one wins. The
 * first digit must be 2-6 (Mastercard 2-series, Amex/Diners/JCB, Visa,
 * Mastercard, Discover/UnionPay/Maestro): this keeps 13-19 digit ids and
 * nanosecond timestamps (starting with 1) out. */
static int card_at(const char *s, size_t n, size_t i, size_t *me) {
    if (s[i] < '2' || s[i] > '6') return 0;
    char digits[20];
    size_t end_at[20], nd = 0, t = i;
    while (t < n && nd < 20) {
        if (is_digit((unsigned char)s[t])) {
            digits[nd] = s[t];
            end_at[nd++] = ++t;
        } else if ((s[t] == ' ' || s[t] == '-') && t + 1 < n && is_digit((unsigned char)s[t + 1])) {
            t++;
        } else {
            break;
        }
    }
    for (size_t d = nd > 19 ? 19 : nd; d >= 13; d--) {
        size_t e = end_at[d - 1];
        if (e < n && is_digit((unsigned char)s[e])) continue; /* would split a group */
        if (e < n && is_alnum((unsigned char)s[e])) continue;
        if (trail__luhn_ok(digits, d)) {
            *me = e;
            return 1;
        }
    }
    return 0;
}

/* local@domain.tld */
static int email_at(const char *s, size_t n, size_t i, size_t *me) {
    size_t t = i;
    while (t < n && is_email_local((unsigned char)s[t])) t++;
    if (t == i || t >= n || s[t] != '@') return 0;
    size_t d = ++t, last_dot = 0;
    while (t < n && (is_alnum((unsigned char)s[t]) || s[t] == '-' || s[t] == '.')) {
        if (s[t] == '.') last_dot = t;
        t++;
    }
    while (t > d && s[t - 1] == '.') t--;
    if (!last_dot || last_dot <= d || last_dot + 2 >= t + 1 || t - last_dot < 3) return 0;
    *me = t;
    return 1;
}

/* key=value or "key": "value" with a secret-named key: span of the value. */
static int kv_at(const trail__shape_cfg *cfg, const char *s, size_t n, size_t i, size_t *ms, size_t *me) {
    size_t t = i;
    while (t < n && is_keych((unsigned char)s[t])) t++;
    size_t klen = t - i;
    if (!klen || klen > 128) return 0;
    int quoted_key = i > 0 && s[i - 1] == '"' && t < n && s[t] == '"';
    /* JSON inside a JSON string: \"key\":\"value\" */
    int esc_key = !quoted_key && i > 1 && s[i - 1] == '"' && s[i - 2] == '\\' && t + 1 < n && s[t] == '\\' &&
                  s[t + 1] == '"';
    if (esc_key) t++, quoted_key = 1;
    if (quoted_key) { /* JSON-ish: "key" : "value" */
        t++;
        while (t < n && s[t] == ' ') t++;
    }
    if (t >= n || !(s[t] == '=' || (quoted_key && s[t] == ':'))) return 0;
    t++;
    if (quoted_key)
        while (t < n && s[t] == ' ') t++;
    if (!cfg->secret_key(s + i, klen, cfg->key_ud)) return 0;
    size_t v = t;
    /* Already redacted (a second filter, a re-run): keep it as it is. */
    if (cfg->repl_len && n - v >= cfg->repl_len && memcmp(s + v, cfg->repl, cfg->repl_len) == 0) return 0;
    if (v < n && (s[v] == '"' || s[v] == '\'')) {
        char q = s[v++];
        size_t e = v;
        while (e < n && s[e] != q) e += (s[e] == '\\' && e + 1 < n) ? 2 : 1;
        if (e > n) e = n;
        if (e == v) return 0;
        *ms = v;
        *me = e;
        return 1;
    }
    if (v + 1 < n && s[v] == '\\' && s[v + 1] == '"') { /* \"value\" */
        size_t e = v += 2;
        while (e < n && !(s[e] == '\\' && e + 1 < n && s[e + 1] == '"')) e += (s[e] == '\\' && e + 1 < n) ? 2 : 1;
        if (e > n) e = n;
        if (e == v) return 0;
        *ms = v;
        *me = e;
        return 1;
    }
    size_t sm, se;
    if ((v < n) && ((s[v] | 0x20) == 'b') && scheme_at(s, n, v, &sm, &se)) { /* "authorization=Bearer x" */
        *ms = v;
        *me = se;
        return 1;
    }
    size_t e = v;
    while (e < n && !(cclass[(unsigned char)s[e]] & C_VALEND)) e++;
    if (e == v) return 0;
    *ms = v;
    *me = e;
    return 1;
}

/* Shapes that cannot occur in s at all, found with memchr (vectorised, far
 * cheaper than the scanners): key=value and AWS secrets need '=' or ':',
 * e-mails need '@', JWTs need '.'. */
static unsigned possible_shapes(unsigned sh, const char *s, size_t n) {
    if (!memchr(s, '=', n) && !memchr(s, ':', n)) sh &= ~(unsigned)(TRAIL_REDACT_KEY_VALUE | SHAPE_AWS_SECRET);
    if ((sh & TRAIL_REDACT_EMAIL) && !memchr(s, '@', n)) sh &= ~(unsigned)TRAIL_REDACT_EMAIL;
    if ((sh & TRAIL_REDACT_JWT) && !memchr(s, '.', n)) sh &= ~(unsigned)TRAIL_REDACT_JWT;
    return sh;
}

static int shape_next(const trail__shape_cfg *cfg, unsigned sh, const char *s, size_t n, size_t from, size_t *ms,
                      size_t *me) {
    int kv = (sh & TRAIL_REDACT_KEY_VALUE) && cfg->secret_key;
    for (size_t i = from; i < n; i++) {
        unsigned char c = (unsigned char)s[i], p = i ? (unsigned char)s[i - 1] : ' ';
        size_t e;
        /* No scanner starts inside a word: every token set contains the
         * letters and digits. At a word start, the character after the word
         * tells which scanners can possibly match, so a plain word costs one
         * pass over its letters. */
        if (is_alnum(p)) continue;
        size_t w = i;
        while (w < n && is_alnum((unsigned char)s[w])) w++;
        unsigned char nx = w < n ? (unsigned char)s[w] : 0;
        int word = w > i;
        if ((sh & TRAIL_REDACT_BEARER) && (c | 0x20) == 'b' && scheme_at(s, n, i, ms, me)) return 1;
        if (kv && is_keych(c) && !is_keych(p) && (!word || (cclass[nx] & C_KEYNEXT)) &&
            kv_at(cfg, s, n, i, ms, me))
            return 1;
        if ((sh & TRAIL_REDACT_JWT) && c == 'e' && !is_b64url(p) && p != '.' && jwt_at(s, n, i, &e)) {
            *ms = i, *me = e;
            return 1;
        }
        if ((sh & TRAIL_REDACT_AWS_KEY) && !is_b64std(p)) {
            if (c == 'A' && w - i == 20 && aws_id_at(s, n, i)) {
                *ms = i, *me = i + 20;
                return 1;
            }
            if ((sh & SHAPE_AWS_SECRET) && (w - i >= 40 || nx == '/' || nx == '+' || !word) && is_b64std(c) &&
                aws_secret_at(s, n, i)) {
                *ms = i, *me = i + 40;
                return 1;
            }
        }
        if ((sh & TRAIL_REDACT_CARD) && c >= '2' && c <= '6' && card_at(s, n, i, &e)) {
            *ms = i, *me = e;
            return 1;
        }
        if ((sh & TRAIL_REDACT_EMAIL) && is_email_local(c) && !is_email_local(p) && (!word || (cclass[nx] & C_MAILNEXT)) &&
            email_at(s, n, i, &e)) {
            *ms = i, *me = e;
            return 1;
        }
        if (word) i = w - 1; /* the rest of the word starts nothing */
    }
    return 0;
}

int trail__shape_next(const trail__shape_cfg *cfg, const char *s, size_t n, size_t from, size_t *ms, size_t *me) {
    if (!s || from >= n) return 0;
    unsigned sh = possible_shapes(cfg->shapes | SHAPE_AWS_SECRET, s + from, n - from);
    return shape_next(cfg, sh, s, n, from, ms, me);
}

unsigned trail__shapes_possible(const trail__shape_cfg *cfg, const char *s, size_t n) {
    return s ? possible_shapes(cfg->shapes | SHAPE_AWS_SECRET, s, n) : 0;
}

int trail__shape_next_in(const trail__shape_cfg *cfg, unsigned possible, const char *s, size_t n, size_t from,
                         size_t *ms, size_t *me) {
    return s && from < n ? shape_next(cfg, possible, s, n, from, ms, me) : 0;
}

long trail__redact_text(const trail__shape_cfg *cfg, const char *s, size_t n, trail_buf *out) {
    size_t pos = 0, ms, me, start_len = out->len;
    long count = 0;
    if (!s || !cfg->shapes) return 0;
    unsigned sh = possible_shapes(cfg->shapes | SHAPE_AWS_SECRET, s, n); /* once: linear overall */
    while (pos < n && shape_next(cfg, sh, s, n, pos, &ms, &me)) {
        if (trail_buf_put(out, s + pos, ms - pos) || trail_buf_put(out, cfg->repl, cfg->repl_len)) {
            out->len = start_len;
            return -ENOMEM;
        }
        pos = me > ms ? me : ms + 1;
        count++;
    }
    if (count && trail_buf_put(out, s + pos, n - pos)) {
        out->len = start_len;
        return -ENOMEM;
    }
    return count;
}
