/* fmt_console.c — the human-readable console format.
 *
 *   12:00:00 INFO     myService order placed request_id=r-1 amount=30
 *
 * Time (local), level name (coloured; SUCCESS green), service, optional
 * logger in parentheses, message, then context and call fields as dimmed
 * key=value pairs.
 *
 * Colour: TRAIL_COLOR_AUTO colours only when the handler's fd is a TTY,
 * TERM is not "dumb" and NO_COLOR is unset or empty; TRAIL_COLOR_ALWAYS
 * colours unless NO_COLOR is set (TRAIL_FORCE_COLOR=1 overrides NO_COLOR);
 * TRAIL_COLOR_NEVER never does. The environment is read when the formatter
 * is created and when it is bound to an fd.
 *
 * Escaping: data can neither forge a line nor change colours. Control bytes
 * (C0, DEL) become \n, \r, \t or \xHH; C1 controls, U+2028/2029 and the
 * bidirectional overrides (U+200E/F, U+202A..E, U+2066..9) become \uXXXX;
 * invalid UTF-8 bytes become \xHH. A value is put in double quotes (with \"
 * and \\ escaped) when it is empty or holds a space, '=', '"', '\\' or an
 * escaped byte, so key=value pairs always split unambiguously. */
#include "core_impl.h"
#include "ctx_impl.h"
#include "render.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct console_formatter {
    trail_formatter base;
    trail_console_opts opts;
    int color;
    trail__time_cache tc;
    trail__time_cache field_tc;
    uint32_t gen;
    int have_static;
    trail_buf service; /* escaped service name */
    trail__level_upper levels;
} console_formatter;

#define DIM "\033[2m"
#define RESET "\033[0m"
#define LEVEL_WIDTH 8

enum esc_mode { ESC_TEXT, ESC_QUOTED, ESC_KEY };

static const char hexdig[] = "0123456789abcdef";

static int put_xhh(trail_buf *b, unsigned char c) {
    char t[4] = {'\\', 'x', hexdig[c >> 4], hexdig[c & 15]};
    return trail__put(b, t, 4);
}

static int put_u4(trail_buf *b, uint32_t cp) {
    char t[6] = {'\\', 'u', hexdig[cp >> 12 & 15], hexdig[cp >> 8 & 15], hexdig[cp >> 4 & 15], hexdig[cp & 15]};
    return trail__put(b, t, 6);
}

