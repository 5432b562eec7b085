/* test_compress.c — rotated files compressed in the background (gzip and
 * zstd) decompress to exactly the bytes that were written; the original is
 * gone, no temp file is left, the mtime (used by retention) is kept. */
#include "compress.h"
#include "handler_test_util.h"
#include "rotate.h"

#include <errno.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <zlib.h>
#include <zstd.h>

static char *gunzip_file(const char *path, size_t *len) {
    gzFile g = gzopen(path, "rb");
    if (!g) return NULL;
    trail_buf b = {0};
    char chunk[8192];
    int n;
    while ((n = gzread(g, chunk, sizeof chunk)) > 0) trail_buf_put(&b, chunk, (size_t)n);
    int bad = n < 0;
    gzclose(g);
    if (bad) {
        trail_buf_free(&b);
        return NULL;
    }
    trail_buf_put(&b, "", 1);
    *len = b.len - 1;
    return b.data;
}

static char *unzstd_file(const char *path, size_t *len) {
    size_t clen;
    char *c = test_read_file(path, &clen);
    if (!c) return NULL;
    ZSTD_DCtx *d = ZSTD_createDCtx();
    trail_buf b = {0};
    ZSTD_inBuffer in = {c, clen, 0};
    char chunk[8192];
    size_t rc = 1;
    while (in.pos < in.size) {
        ZSTD_outBuffer out = {chunk, sizeof chunk, 0};
        rc = ZSTD_decompressStream(d, &out, &in);
        if (ZSTD_isError(rc)) break;
        trail_buf_put(&b, chunk, out.pos);
    }
    ZSTD_freeDCtx(d);
    free(c);
    if (ZSTD_isError(rc) || rc != 0) { /* rc 0: the frame is complete */
        trail_buf_free(&b);
        return NULL;
    }
    trail_buf_put(&b, "", 1);
    *len = b.len - 1;
    return b.data;
}

static char *decompress(const char *path, trail_compress type, size_t *len) {
    return type == TRAIL_COMPRESS_GZIP ? gunzip_file(path, len) : unzstd_file(path, len);
}

/* Binary data that compresses somewhat: every byte value, NULs, newlines. */
static void fill(unsigned char *p, size_t n) {
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (i % 7 == 0) ? (unsigned char)(x >> 16) : (unsigned char)(i & 0xff);
    }
}

static void roundtrip_file(trail_compress type) {
    const char *path = ht_path("app.2026-11-28T20-00-00.jsonl");
    size_t n = 3 * 1024 * 1024 + 17;
    unsigned char *data = malloc(n);
    fill(data, n);
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, n, f);
    fclose(f);
    struct timespec t[2] = {{1700000000, 0}, {1700000000, 0}};
    utimensat(AT_FDCWD, path, t, 0);
    CHECK_INT(trail__compress_file(path, type), ==, 0);
    struct stat st;
    CHECK_INT(stat(path, &st), ==, -1); /* original gone */
    char out[1100];
    snprintf(out, sizeof out, "%s%s", path, trail__compress_suffix(type));
    CHECK_INT(stat(out, &st), ==, 0);
    CHECK_INT(st.st_mtime, ==, 1700000000);
    CHECK(st.st_size < (off_t)n);
    size_t len = 0;
    char *back = decompress(out, type, &len);
    CHECK(back != NULL);
    CHECK_INT(len, ==, n);
    CHECK(memcmp(back, data, n) == 0);
    free(back);
    free(data);
    ht_names r = ht_list(test_tmpdir(), ".");
    for (size_t i = 0; i < r.n; i++) CHECK(!strstr(r.v[i], ".tmp"));
    ht_names_free(&r);
}

TEST(gzip_file_roundtrip) { roundtrip_file(TRAIL_COMPRESS_GZIP); }
TEST(zstd_file_roundtrip) { roundtrip_file(TRAIL_COMPRESS_ZSTD); }

TEST(empty_file_roundtrip) {
    const char *path = ht_path("e.2026-11-28T20-00-00.log");
    fclose(fopen(path, "w"));
    CHECK_INT(trail__compress_file(path, TRAIL_COMPRESS_ZSTD), ==, 0);
    size_t len = 99;
    char *back = unzstd_file(ht_path("e.2026-11-28T20-00-00.log.zst"), &len);
    CHECK(back != NULL);
    CHECK_INT(len, ==, 0);
    free(back);
}

