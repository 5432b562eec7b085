/* A segment whose blocks this build cannot read (written by another
 * version, or damaged) is not a torn tail: reopening as writer must not cut
 * it. It is moved aside whole (seg-*.dat.bad), counted as corrupt, and the
 * store goes on with the rest. A real torn tail is still cut
 * (test_store_crash.c: torn_tails_are_dropped). */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_test_util.h"

static uint32_t get32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Flips the first metadata byte of every block of a segment file: each
 * block keeps a valid prefix but its metadata no longer parses. Returns the
 * number of blocks. */
static int spoil_every_block(const char *path) {
    size_t n = 0;
    char *buf = test_read_file(path, &n);
    CHECK(buf != NULL);
    unsigned char *p = (unsigned char *)buf;
    int blocks = 0;
    for (size_t off = 16; off + 24 <= n; blocks++) {
        uint32_t ml = get32(p + off + 4), dl = get32(p + off + 8);
        p[off + 24] ^= 0xff;
        off += 24 + (size_t)ml + dl;
    }
    int fd = open(path, O_WRONLY | O_TRUNC);
    CHECK(fd >= 0);
    CHECK(write(fd, buf, n) == (ssize_t)n);
    close(fd);
    free(buf);
    return blocks;
}

TEST(unreadable_segment_is_moved_aside_not_cut) {
    char d[512], cat[600];
    snprintf(d, sizeof d, "%s/foreign", test_tmpdir());
    snprintf(cat, sizeof cat, "%s/app", d);
    trail_store_config c = {.block_bytes = 2048, .head_bytes = 8192, .segment_bytes = 1 << 20};
    trail_store *s = ts_open(d, TRAIL_STORE_NO_BACKGROUND, &c);
    for (int i = 0; i < 200; i++) {
        char line[64];
        snprintf(line, sizeof line, "{\"seq\":%d,\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxx\"}", i);
        CHECK_INT(ts_put(s, "app", "svc", "info", (int64_t)i * SEC, line, NULL), ==, 1);
    }
    CHECK_INT(trail_store_flush(s), ==, 0);
    trail_store_close(s);

    /* One segment; its index removed so the reopen reads the blocks. */
    DIR *dir = opendir(cat);
    CHECK(dir != NULL);
    char seg[900] = "";
    struct dirent *de;
    while ((de = readdir(dir))) {
        char p[900];
        snprintf(p, sizeof p, "%s/%s", cat, de->d_name);
        if (strstr(de->d_name, ".idx")) unlink(p);
        if (strstr(de->d_name, ".dat")) snprintf(seg, sizeof seg, "%s", p);
    }
    closedir(dir);
    CHECK(seg[0]);
    CHECK_INT(spoil_every_block(seg), >, 1);
    struct stat before;
    CHECK_INT(stat(seg, &before), ==, 0);

    s = ts_open(d, TRAIL_STORE_NO_BACKGROUND, &c);
    trail_store_stats st;
    trail_store_get_stats(s, &st);
    CHECK_INT(st.torn_bytes, ==, 0);
    CHECK_INT(st.corrupt_blocks, >=, 1);
    trail_store_close(s);
    char bad[1000];
    snprintf(bad, sizeof bad, "%s.bad", seg);
    struct stat after;
    CHECK_INT(stat(bad, &after), ==, 0); /* moved aside ... */
    CHECK_INT(after.st_size, ==, before.st_size); /* ... whole */
}
