/* main.c — `trail`: ask traild's store questions from the command line.
 *
 *   trail query '<logql>' [--since 1h | --from T --to T] [--limit N] [--step D]
 *                         [--forward] [--output text|jsonl|raw]
 *   trail tail [-f] '<selector + pipeline>'
 *   trail story <request_id> [--since 24h]
 *   trail labels [name]
 *
 * Data comes from traild's API (--addr, default http://127.0.0.1:3100, env
 * TRAIL_ADDR; --token or TRAIL_TOKEN) or straight from a store directory
 * (--store DIR, env TRAIL_STORE), opened read-only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "tq_time.h"

#define HOUR (3600LL * 1000000000LL)

static void usage(FILE *f) {
    fputs("usage: trail <command> [options]\n"
          "\n"
          "commands:\n"
          "  query '<logql>'      run a LogQL query (log or metric) over a time range\n"
          "  tail [-f] '<logql>'  show the newest entries of a log query; -f keeps following\n"
          "  story <request_id>   every entry of one request, across services and categories, by time\n"
          "  labels [name]        label names, or the values of one label\n"
          "\n"
          "options:\n"
          "  --since D            range ending now (default 1h; story: 24h), e.g. 30m, 2h, 7d\n"
          "  --from T, --to T     absolute range: RFC3339, unix seconds or unix ns\n"
          "  --limit N            max entries for log queries (default 100; story 5000)\n"
          "  --step D             resolution of metric queries (default: range/250)\n"
          "  --forward            oldest first (default for story; query defaults to newest first)\n"
          "  --output FMT         text (default), jsonl, or raw (the lines only)\n"
          "  --addr URL           traild API (default http://127.0.0.1:3100, env TRAIL_ADDR)\n"
          "  --token T            bearer token for the API (env TRAIL_TOKEN)\n"
          "  --store DIR          read a store directory directly instead (env TRAIL_STORE)\n"
          "  --color, --no-color  force colours on or off (default: on a terminal, unless NO_COLOR)\n",
          f);
}

static int die(const char *msg) {
    fprintf(stderr, "trail: %s\n", msg);
    return 2;
}

static void print_names(char **v, size_t n) {
    for (size_t i = 0; i < n; i++) {
        printf("%s\n", v[i]);
        free(v[i]);
    }
    free(v);
}

/* Merges two log results by (ts, line), dropping entries present in both. */
static int story(cli_backend *b, const cli_opts *o, const char *id) {
    for (const char *p = id; *p; p++)
        if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20) return die("request id must not contain quotes, backslashes or control characters");
    /* Two ways an entry belongs to the request: its indexed request_id field
     * (bloom + exact), or the id anywhere in its line (token bloom) — access
     * logs carry it in a header field, not as request_id. */
    char q1[512], q2[512];
    snprintf(q1, sizeof q1, "{} | request_id=\"%s\"", id);
    snprintf(q2, sizeof q2, "{} |= \"%s\"", id);
    tq_params p = {.start = o->start, .end = o->end, .limit = o->limit, .backward = false};
    tq_result *r1, *r2;
    char err[1024];
    if (cli_run(b, q1, &p, &r1, err, sizeof err) < 0) return die(err);
    if (cli_run(b, q2, &p, &r2, err, sizeof err) < 0) {
        tq_result_free(r1);
        return die(err);
    }
    /* Append r2's entries that r1 lacks as extra streams of r1. */
    tq_result merged = *r1;
    size_t total = r1->nstreams + r2->nstreams;
    tq_stream *all = calloc(total + 1, sizeof *all);
    memcpy(all, r1->streams, r1->nstreams * sizeof *all);
    size_t ns = r1->nstreams, shown = 0;
    for (size_t i = 0; i < r1->nstreams; i++) shown += r1->streams[i].n;
    for (size_t i = 0; i < r2->nstreams; i++) {
        tq_stream s = r2->streams[i];
        size_t o2 = 0;
        for (size_t k = 0; k < s.n; k++) {
            int dup = 0;
            for (size_t a = 0; a < r1->nstreams && !dup; a++)
                for (size_t c = 0; c < r1->streams[a].n && !dup; c++)
                    dup = r1->streams[a].ts[c] == s.ts[k] && r1->streams[a].lens[c] == s.lens[k] &&
                          memcmp(r1->streams[a].lines[c], s.lines[k], s.lens[k]) == 0;
            if (dup) continue;
            s.ts[o2] = s.ts[k];
            s.lines[o2] = s.lines[k];
            s.lens[o2] = s.lens[k];
            o2++;
        }
        s.n = o2;
        shown += o2;
        all[ns++] = s;
    }
    merged.streams = all;
    merged.nstreams = ns;
    cli_opts po = *o;
    po.forward = true;
    if (!shown) fprintf(stderr, "trail: no entries with request id %s in this range (try --since 7d)\n", id);
    size_t n1 = 0;
    for (size_t i = 0; i < r1->nstreams; i++) n1 += r1->streams[i].n;
    if (n1 >= o->limit || shown - n1 >= o->limit)
        fprintf(stderr, "trail: showing the first %zu entries of each search; raise --limit to see more\n", o->limit);
    cli_print_result(stdout, &po, &merged);
    free(all);
    tq_result_free(r1);
    tq_result_free(r2);
    return shown ? 0 : 1;
}