TEST(bad_arguments) {
    CHECK_INT(trail__compress_file(NULL, TRAIL_COMPRESS_GZIP), ==, -EINVAL);
    CHECK_INT(trail__compress_file(ht_path("x"), TRAIL_COMPRESS_NONE), ==, -EINVAL);
    CHECK_INT(trail__compress_file(ht_path("missing"), TRAIL_COMPRESS_GZIP), ==, -ENOENT);
    CHECK_INT(trail__compress_submit(ht_path("x"), (trail_compress)9), ==, -EINVAL);
}

/* Through the handler: rotated files are compressed in the background and
 * together with the current file hold exactly the lines written. */
static void handler_roundtrip(trail_compress type) {
    trail_file_opts o = {.max_bytes = 4096, .compress = type};
    trail_handler *h = ht_file(ht_path("app.jsonl"), &o);
    trail_buf want = {0};
    char line[200];
    for (int i = 0; i < 3000; i++) {
        int n = snprintf(line, sizeof line, "{\"n\":%d,\"msg\":\"compress me \\u00e9 %0*d\"}", i, i % 50, 0);
        ht_log(h, line);
        trail_buf_put(&want, line, (size_t)n);
        trail_buf_put(&want, "\n", 1);
        if (i % 100 == 99) trail__handler_flush(h);
    }
    trail_handler_release(h);
    CHECK_INT(trail__compress_wait(30000), ==, 0);
    ht_names r = ht_list(test_tmpdir(), "app.");
    trail_buf got = {0};
    size_t compressed = 0;
    const char *suffix = trail__compress_suffix(type);
    for (size_t i = 0; i < r.n; i++) {
        if (!strcmp(r.v[i], "app.jsonl")) continue;
        size_t sl = strlen(r.v[i]), xl = strlen(suffix);
        CHECK(sl > xl && !strcmp(r.v[i] + sl - xl, suffix)); /* none left uncompressed */
        size_t len;
        char *d = decompress(ht_path(r.v[i]), type, &len);
        CHECK(d != NULL);
        trail_buf_put(&got, d, len);
        free(d);
        compressed++;
    }
    ht_names_free(&r);
    CHECK(compressed > 10);
    char *cur = test_read_file(ht_path("app.jsonl"), NULL);
    trail_buf_put(&got, cur, strlen(cur));
    free(cur);
    CHECK_INT(got.len, ==, want.len);
    CHECK(memcmp(got.data, want.data, want.len) == 0);
    trail_buf_free(&got);
    trail_buf_free(&want);
}

TEST(handler_gzip_rotated_files_decompress_to_the_original) { handler_roundtrip(TRAIL_COMPRESS_GZIP); }
TEST(handler_zstd_rotated_files_decompress_to_the_original) { handler_roundtrip(TRAIL_COMPRESS_ZSTD); }

/* A process that exited before compressing leaves plain rotated files; the
 * next handler on that path compresses them. */
TEST(leftover_rotated_files_are_compressed_at_open) {
    const char *left = ht_path("app.2026-11-28T19-00-00.jsonl");
    FILE *f = fopen(left, "w");
    fputs("{\"left\":1}\n", f);
    fclose(f);
    trail_file_opts o = {.compress = TRAIL_COMPRESS_GZIP, .interval_s = TRAIL_ROTATE_HOURLY};
    trail_handler *h = ht_file(ht_path("app.jsonl"), &o);
    CHECK_INT(trail__compress_wait(30000), ==, 0);
    struct stat st;
    CHECK_INT(stat(left, &st), ==, -1);
    size_t len;
    char *d = gunzip_file(ht_path("app.2026-11-28T19-00-00.jsonl.gz"), &len);
    CHECK_STR(d, "{\"left\":1}\n");
    free(d);
    trail_handler_release(h);
}

