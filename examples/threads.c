/* threads.c — several worker threads log concurrently through the async
 * path, each with its own request context; the program checks its own
 * counters at the end (nothing dropped in blocking mode).
 * Usage: example_threads [threads] [entries-per-thread] [jsonl-path] */
#include <trail.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static long per_thread = 100000;

static void *worker(void *arg) {
    long id = (long)arg;
    char rid[37];
    trail_uuid_v7(rid);
    trail_ctx_set("request_id", rid);
    trail_logger *lg = trail_get("workers");
    for (long i = 0; i < per_thread; i++)
        trail_info(lg, "work item", TRAIL_INT("worker", id), TRAIL_INT("seq", i), TRAIL_F64("load", i * 0.5));
    return NULL;
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
    int nthreads = argc > 1 ? atoi(argv[1]) : 4;
    per_thread = argc > 2 ? atol(argv[2]) : 100000;
    const char *path = argc > 3 ? argv[3] : "logs/threads.jsonl";
    if (nthreads < 1 || nthreads > 64 || per_thread < 1) {
        fprintf(stderr, "usage: example_threads [1..64 threads] [entries] [path]\n");
        return 2;
    }

    make_parent_dir(path);
    /* Blocking overflow for every level: nothing may be dropped. */
    trail_options opts = {.service = "threads-demo", .no_default_handlers = 1, .overflow_block_from = TRAIL_DEBUG,
                          .block_timeout_ms = 10000};
    if (trail_setup(&opts)) return 1;
    trail_handler *file;
    if (trail_handler_file(&file, path, NULL)) {
        fprintf(stderr, "%s\n", trail_last_error());
        return 1;
    }
    trail_logger_add_handler(trail_root(), file);
    trail_handler_release(file);

    pthread_t t[64];
    for (long i = 0; i < nthreads; i++) pthread_create(&t[i], NULL, worker, (void *)i);
    for (int i = 0; i < nthreads; i++) pthread_join(t[i], NULL);
    trail_flush(30000);

    trail_stats st;
    trail_stats_get(&st);
    printf("threads: %d x %ld entries -> %s: written %llu entries, %llu bytes, dropped %llu, blocked %llu, "
           "queue high-water %llu bytes\n",
           nthreads, per_thread, path, (unsigned long long)st.entries_total, (unsigned long long)st.bytes_written,
           (unsigned long long)st.dropped, (unsigned long long)st.blocked, (unsigned long long)st.queue_high_water);
    trail_shutdown();
    return st.dropped == 0 ? 0 : 1;
}
