/* test_rotate_mt.c — rotation races: several threads logging through one
 * file handler with a tiny max_bytes; two handlers on the same path; two
 * processes on the same path, with background compression. Every line must
 * be present exactly once across all files (rotated, compressed, current). */
#include "compress.h"
#include "handler_test_util.h"
#include "rotate.h"

#include <pthread.h>
#include <sys/wait.h>
#include <zlib.h>
#include <zstd.h>

#define MAX_WRITERS 8
#define LINES 3000

typedef struct writer {
    trail_handler *h;
    pthread_mutex_t *mu; /* the "one writer at a time" the core guarantees */
    int id;
} writer;

static void *write_lines(void *arg) {
    writer *w = arg;
    char line[96];
    for (int i = 0; i < LINES; i++) {
        snprintf(line, sizeof line, "w%d %d padding-to-make-lines-longer-%d", w->id, i, i * 7);
        pthread_mutex_lock(w->mu);
        ht_log(w->h, line);
        if (i % 16 == 15) trail__handler_flush(w->h); /* end of a "batch" */
        pthread_mutex_unlock(w->mu);
    }
    return NULL;
}

static void add_lines(unsigned char seen[MAX_WRITERS][LINES], const char *data, size_t len, int *bad) {
    const char *p = data, *end = data + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) {
            (*bad)++;
            break;
        }
        int w, i;
        if (sscanf(p, "w%d %d ", &w, &i) != 2 || w < 0 || w >= MAX_WRITERS || i < 0 || i >= LINES) (*bad)++;
        else seen[w][i]++;
        p = nl + 1;
    }
}

static char *read_any(const char *name, size_t *len) {
    size_t n = strlen(name);
    if (n > 3 && !strcmp(name + n - 3, ".gz")) {
        gzFile g = gzopen(ht_path(name), "rb");
        trail_buf b = {0};
        char chunk[8192];
        int r;
        while (g && (r = gzread(g, chunk, sizeof chunk)) > 0) trail_buf_put(&b, chunk, (size_t)r);
        if (g) gzclose(g);
        *len = b.len;
        trail_buf_put(&b, "", 1);
        return b.data;
    }
    if (n > 4 && !strcmp(name + n - 4, ".zst")) {
        size_t clen;
        char *c = test_read_file(ht_path(name), &clen);
        ZSTD_DCtx *d = ZSTD_createDCtx();
        trail_buf b = {0};
        ZSTD_inBuffer in = {c, clen, 0};
        char chunk[8192];
        while (c && in.pos < in.size) {
            ZSTD_outBuffer out = {chunk, sizeof chunk, 0};
            if (ZSTD_isError(ZSTD_decompressStream(d, &out, &in))) break;
            trail_buf_put(&b, chunk, out.pos);
        }
        ZSTD_freeDCtx(d);
        free(c);
        *len = b.len;
        trail_buf_put(&b, "", 1);
        return b.data;
    }
    return test_read_file(ht_path(name), len);
}

/* Checks every writer's lines 0..LINES-1 are present exactly once. */
static void check_exactly_once(const char *base, int writers) {
    static unsigned char seen[MAX_WRITERS][LINES];
    memset(seen, 0, sizeof seen);
    int bad = 0;
    ht_names r = ht_list(test_tmpdir(), "app.");
    size_t files = 0;
    for (size_t i = 0; i < r.n; i++) {
        if (strcmp(r.v[i], base) != 0 && !trail__rotate_match(base, r.v[i], NULL)) continue;
        size_t len = 0;
        char *d = read_any(r.v[i], &len);
        CHECK(d != NULL);
        add_lines(seen, d, len, &bad);
        free(d);
        files++;
    }
    ht_names_free(&r);
    CHECK_INT(bad, ==, 0);
    CHECK(files > 10);
    int missing = 0, dup = 0;
    for (int w = 0; w < writers; w++)
        for (int i = 0; i < LINES; i++) {
            missing += seen[w][i] == 0;
            dup += seen[w][i] > 1;
        }
    CHECK_INT(missing, ==, 0);
    CHECK_INT(dup, ==, 0);
}

TEST(threads_through_one_handler_with_tiny_max_bytes) {
    trail_file_opts o = {.max_bytes = 2048};
    trail_handler *h = ht_file(ht_path("app.jsonl"), &o);
    uint64_t r0 = trail__stat_read(TRAIL__STAT_ROTATIONS);
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_t t[4];
    writer w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (writer){h, &mu, i};
        pthread_create(&t[i], NULL, write_lines, &w[i]);
    }
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    trail_handler_release(h);
    CHECK(trail__stat_read(TRAIL__STAT_ROTATIONS) - r0 > 100);
    check_exactly_once("app.jsonl", 4);
}

