/* tour.c — the flows a service needs, in one run:
 *   1. one logger, two handlers: readable console + JSONL rotating file
 *   2. typed extra fields instead of formatted strings
 *   3. request ids from a (simulated) incoming request, attached automatically
 *   4. a redaction filter: the secret never reaches the console or the disk
 *   5. SUCCESS at the end of a long job
 * Usage: example_tour [jsonl-path]   (default ./logs/tour.jsonl)
 */
#include <trail.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static void handle_request(trail_logger *api, const char *incoming_request_id, int order) {
    /* What an HTTP middleware does: take X-Request-ID/traceparent or make them. */
    trail_ctx_from_headers(NULL, incoming_request_id, NULL);
    trail_ctx_set("user_id", "u-1001");

    trail_info(api, "order received", TRAIL_INT("order_id", order), TRAIL_F64("amount", 19.99 * order),
               TRAIL_STR("currency", "EUR"));
    /* A careless log call: the redaction filter removes the card number and token. */
    trail_warning(api, "payment retried with card 4111 1111 1111 1111",
                  TRAIL_STR("authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"),
                  TRAIL_INT("attempt", 2));
    trail_info(api, "order placed", TRAIL_INT("order_id", order), TRAIL_DURATION_NS("took", 1250000));
    trail_ctx_clear();
}

/* The file handler does not create directories: make the example's own. */
static void make_parent_dir(const char *path) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = 0;
        mkdir(dir, 0755);
    }
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "logs/tour.jsonl";

    make_parent_dir(path);
    trail_options opts = {.service = "shop", .no_default_handlers = 1};
    if (trail_setup(&opts) != 0) {
        fprintf(stderr, "setup failed: %s\n", trail_last_error());
        return 1;
    }

    /* 1. Two handlers on one logger, each with its own formatter and level. */
    trail_handler *console = NULL, *file = NULL;
    trail_handler_stream(&console, 1);
    trail_file_opts fo = {.max_bytes = 10 << 20, .interval_s = TRAIL_ROTATE_DAILY, .max_files = 7,
                          .compress = TRAIL_COMPRESS_ZSTD};
    if (trail_handler_file(&file, path, &fo) != 0) {
        fprintf(stderr, "%s\n", trail_last_error());
        return 1;
    }
    trail_handler_set_level(file, TRAIL_DEBUG);

    trail_logger *root = trail_root();
    trail_logger_set_level(root, TRAIL_DEBUG);
    trail_logger_add_handler(root, console);
    trail_logger_add_handler(root, file);
    trail_handler_release(console);
    trail_handler_release(file);

    /* 4. Redaction before anything reaches a handler. */
    trail_logger_add_filter(root, trail_filter_redact(NULL));

    /* 2. Hierarchical loggers, typed fields. */
    trail_logger *api = trail_get("shop.api");
    trail_logger *db = trail_get("shop.db.pool");
    trail_debug(db, "pool warmed", TRAIL_INT("connections", 8), TRAIL_BOOL("tls", 1));

    /* 3. Requests: the first arrives with an id, the second gets one. */
    handle_request(api, "req-7f3a9c", 1);
    handle_request(api, NULL, 2);

    /* Bound logger: fields added once. */
    trail_logger *job = trail_with(trail_get("shop.jobs"), TRAIL_STR("job", "nightly-report"));
    trail_info(job, "job started", TRAIL_INT("items", 3));
    for (int i = 1; i <= 3; i++) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
        trail_debug(job, "item done", TRAIL_INT("item", i));
    }
    /* 5. SUCCESS at the end of a long job (green on the console). */
    trail_success(job, "job finished", TRAIL_INT("items", 3), TRAIL_DURATION_NS("took", 150000000));
    trail_logger_release(job);

    trail_error(db, "query failed", TRAIL_ERRNO("error", 104), TRAIL_STR("query", "SELECT 1"));

    trail_flush(1000);
    trail_stats st;
    trail_stats_get(&st);
    printf("\ntour: %llu entries, %llu bytes written, %llu dropped; JSONL in %s\n",
           (unsigned long long)st.entries_total, (unsigned long long)st.bytes_written,
           (unsigned long long)st.dropped, path);
    trail_shutdown();
    return 0;
}
