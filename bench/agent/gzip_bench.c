/* gzip_bench.c — CPU per Loki body of the gzip implementations traild can
 * use (zlib, libdeflate, ISA-L igzip), on a JSON push body built from the
 * benchmark's JSONL lines. Prints size (% of the body) and ns per 330-byte
 * line of CPU time. bench/agent/bench_traild.sh builds and runs it with
 * ONLY=gzip; by hand:
 *   cc -O2 gzip_bench.c -lz -ldeflate -lisal -o gzip_bench && ./gzip_bench lines.jsonl */
#include <isa-l/igzip_lib.h>
#include <libdeflate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

static double cpu_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* {"streams":[{"stream":{...},"values":[["<ns>","<line as JSON string>"],...]}]}, up to cap bytes */
static size_t make_body(FILE *f, char *b, size_t cap, size_t *nlines) {
    size_t n = (size_t)snprintf(b, cap, "{\"streams\":[{\"stream\":{\"category\":\"app\",\"service\":\"checkout\"},\"values\":[");
    char line[4096];
    *nlines = 0;
    while (fgets(line, sizeof line, f) && n + 2 * strlen(line) + 64 < cap) {
        line[strcspn(line, "\n")] = 0;
        n += (size_t)snprintf(b + n, cap - n, "%s[\"%llu\",\"", *nlines ? "," : "", 1795000000000000000ull + *nlines);
        for (char *p = line; *p; p++) {
            if (*p == '"' || *p == '\\') b[n++] = '\\';
            b[n++] = *p;
        }
        n += (size_t)snprintf(b + n, cap - n, "\"]");
        (*nlines)++;
    }
    n += (size_t)snprintf(b + n, cap - n, "]}]}");
    return n;
}

static size_t zlib1(const char *in, size_t n, unsigned char *out, size_t cap) {
    z_stream z;
    memset(&z, 0, sizeof z);
    deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    deflate(&z, Z_FINISH);
    size_t r = z.total_out;
    deflateEnd(&z);
    return r;
}

static struct libdeflate_compressor *ld;
static size_t deflate1(const char *in, size_t n, unsigned char *out, size_t cap) {
    return libdeflate_gzip_compress(ld, in, n, out, cap);
}

static unsigned char lbuf[ISAL_DEF_LVL1_DEFAULT];
static size_t igzip(const char *in, size_t n, unsigned char *out, size_t cap, int level) {
    struct isal_zstream z;
    isal_deflate_init(&z);
    z.level = (uint32_t)level;
    z.level_buf = lbuf;
    z.level_buf_size = level ? ISAL_DEF_LVL1_DEFAULT : ISAL_DEF_LVL0_DEFAULT;
    z.gzip_flag = IGZIP_GZIP;
    z.end_of_stream = 1;
    z.next_in = (uint8_t *)in;
    z.avail_in = (uint32_t)n;
    z.next_out = out;
    z.avail_out = (uint32_t)cap;
    return isal_deflate(&z) == COMP_OK ? z.total_out : 0;
}
static size_t igzip0(const char *in, size_t n, unsigned char *out, size_t cap) { return igzip(in, n, out, cap, 0); }
static size_t igzip1(const char *in, size_t n, unsigned char *out, size_t cap) { return igzip(in, n, out, cap, 1); }

int main(int argc, char **argv) {
    FILE *f = argc > 1 ? fopen(argv[1], "r") : NULL;
    if (!f) {
        fprintf(stderr, "usage: gzip_bench LINES.jsonl\n");
        return 2;
    }
    size_t cap = 1u << 20, nlines; /* a default Loki request: batch_max_bytes 1 MiB */
    char *body = malloc(cap);
    unsigned char *out = malloc(2 * cap);
    size_t n = make_body(f, body, cap, &nlines);
    ld = libdeflate_alloc_compressor(1);
    struct { const char *name; size_t (*fn)(const char *, size_t, unsigned char *, size_t); } impl[] = {
        {"zlib level 1", zlib1}, {"libdeflate level 1", deflate1}, {"igzip level 0", igzip0}, {"igzip level 1", igzip1}};
    for (size_t k = 0; k < sizeof impl / sizeof *impl; k++) {
        double best = 1e9;
        size_t size = 0;
        for (int round = 0; round < 5; round++) { /* bounded: 5 rounds of 20 bodies */
            double t0 = cpu_s();
            for (int r = 0; r < 20; r++) size = impl[k].fn(body, n, out, 2 * cap);
            double t = (cpu_s() - t0) / 20;
            if (t < best) best = t;
        }
        printf("gzip %-18s %5.2f %% of a %zu-byte body (%zu lines), %4.0f ns per line, %5.0f MB/s\n", impl[k].name,
               100.0 * (double)size / (double)n, n, nlines, best / (double)nlines * 1e9, (double)n / best / 1e6);
    }
    libdeflate_free_compressor(ld);
    free(body);
    free(out);
    fclose(f);
    return 0;
}
