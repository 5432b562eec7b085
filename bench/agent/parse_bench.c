/* parse_bench.c — parser throughput on one core: lines already in memory,
 * split, parsed (json or another parser) into arena records, in batches of
 * 4096 like the pipeline. Prints lines/s and MB/s.
 *   parse_bench FILE [parser] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "config.h"
#include "plugins.h"
#include "timefmt.h"

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    const char *pname = argc > 2 ? argv[2] : "json";
    FILE *f = fopen(argv[1], "rb");
    if (!f) return 1;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc((size_t)size);
    if (fread(data, 1, (size_t)size, f) != (size_t)size) return 1;
    fclose(f);
    char text[256], err[256];
    snprintf(text, sizeof text, "inputs:\n  - {name: a, paths: [/x], parser: %s}\noutputs:\n  - type: stdout\n", pname);
    ta_config *c;
    if (ta_config_parse(text, strlen(text), "bench", &c, err, sizeof err)) return fprintf(stderr, "%s\n", err), 1;
    ta_parser *p;
    if (ta_parser_new(c->inputs[0].parser.type, c->inputs[0].parser.conf, &p, err, sizeof err)) return 1;
    long lines = 0, errors = 0;
    int64_t t0 = ta_mono_ns();
    struct timespec c0, c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0); /* CPU time: the machine may be shared */
    for (int round = 0; round < 3; round++) {
        ta_arena *a = ta_arena_new();
        ta_record *recs = malloc(4096 * sizeof *recs);
        int n = 0;
        for (char *s = data, *end = data + size; s < end;) {
            char *nl = memchr(s, '\n', (size_t)(end - s));
            if (!nl) break;
            ta_record *r = &recs[n++];
            memset(r, 0, sizeof *r);
            r->line = ta_arena_strndup(a, s, (size_t)(nl - s)); /* as the pipeline does */
            r->line_len = (uint32_t)(nl - s);
            errors += p->type->parse(p, r, a) != 0;
            lines++;
            s = nl + 1;
            if (n == 4096) {
                ta_arena_free(a);
                a = ta_arena_new();
                n = 0;
            }
        }
        ta_arena_free(a);
        free(recs);
    }
    double secs = (double)(ta_mono_ns() - t0) / 1e9;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    double cpu = (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
    printf("parser %s: %ld lines (%ld errors) in %.2f s wall, %.2f s CPU: %.0f lines/s and %.0f MB/s per core "
           "(%.0f lines/s wall)\n",
           pname, lines, errors, secs, cpu, lines / cpu, 3.0 * (double)size / cpu / 1e6, lines / secs);
    return 0;
}