/* A compressed file and its original never count twice for retention. */
TEST(retention_counts_a_file_and_its_compressed_form_once) {
    trail_file_opts o = {.max_bytes = 8, .max_files = 2, .compress = TRAIL_COMPRESS_ZSTD};
    trail_handler *h = ht_file(ht_path("r.log"), &o);
    char line[16];
    for (int i = 0; i < 12; i++) {
        snprintf(line, sizeof line, "r%03d", i);
        ht_log(h, line);
        trail__handler_flush(h);
        trail__compress_wait(30000);
    }
    trail_handler_release(h);
    CHECK_INT(trail__compress_wait(30000), ==, 0);
    ht_names r = ht_list(test_tmpdir(), "r.");
    size_t rotated = 0;
    trail_buf got = {0};
    for (size_t i = 0; i < r.n; i++) {
        if (!trail__rotate_match("r.log", r.v[i], NULL)) continue;
        rotated++;
        size_t len;
        char *d = unzstd_file(ht_path(r.v[i]), &len);
        CHECK(d != NULL);
        trail_buf_put(&got, d, len);
        free(d);
    }
    trail_buf_put(&got, "", 1);
    ht_names_free(&r);
    CHECK_INT(rotated, ==, 2);
    CHECK_STR(got.data, "r009\nr010\n");
    trail_buf_free(&got);
}

/* A crash mid-compression leaves a hidden temp file; the next handler on the
 * path removes it when its process is gone, and leaves everything else. */
TEST(stale_temp_files_of_dead_processes_are_removed) {
    pid_t dead = fork();
    if (dead == 0) _exit(0);
    waitpid(dead, NULL, 0);
    char stale[256], live[256], foreign[256];
    snprintf(stale, sizeof stale, ".app.2026-11-28T19-00-00.jsonl.gz.tmp%d.0", (int)dead);
    snprintf(live, sizeof live, ".app.2026-11-28T19-00-00.jsonl.gz.tmp%d.0", (int)getppid());
    snprintf(foreign, sizeof foreign, ".other.2026-11-28T19-00-00.jsonl.gz.tmp%d.0", (int)dead);
    const char *names[] = {stale, live, foreign};
    for (int i = 0; i < 3; i++) fclose(fopen(ht_path(names[i]), "w"));
    trail_handler *h = ht_file(ht_path("app.jsonl"), NULL);
    struct stat st;
    CHECK_INT(stat(ht_path(stale), &st), ==, -1);
    CHECK_INT(stat(ht_path(live), &st), ==, 0);
    CHECK_INT(stat(ht_path(foreign), &st), ==, 0);
    trail_handler_release(h);
}

/* Compression on a full disk fails cleanly: the original stays intact, no
 * temp file is left, and it works once space is back. Needs the privilege
 * to mount a tmpfs in a private mount namespace; skipped otherwise. */
TEST(compression_on_a_full_disk_keeps_the_original) {
    const char *dir = ht_path("small");
    CHECK_INT(mkdir(dir, 0755), ==, 0);
    if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount("tmpfs", dir, "tmpfs", 0, "size=64k") != 0) {
        fprintf(stderr, "  (skipped: cannot mount a tmpfs here)\n");
        return;
    }
    char path[1100], filler[1100];
    snprintf(path, sizeof path, "%s/app.2026-11-28T20-00-00.jsonl", dir);
    snprintf(filler, sizeof filler, "%s/filler", dir);
    size_t n = 24 * 1024;
    unsigned char *data = malloc(n);
    uint32_t x = 7;
    for (size_t i = 0; i < n; i++) data[i] = (unsigned char)((x = x * 1103515245u + 12345u) >> 16); /* incompressible */
    FILE *f = fopen(path, "wb");
    CHECK_INT(fwrite(data, 1, n, f), ==, n);
    CHECK_INT(fclose(f), ==, 0);
    int fd = open(filler, O_WRONLY | O_CREAT, 0644);
    char block[4096] = {0};
    while (write(fd, block, sizeof block) > 0) {}
    close(fd);
    CHECK_INT(trail__compress_file(path, TRAIL_COMPRESS_GZIP), ==, -ENOSPC);
    size_t len;
    char *back = test_read_file(path, &len);
    CHECK(back && len == n && memcmp(back, data, n) == 0);
    free(back);
    ht_names r = ht_list(dir, ".");
    for (size_t i = 0; i < r.n; i++) CHECK(!strstr(r.v[i], ".tmp"));
    ht_names_free(&r);
    CHECK_INT(unlink(filler), ==, 0);
    CHECK_INT(trail__compress_file(path, TRAIL_COMPRESS_GZIP), ==, 0);
    char gz[1200];
    snprintf(gz, sizeof gz, "%s.gz", path);
    back = gunzip_file(gz, &len);
    CHECK(back && len == n && memcmp(back, data, n) == 0);
    free(back);
    free(data);
}
