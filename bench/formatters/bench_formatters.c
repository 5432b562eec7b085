/* bench_formatters.c — rendering speed of the built-in formatters on the
 * backend's typical entry (message + int, double and short string fields,
 * request_id and user_id in context, realistic static fields). Pure CPU: no
 * I/O, the buffer is emptied every 64 KiB like a backend batch.
 *
 * Build and run (Release library first, e.g. `make release`):
 *   cc -O2 -D_GNU_SOURCE -Iinclude bench/formatters/bench_formatters.c \
 *      build/release/src/lib/libtrail.a -lzstd -lz -lpthread -o /tmp/bench_formatters
 *   /tmp/bench_formatters [entries] [json|ecs|otel|logfmt|console]
 */
#include "trail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* CPU time: steadier on a shared box */
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *only; /* argv[2]: run one formatter */

static void run(const char *name, trail_formatter *f, long n) {
    if (only && strcmp(only, name) != 0) {
        trail_formatter_free(f);
        return;
    }
    const trail_field ctx[] = {TRAIL_STR("request_id", "0192f3a4-7b2c-7d3e-9f10-a1b2c3d4e5f6"),
                               TRAIL_STR("user_id", "u-1029384")};
    trail_field fields[] = {TRAIL_I64("order_id", 0), TRAIL_F64("amount", 129.95), TRAIL_STR("sku", "SKU-88213-B")};
    trail_entry e = {.ts_ns = 1795521600000000000LL, .level = TRAIL_INFO, .logger = "shop.orders",
                     .msg = "order placed", .msg_len = 12, .fields = fields, .nfields = 3, .ctx = ctx, .nctx = 2,
                     .tid = 4242};
    trail_buf b = {0};
    size_t bytes = 0, line_len = 0;
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        e.ts_ns += 400; /* 2.5M entries a second of log time */
        fields[0].v.i = 100000 + i;
        if (trail_formatter_format(f, &e, &b) != 0) abort();
        if (!line_len) line_len = b.len;
        if (b.len > 65536) {
            bytes += b.len;
            b.len = 0;
        }
    }
    bytes += b.len;
    double dt = now_s() - t0;
    printf("%-8s %8.2f M lines/s  %7.1f MB/s  %6.1f ns/line  line %zu B\n", name, n / dt / 1e6, bytes / dt / 1e6,
           dt * 1e9 / n, line_len);
    trail_buf_free(&b);
    trail_formatter_free(f);
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    only = argc > 2 ? argv[2] : NULL;
    trail_resource_set("service", "checkout-api");
    trail_resource_set("version", "3f9c2ab");
    trail_resource_set("machine_id", "3d1219c7c4c5404aaa1f6d2a48adfda4");
    trail_resource_set("container_id", "9b2f0e7c4d1a6b3e8f5c2d9a0b7e4c1f6a3d8e5b2c9f0a7d4e1b8c5f2a9d6e3b");
    trail_resource_set("region", "eu-west-1");
    run("json", trail_formatter_json(), n);
    run("ecs", trail_formatter_ecs(), n);
    run("otel", trail_formatter_otel(), n);
    run("logfmt", trail_formatter_logfmt(), n);
    trail_console_opts o = {.color = TRAIL_COLOR_NEVER, .show_level = 1};
    run("console", trail_formatter_console(&o), n);
    return 0;
}