int main(int argc, char **argv) {
    cli_opts o = {.addr = getenv("TRAIL_ADDR"), .store = getenv("TRAIL_STORE"), .token = getenv("TRAIL_TOKEN")};
    if (!o.addr || !*o.addr) o.addr = "http://127.0.0.1:3100";
    if (o.store && !*o.store) o.store = NULL;
    o.color = isatty(1) && !getenv("NO_COLOR");
    const char *cmd = NULL, *args[4] = {0};
    int nargs = 0;
    const char *since = NULL, *from = NULL, *to = NULL, *limit = NULL, *step = NULL, *output = NULL;
    bool forward_set = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **val = NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--since")) val = &since;
        else if (!strcmp(a, "--from")) val = &from;
        else if (!strcmp(a, "--to")) val = &to;
        else if (!strcmp(a, "--limit")) val = &limit;
        else if (!strcmp(a, "--step")) val = &step;
        else if (!strcmp(a, "--output") || !strcmp(a, "-o")) val = &output;
        else if (!strcmp(a, "--addr")) val = &o.addr;
        else if (!strcmp(a, "--token")) val = &o.token;
        else if (!strcmp(a, "--store")) val = &o.store;
        else if (!strcmp(a, "--forward")) { o.forward = true; forward_set = true; continue; }
        else if (!strcmp(a, "-f") || !strcmp(a, "--follow")) { o.follow = true; continue; }
        else if (!strcmp(a, "--color")) { o.color = true; continue; }
        else if (!strcmp(a, "--no-color")) { o.color = false; continue; }
        else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "trail: unknown option %s (see trail --help)\n", a);
            return 2;
        } else if (!cmd) { cmd = a; continue; }
        else if (nargs < 4) { args[nargs++] = a; continue; }
        else return die("too many arguments (quote the query: trail query '{app=\"x\"}')");
        if (i + 1 >= argc) {
            fprintf(stderr, "trail: %s needs a value\n", a);
            return 2;
        }
        *val = argv[++i];
    }
    if (!cmd) { usage(stderr); return 2; }
    bool is_story = !strcmp(cmd, "story");
    int64_t now = tq_now_ns();
    o.end = now;
    int64_t span = is_story ? 24 * HOUR : HOUR;
    if (since && tq_parse_step(since, &span) < 0) return die("--since needs a duration like 30m, 2h or 7d");
    if (to && tq_parse_time(to, &o.end) < 0) return die("--to needs RFC3339, unix seconds or unix ns");
    o.start = o.end - span;
    if (from && tq_parse_time(from, &o.start) < 0) return die("--from needs RFC3339, unix seconds or unix ns");
    if (o.start > o.end) return die("--from is after --to");
    o.limit = is_story ? 5000 : 100;
    if (limit) {
        char *e;
        long v = strtol(limit, &e, 10);
        if (*e || v <= 0) return die("--limit needs a positive number");
        o.limit = (size_t)v;
    }
    if (step && tq_parse_step(step, &o.step) < 0) return die("--step needs a duration like 1m");
    if (output) {
        if (!strcmp(output, "text")) o.output = OUT_TEXT;
        else if (!strcmp(output, "jsonl")) o.output = OUT_JSONL;
        else if (!strcmp(output, "raw")) o.output = OUT_RAW;
        else return die("--output is text, jsonl or raw");
    }
    if (o.output != OUT_TEXT) o.color = false;

    if (strcmp(cmd, "query") && strcmp(cmd, "tail") && !is_story && strcmp(cmd, "labels")) {
        fprintf(stderr, "trail: unknown command \"%s\" (commands: query, tail, story, labels)\n", cmd);
        return 2;
    }
    if ((!strcmp(cmd, "query") || !strcmp(cmd, "tail") || is_story) && nargs != 1) {
        fprintf(stderr, "trail: %s needs exactly one argument (see trail --help)\n", cmd);
        return 2;
    }
    cli_backend *b;
    char err[1024];
    if (cli_backend_open(&o, &b, err, sizeof err) < 0) return die(err);
    int rc = 0;
    if (!strcmp(cmd, "query")) {
        tq_params p = {.start = o.start, .end = o.end, .step = o.step, .limit = o.limit, .backward = !o.forward};
        tq_result *r;
        if (cli_run(b, args[0], &p, &r, err, sizeof err) < 0) rc = die(err);
        else {
            cli_print_result(stdout, &o, r);
            tq_result_free(r);
        }
    } else if (!strcmp(cmd, "tail")) {
        if (!since && !from) o.start = now - HOUR;
        if (cli_tail(b, args[0], &o, err, sizeof err) < 0) rc = die(err);
    } else if (is_story) {
        (void)forward_set;
        rc = story(b, &o, args[0]);
    } else {
        char **v;
        size_t n;
        if (!since && !from) o.start = o.end - 6 * HOUR;
        if (cli_labels(b, nargs ? args[0] : NULL, o.start, o.end, &v, &n, err, sizeof err) < 0) rc = die(err);
        else print_names(v, n);
    }
    cli_backend_close(b);
    return rc;
}