/* Two handlers (separate fds, separate writers) rotate the same path. */
TEST(two_handlers_race_on_one_path_with_compression) {
    trail_file_opts o = {.max_bytes = 4096, .compress = TRAIL_COMPRESS_GZIP};
    trail_handler *h1 = ht_file(ht_path("app.jsonl"), &o);
    trail_handler *h2 = ht_file(ht_path("app.jsonl"), &o);
    pthread_mutex_t mu1 = PTHREAD_MUTEX_INITIALIZER, mu2 = PTHREAD_MUTEX_INITIALIZER;
    pthread_t t[4];
    writer w[4] = {{h1, &mu1, 0}, {h1, &mu1, 1}, {h2, &mu2, 2}, {h2, &mu2, 3}};
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, write_lines, &w[i]);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    trail_handler_release(h1);
    trail_handler_release(h2);
    CHECK_INT(trail__compress_wait(60000), ==, 0);
    check_exactly_once("app.jsonl", 4);
}

/* Two processes rotate and compress the same path. */
TEST(two_processes_race_on_one_path) {
    pid_t kids[2];
    test_tmpdir(); /* created once, before the children share it */
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        if (kids[k] == 0) {
            trail_file_opts o = {.max_bytes = 3000, .compress = TRAIL_COMPRESS_ZSTD};
            trail_handler *h = ht_file(ht_path("app.jsonl"), &o);
            pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
            writer w = {h, &mu, k};
            write_lines(&w);
            trail_handler_release(h);
            _exit(trail__compress_wait(60000) == 0 ? 0 : 3);
        }
    }
    for (int k = 0; k < 2; k++) {
        int st = 0;
        CHECK_INT(waitpid(kids[k], &st, 0), ==, kids[k]);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    check_exactly_once("app.jsonl", 2);
}

/* The whole path: several threads log through the real core (async
 * backend, default JSON formatter) into a rotating, compressing file. */
typedef struct api_writer {
    int id;
} api_writer;

static void *log_through_core(void *arg) {
    api_writer *w = arg;
    for (int i = 0; i < LINES; i++) trail_info(NULL, "rotating", TRAIL_INT("w", w->id), TRAIL_INT("i", i));
    return NULL;
}

static void check_json_exactly_once(int writers) {
    static unsigned char seen[MAX_WRITERS][LINES];
    memset(seen, 0, sizeof seen);
    ht_names r = ht_list(test_tmpdir(), "app.");
    int bad = 0;
    for (size_t f = 0; f < r.n; f++) {
        if (strcmp(r.v[f], "app.jsonl") != 0 && !trail__rotate_match("app.jsonl", r.v[f], NULL)) continue;
        size_t len = 0;
        char *d = read_any(r.v[f], &len);
        for (char *line = d; d && line < d + len;) {
            char *nl = memchr(line, '\n', (size_t)(d + len - line));
            if (!nl) {
                bad++;
                break;
            }
            *nl = 0;
            char *pw = strstr(line, "\"w\":"), *pi = strstr(line, "\"i\":");
            if (!pw || !pi || line[0] != '{' || nl[-1] != '}') bad++;
            else {
                int w = atoi(pw + 4), i = atoi(pi + 4);
                if (w < 0 || w >= writers || i < 0 || i >= LINES) bad++;
                else seen[w][i]++;
            }
            line = nl + 1;
        }
        free(d);
    }
    ht_names_free(&r);
    CHECK_INT(bad, ==, 0);
    int missing = 0, dup = 0;
    for (int w = 0; w < writers; w++)
        for (int i = 0; i < LINES; i++) missing += !seen[w][i], dup += seen[w][i] > 1;
    CHECK_INT(missing, ==, 0);
    CHECK_INT(dup, ==, 0);
}

static void run_through_core(trail_mode mode) {
    trail_options opts = {.service = "rot", .mode = mode, .no_default_handlers = 1, .no_signal_handlers = 1};
    opts.overflow_block_from = TRAIL_DEBUG; /* block, never drop: every line must arrive */
    opts.block_timeout_ms = 10000;
    CHECK_INT(trail_setup(&opts), ==, 0);
    trail_file_opts fo = {.max_bytes = 8192, .compress = TRAIL_COMPRESS_ZSTD};
    trail_handler *h = NULL;
    CHECK_INT(trail_handler_file(&h, ht_path("app.jsonl"), &fo), ==, 0);
    CHECK_INT(trail_logger_add_handler(NULL, h), ==, 0);
    trail_handler_release(h);
    uint64_t r0 = trail__stat_read(TRAIL__STAT_ROTATIONS);
    pthread_t t[3];
    api_writer w[3];
    for (int i = 0; i < 3; i++) {
        w[i].id = i;
        pthread_create(&t[i], NULL, log_through_core, &w[i]);
    }
    for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
    CHECK_INT(trail_flush(30000), ==, 0);
    trail_shutdown();
    CHECK(trail__stat_read(TRAIL__STAT_ROTATIONS) - r0 > 10);
    CHECK_INT(trail__compress_wait(60000), ==, 0);
    check_json_exactly_once(3);
}

TEST(threads_through_the_async_core) { run_through_core(TRAIL_ASYNC); }
TEST(threads_through_the_sync_core) { run_through_core(TRAIL_SYNC); }