/* Code points that may not reach a terminal raw. */
static int unsafe_cp(uint32_t cp) {
    return (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 || cp == 0x200e || cp == 0x200f ||
           (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

static uint32_t decode(const unsigned char *s, size_t len) {
    if (len == 2) return (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
    if (len == 3) return (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
    return (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 | (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
}

static int console_escape(trail_buf *b, const char *str, size_t n, enum esc_mode mode) {
    const unsigned char *s = (const unsigned char *)str;
    int rc = 0;
    size_t i = 0, run = 0;
    while (i < n) {
        unsigned char c = s[i];
        int plain = c >= 0x20 && c < 0x7f;
        if (plain && mode != ESC_TEXT && (c == '"' || c == '\\')) plain = 0;
        if (plain && mode == ESC_KEY && (c == ' ' || c == '=')) plain = 0;
        if (plain) {
            i++;
            continue;
        }
        rc |= trail__put(b, s + run, i - run);
        if (c < 0x80) {
            if (c == '\n') rc |= trail__put_lit(b, "\\n");
            else if (c == '\r') rc |= trail__put_lit(b, "\\r");
            else if (c == '\t') rc |= trail__put_lit(b, "\\t");
            else if (c == '"' && mode == ESC_QUOTED) rc |= trail__put_lit(b, "\\\"");
            else if (c == '\\' && mode == ESC_QUOTED) rc |= trail__put_lit(b, "\\\\");
            else rc |= put_xhh(b, c);
            i++;
        } else {
            size_t bad;
            size_t len = trail__utf8_seq(s + i, n - i, &bad);
            if (!len) {
                for (size_t k = 0; k < bad; k++) rc |= put_xhh(b, s[i + k]);
                i += bad;
            } else {
                uint32_t cp = decode(s + i, len);
                if (unsafe_cp(cp)) rc |= put_u4(b, cp);
                else rc |= trail__put(b, s + i, len);
                i += len;
            }
        }
        run = i;
    }
    rc |= trail__put(b, s + run, n - run);
    return rc;
}

static int needs_quotes(const char *str, size_t n) {
    if (n == 0) return 1;
    const unsigned char *s = (const unsigned char *)str;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c <= 0x20 || c == 0x7f || c == '=' || c == '"' || c == '\\') return 1;
        if (c >= 0x80) {
            size_t bad;
            size_t len = trail__utf8_seq(s + i, n - i, &bad);
            if (!len || unsafe_cp(decode(s + i, len))) return 1;
            i += len - 1;
        }
    }
    return 0;
}

static int put_text_value(trail_buf *b, const char *s, size_t n) {
    if (!s) return trail__put_lit(b, "null");
    if (!needs_quotes(s, n)) return console_escape(b, s, n, ESC_TEXT);
    int rc = trail__putc(b, '"');
    rc |= console_escape(b, s, n, ESC_QUOTED);
    rc |= trail__putc(b, '"');
    return rc;
}

static int put_value(console_formatter *f, trail_buf *b, const trail_field *fl) {
    char tmp[160];
    size_t n;
    switch (fl->type) {
    case TRAIL_T_STR:
        return put_text_value(b, fl->v.s, trail__field_len(fl));
    case TRAIL_T_I64:
        return trail__put_i64(b, fl->v.i);
    case TRAIL_T_U64:
        return trail__put_u64(b, fl->v.u);
    case TRAIL_T_F64:
        return trail__put(b, tmp, trail__fmt_f64(tmp, fl->v.d));
    case TRAIL_T_BOOL:
        return fl->v.i ? trail__put_lit(b, "true") : trail__put_lit(b, "false");
    case TRAIL_T_BYTES:
        if (!fl->v.p) return trail__put_lit(b, "null");
        return trail__put_hex(b, fl->v.p, fl->len == TRAIL_LEN_CSTR ? 0 : fl->len);
    case TRAIL_T_ERRNO:
        n = trail__fmt_errno(tmp, sizeof tmp, (int)fl->v.i);
        return put_text_value(b, tmp, n);
    case TRAIL_T_DURATION:
        return trail__put(b, tmp, trail__fmt_duration(tmp, fl->v.i));
    case TRAIL_T_TIME:
        return trail__put_rfc3339(b, &f->field_tc, fl->v.i);
    case TRAIL_T_JSON: {
        if (!fl->v.s) return trail__put_lit(b, "null");
        /* Valid JSON is shown minified (then escaped like any text). */
        trail_buf tmpb = {0};
        int rc = trail__json_put_raw(&tmpb, fl->v.s, trail__field_len(fl));
        if (rc < 0) return rc;
        if (rc == 0) rc = put_text_value(b, tmpb.data, tmpb.len);
        else rc = put_text_value(b, fl->v.s, trail__field_len(fl));
        trail_buf_free(&tmpb);
        return rc;
    }
    case TRAIL_T_NULL:
    default:
        return trail__put_lit(b, "null");
    }
}

static int put_field(console_formatter *f, trail_buf *b, const trail_field *fl) {
    const char *key = fl->key ? fl->key : "";
    int rc = trail__putc(b, ' ');
    rc |= console_escape(b, key, strlen(key), ESC_KEY);
    rc |= trail__putc(b, '=');
    rc |= put_value(f, b, fl);
    return rc;
}

static int render_static(console_formatter *f) {
    uint32_t gen = trail__resource_generation();
    trail_resource r;
    trail__resource_snapshot(&r);
    f->service.len = 0;
    if (console_escape(&f->service, r.service, strlen(r.service), ESC_KEY)) return -ENOMEM;
    f->gen = gen;
    f->have_static = 1;
    return 0;
}

static int console_format(trail_formatter *base, const trail_entry *e, trail_buf *out) {
    console_formatter *f = (console_formatter *)base;
    if (!f->have_static || f->gen != trail__resource_generation())
        if (render_static(f)) return -ENOMEM;
    size_t mark = out->len;
    int color = f->color;
    int rc = 0;
    if (color) rc |= trail__put_lit(out, DIM);
    rc |= trail__put_local_clock(out, &f->tc, e->ts_ns, f->opts.show_date);
    if (color) rc |= trail__put_lit(out, RESET);
    if (f->opts.show_level) {
        size_t ln;
        const char *lvl = trail__level_upper_get(&f->levels, e->level, &ln);
        rc |= trail__putc(out, ' ');
        if (color) {
            const char *c = trail__level_color(e->level);
            rc |= trail__put(out, c, strlen(c));
        }
        rc |= console_escape(out, lvl, ln, ESC_KEY);
        if (color) rc |= trail__put_lit(out, RESET);
        for (size_t k = ln; k < LEVEL_WIDTH; k++) rc |= trail__putc(out, ' ');
    }
    if (f->service.len) {
        rc |= trail__putc(out, ' ');
        rc |= trail__put(out, f->service.data, f->service.len);
    }
    if (f->opts.show_logger && e->logger && *e->logger) {
        rc |= trail__put_lit(out, " (");
        rc |= console_escape(out, e->logger, strlen(e->logger), ESC_KEY);
        rc |= trail__putc(out, ')');
    }
    rc |= trail__putc(out, ' ');
    rc |= console_escape(out, e->msg, e->msg ? e->msg_len : 0, ESC_TEXT);
    if (e->nctx || e->nfields) {
        if (color) rc |= trail__put_lit(out, DIM);
        for (size_t i = 0; i < e->nctx; i++) rc |= put_field(f, out, &e->ctx[i]);
        for (size_t i = 0; i < e->nfields; i++) rc |= put_field(f, out, &e->fields[i]);
        if (color) rc |= trail__put_lit(out, RESET);
    }
    rc |= trail__putc(out, '\n');
    if (rc) {
        out->len = mark;
        return -ENOMEM;
    }
    return 0;
}

static int env_set(const char *name) {
    const char *v = getenv(name);
    return v && *v;
}

static int decide_color(trail_color_mode mode, int fd) {
    int no_color = env_set("NO_COLOR");
    const char *force = getenv("TRAIL_FORCE_COLOR");
    int forced = force && strcmp(force, "1") == 0;
    switch (mode) {
    case TRAIL_COLOR_NEVER: return 0;
    case TRAIL_COLOR_ALWAYS: return !no_color || forced;
    case TRAIL_COLOR_AUTO:
    default: {
        if (no_color || fd < 0 || !isatty(fd)) return 0;
        const char *term = getenv("TERM");
        return !(term && strcmp(term, "dumb") == 0);
    }
    }
}

static void console_bind_fd(trail_formatter *base, int fd) {
    console_formatter *f = (console_formatter *)base;
    f->color = decide_color(f->opts.color, fd);
}

static void console_destroy(trail_formatter *base) {
    console_formatter *f = (console_formatter *)base;
    trail_buf_free(&f->service);
}

trail_formatter *trail_formatter_console(const trail_console_opts *opts) {
    console_formatter *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->base.format = console_format;
    f->base.destroy = console_destroy;
    f->base.bind_fd = console_bind_fd;
    if (opts) f->opts = *opts;
    else f->opts.show_level = 1;
    f->color = decide_color(f->opts.color, -1);
    return &f->base;
}
