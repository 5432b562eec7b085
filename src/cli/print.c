/* print.c — readable output for log entries and metric results.
 *
 * Text mode shows `time service level message key=value...`: a JSON line's
 * well-known fields (timestamp, service, level, message/msg) are lifted
 * out, the rest dimmed as key=value. Colour only on a terminal, never when
 * NO_COLOR is set. Control characters from the data are escaped so a log
 * line cannot move the cursor or forge another line.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "tq_json.h"

#define C_RESET "\033[0m"
#define C_DIM "\033[2m"
#define C_BOLD "\033[1m"
#define C_RED "\033[31m"
#define C_YELLOW "\033[33m"
#define C_GREEN "\033[32m"
#define C_CYAN "\033[36m"
#define C_MAGENTA "\033[35m"

static void put_safe(FILE *f, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') fputs("\\n", f);
        else if (c == '\t') fputs("\\t", f);
        else if (c < 0x20 || c == 0x7f) fprintf(f, "\\x%02x", c);
        else fputc(c, f);
    }
}

static void put_time(FILE *f, int64_t ns) {
    time_t s = (time_t)(ns / 1000000000);
    struct tm tm;
    gmtime_r(&s, &tm);
    char b[40];
    strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(f, "%s.%03dZ", b, (int)((ns / 1000000) % 1000));
}

static const char *level_color(const char *l) {
    if (!l) return "";
    if (!strncmp(l, "err", 3) || !strncmp(l, "crit", 4) || !strncmp(l, "fatal", 5)) return C_RED;
    if (!strncmp(l, "warn", 4)) return C_YELLOW;
    if (!strncmp(l, "succ", 4)) return C_GREEN;
    if (!strncmp(l, "debug", 5) || !strncmp(l, "trace", 5)) return C_DIM;
    return C_CYAN;
}

static const char *lab(const cli_line *e, const char *name) {
    for (size_t i = 0; i < e->nlabels; i++)
        if (strcmp(e->labels[i].name, name) == 0) return e->labels[i].value;
    return NULL;
}

static void put_json_str(FILE *f, const char *s, size_t n) {
    tq_buf b = {0};
    tq_buf_json_str(&b, s, n);
    fwrite(b.p, 1, b.len, f);
    tq_buf_free(&b);
}

static void print_jsonl(FILE *f, const cli_line *e) {
    fprintf(f, "{\"ts\":\"%lld\",\"labels\":{", (long long)e->ts);
    for (size_t i = 0; i < e->nlabels; i++) {
        if (i) fputc(',', f);
        put_json_str(f, e->labels[i].name, strlen(e->labels[i].name));
        fputc(':', f);
        put_json_str(f, e->labels[i].value, strlen(e->labels[i].value));
    }
    fputs("},\"line\":", f);
    put_json_str(f, e->line, e->len);
    fputs("}\n", f);
}

void cli_print_entry(FILE *f, const cli_opts *o, const cli_line *e) {
    if (o->output == OUT_JSONL) { print_jsonl(f, e); return; }
    if (o->output == OUT_RAW) { put_safe(f, e->line, e->len); fputc('\n', f); return; }
    bool c = o->color;
    tq_arena a = {0};
    const tq_jval *j = e->len && e->line[0] == '{' ? tq_json_parse(&a, e->line, e->len, 32, NULL, 0) : NULL;
    if (j && j->type != TQ_JOBJ) j = NULL;
    const tq_jval *svc = tq_json_get(j, "service"), *lvl = tq_json_get(j, "level");
    const tq_jval *msg = tq_json_get(j, "message");
    if (!msg) msg = tq_json_get(j, "msg");
    const char *service = svc && svc->type == TQ_JSTR ? svc->s : lab(e, "service");
    const char *level = lvl && lvl->type == TQ_JSTR ? lvl->s : lab(e, "level");
    if (c) fputs(C_DIM, f);
    put_time(f, e->ts);
    if (c) fputs(C_RESET, f);
    fputc(' ', f);
    if (c) fputs(C_MAGENTA, f);
    fprintf(f, "%-10s", service ? service : (lab(e, "category") ? lab(e, "category") : "-"));
    if (c) fputs(C_RESET, f);
    fputc(' ', f);
    if (c) fprintf(f, "%s%s", C_BOLD, level_color(level));
    fprintf(f, "%-8s", level ? level : "-");
    if (c) fputs(C_RESET, f);
    fputc(' ', f);
    if (!j) {
        put_safe(f, e->line, e->len);
    } else {
        /* An access-log entry reads best as "GET /path -> 502"; its raw line
         * (traild keeps it as the message) repeats the fields. */
        const tq_jval *method = tq_json_get(j, "http.request.method"), *url = tq_json_get(j, "url.original");
        const tq_jval *status = tq_json_get(j, "http.response.status_code");
        const tq_jval *shown[3] = {NULL, NULL, NULL};
        if (method && url && status && method->type == TQ_JSTR && url->type == TQ_JSTR) {
            /* Keep a real message ("request completed"), not a raw line copy. */
            if (msg && msg->type == TQ_JSTR && msg->len && msg->s[0] != '{') {
                put_safe(f, msg->s, msg->len);
                fputc(' ', f);
            }
            put_safe(f, method->s, method->len);
            fputc(' ', f);
            put_safe(f, url->s, url->len);
            fputs(" -> ", f);
            if (c) fprintf(f, "%s%s", C_BOLD, status->len && status->s[0] >= '5' ? C_RED : status->s[0] == '4' ? C_YELLOW : "");
            put_safe(f, status->s, status->len);
            if (c) fputs(C_RESET, f);
            shown[0] = method, shown[1] = url, shown[2] = status;
            msg = NULL;
        } else if (msg && msg->type == TQ_JSTR) {
            put_safe(f, msg->s, msg->len);
        }
        for (size_t i = 0; i < j->n; i++) {
            const char *k = j->keys[i];
            const tq_jval *kv = &j->kids[i];
            if (kv == svc || kv == lvl || kv == msg || kv == shown[0] || kv == shown[1] || kv == shown[2] ||
                (!msg && (!strcmp(k, "message") || !strcmp(k, "msg"))))
                continue;
            /* Collector bookkeeping (traild's JSON) and the per-process static
             * fields are noise when reading a story (--output jsonl has them). */
            static const char *const hidden[] = {"timestamp", "ts", "@timestamp", "ts_ns", "category", "input",
                                                 "labels", "log.file.path", "log.offset", "machine_id",
                                                 "container_id", "version", "region", "pid", NULL};
            int hide = 0;
            for (size_t h = 0; hidden[h] && !hide; h++) hide = !strcmp(k, hidden[h]);
            if (hide || j->kids[i].type == TQ_JNULL) continue; /* null says nothing when reading */
            const tq_jval *v = &j->kids[i];
            fputc(' ', f);
            if (c) fputs(C_DIM, f);
            put_safe(f, k, j->keylens[i]);
            fputc('=', f);
            if (v->type == TQ_JOBJ || v->type == TQ_JARR) fputs("{...}", f);
            else put_safe(f, v->s, v->len);
            if (c) fputs(C_RESET, f);
        }
    }
    fputc('\n', f);
    tq_arena_free(&a);
}

typedef struct flat {
    cli_line *v;
    size_t n;
} flat;

static int cmp_line_ts(const void *a, const void *b) {
    const cli_line *x = a, *y = b;
    return x->ts < y->ts ? -1 : x->ts > y->ts;
}

void cli_print_result(FILE *f, const cli_opts *o, const tq_result *r) {
    if (r->type == TQ_RESULT_STREAMS) {
        /* Interleave the streams by time, in the query's direction. */
        size_t n = 0;
        for (size_t i = 0; i < r->nstreams; i++) n += r->streams[i].n;
        cli_line *v = calloc(n ? n : 1, sizeof *v);
        if (!v) return;
        size_t k = 0;
        for (size_t i = 0; i < r->nstreams; i++)
            for (size_t j = 0; j < r->streams[i].n; j++)
                v[k++] = (cli_line){r->streams[i].ts[j], r->streams[i].labels, r->streams[i].nlabels,
                                    r->streams[i].lines[j], r->streams[i].lens[j]};
        if (n) qsort(v, n, sizeof *v, cmp_line_ts);
        for (size_t i = 0; i < n; i++) cli_print_entry(f, o, &v[o->forward ? i : n - 1 - i]);
        free(v);
        return;
    }
    char val[64];
    for (size_t i = 0; i < r->nseries; i++) {
        const tq_series *s = &r->series[i];
        tq_buf key = {0};
        tq_buf_putc(&key, '{');
        for (size_t l = 0; l < s->nlabels; l++) {
            if (l) tq_buf_puts(&key, ", ");
            tq_buf_printf(&key, "%s=", s->labels[l].name);
            tq_buf_json_str(&key, s->labels[l].value, strlen(s->labels[l].value));
        }
        tq_buf_putc(&key, '}');
        for (size_t k = 0; k < s->n; k++) {
            tq_format_value(val, sizeof val, s->v[k]);
            if (o->output == OUT_JSONL) {
                fputs("{\"metric\":", f);
                /* labels as a JSON object */
                fputc('{', f);
                for (size_t l = 0; l < s->nlabels; l++) {
                    if (l) fputc(',', f);
                    put_json_str(f, s->labels[l].name, strlen(s->labels[l].name));
                    fputc(':', f);
                    put_json_str(f, s->labels[l].value, strlen(s->labels[l].value));
                }
                fprintf(f, "},\"ts\":%lld.%03lld,\"value\":\"%s\"}\n", (long long)(s->ts[k] / 1000000000),
                        (long long)((s->ts[k] / 1000000) % 1000), val);
            } else {
                if (o->color) fputs(C_DIM, f);
                put_time(f, s->ts[k]);
                if (o->color) fputs(C_RESET, f);
                fputc(' ', f);
                put_safe(f, tq_buf_cstr(&key), key.len);
                fprintf(f, " %s%s%s\n", o->color ? C_BOLD : "", val, o->color ? C_RESET : "");
            }
        }
        tq_buf_free(&key);
    }
}
