/* test_tail.c — the file input against every rotation scheme, partial
 * lines, crashes before and after acknowledgement, inode reuse. */
#include <sys/stat.h>

#include "tail_fixture.h"

static char yaml[1024];
static const char *input_yaml(const char *dir, const char *glob, const char *extra) {
    snprintf(yaml, sizeof yaml,
             "    paths: [\"%s/%s\"]\n    rescan_interval: 20ms\n    poll_interval: 1ms\n    close_after: 0s\n%s", dir,
             glob, extra ? extra : "");
    return yaml;
}

static char path_buf[4][600];
static const char *P(int slot, const char *name) {
    snprintf(path_buf[slot], sizeof path_buf[slot], "%s/%s", test_tmpdir(), name);
    return path_buf[slot];
}

TEST(partial_last_line_waits) {
    tf t;
    tu_write(P(0, "a.log"), "one\ntwo\npart", O_TRUNC);
    tf_init(&t, input_yaml(test_tmpdir(), "*.log", NULL));
    CHECK(tf_until(&t, "two\n"));
    tf_settle(&t, 20);
    CHECK(!strstr(t.out.got.p, "part"));
    tu_write(P(0, "a.log"), "ial\nthree\n", O_APPEND);
    CHECK(tf_until(&t, "three\n"));
    CHECK_STR(t.out.got.p, "one\ntwo\npartial\nthree\n");
    tf_stop(&t);
}

TEST(crash_before_ack_resends_after_ack_does_not) {
    tf t;
    tu_write(P(0, "a.log"), "l1\nl2\nl3\n", O_TRUNC);
    tf_init(&t, input_yaml(test_tmpdir(), "*.log", NULL));
    t.out.manual_ack = true;
    CHECK(tf_until(&t, "l3\n"));
    tf_crash(&t); /* shipped, never acknowledged */
    tf_start(&t, input_yaml(test_tmpdir(), "*.log", NULL));
    t.out.manual_ack = true;
    CHECK(tf_until(&t, "l3\nl1\nl2\nl3\n")); /* everything again, nothing lost */
    tf_ack_all(&t);
    tf_crash(&t);
    tu_write(P(0, "a.log"), "l4\n", O_APPEND);
    tf_start(&t, input_yaml(test_tmpdir(), "*.log", NULL));
    CHECK(tf_until(&t, "l4\n"));
    CHECK_INT(count_of(t.out.got.p, "l1\n"), ==, 2); /* not a third time */
    tf_stop(&t);
}

TEST(positions_wait_for_the_oldest_unacked_batch) {
    tf t;
    tu_write(P(0, "a.log"), "1\n2\n3\n4\n5\n6\n7\n8\n", O_TRUNC);
    tf_init(&t, input_yaml(test_tmpdir(), "*.log", NULL));
    t.out.manual_ack = true;
    CHECK(tf_until(&t, "8\n"));
    CHECK_INT(t.out.nheld, ==, 2); /* batches of 4 */
    ta_batch_done(t.out.held[1], TA_DONE, 0); /* the newer one first */
    ta_pipeline_process_acks(t.p);
    ta_ckpt_save(t.ck, 0);
    struct stat st;
    stat(P(0, "a.log"), &st);
    ta_ckpt_entry *e = ta_ckpt_find(t.ck, "t", st.st_dev, st.st_ino);
    CHECK(e != NULL);
    CHECK_INT(e->offset, ==, 0); /* older batch still out: nothing committed */
    ta_batch_done(t.out.held[0], TA_DONE, 0);
    t.out.nheld = 0;
    ta_pipeline_process_acks(t.p);
    e = ta_ckpt_find(t.ck, "t", st.st_dev, st.st_ino);
    CHECK_INT(e->offset, ==, 16);
    tf_stop(&t);
}

TEST(back_pressure_pauses_reading) {
    tf t;
    char big[8192] = "";
    for (int i = 0; i < 100; i++) snprintf(big + strlen(big), sizeof big - strlen(big), "line%03d\n", i);
    tu_write(P(0, "a.log"), big, O_TRUNC);
    tf_init(&t, input_yaml(test_tmpdir(), "*.log", NULL));
    t.out.manual_ack = true;
    tf_settle(&t, 30);
    /* max_inflight 4 batches of 4 records: at most 16 (+1 open batch) read */
    CHECK_INT(count_of(t.out.got.p, "line"), <=, 20);
    CHECK_INT(ta_pipeline_inflight(t.p), ==, 4);
    for (int round = 0; round < 200 && !strstr(t.out.got.p, "line099"); round++) {
        tf_ack_all(&t);
        tf_turn(&t);
    }
    CHECK(strstr(t.out.got.p, "line099\n") != NULL);
    CHECK_INT(count_of(t.out.got.p, "line"), ==, 100);
    tf_stop(&t);
}

TEST(rename_rotation_create) {
    tf t;
    tu_write(P(0, "app.log"), "a1\na2\n", O_TRUNC);
    tf_init(&t, input_yaml(test_tmpdir(), "app.log*", NULL));
    CHECK(tf_until(&t, "a2\n"));
    /* the writer still holds the old file and writes once more before reopening */
    int fd = open(P(0, "app.log"), O_WRONLY | O_APPEND);
    CHECK(rename(P(0, "app.log"), P(1, "app.log.1")) == 0);
    CHECK(write(fd, "a3\n", 3) == 3);
    close(fd);
    tu_write(P(0, "app.log"), "b1\n", O_TRUNC);
    CHECK(tf_until(&t, "b1\n"));
    CHECK(tf_until(&t, "a3\n"));
    tf_settle(&t, 20);
    CHECK_INT(count_of(t.out.got.p, "a1\n"), ==, 1);
    CHECK_INT(count_of(t.out.got.p, "a3\n"), ==, 1);
    CHECK_INT(count_of(t.out.got.p, "b1\n"), ==, 1);
    tf_stop(&t);
}

TEST(rename_rotation_restart_finds_rotated_file) {
    tf t;
    tu_write(P(0, "app.log"), "a1\n", O_TRUNC);
    tf_init(&t, input_yaml(test_tmpdir(), "app.log*", NULL));
    CHECK(tf_until(&t, "a1\n"));
    tf_crash(&t);
    /* while traild is down: more lines, rotation, new file */
    tu_write(P(0, "app.log"), "a2\n", O_APPEND);
    CHECK(rename(P(0, "app.log"), P(1, "app.log-20261124")) == 0);
    tu_write(P(0, "app.log"), "b1\n", O_TRUNC);
    tf_start(&t, input_yaml(test_tmpdir(), "app.log*", NULL));
    CHECK(tf_until(&t, "b1\n"));
    CHECK(tf_until(&t, "a2\n"));
    CHECK_INT(count_of(t.out.got.p, "a1\n"), ==, 1);
    tf_stop(&t);
}

TEST(copytruncate) {
    tf t;
    tu_write(P(0, "app.log"), "copytruncate test line number one, c1\ncopytruncate test line number two, c2\n", O_TRUNC);
    tf_init(&t, input_yaml(test_tmpdir(), "app.log*", NULL));
    CHECK(tf_until(&t, "c2\n"));
    tu_write(P(0, "app.log"), "copytruncate test line number three, c3\n", O_APPEND);
    /* logrotate copytruncate: copy, then truncate in place */
    char *all = test_read_file(P(0, "app.log"), NULL);
    tu_write(P(1, "app.log.1"), all, O_TRUNC);
    free(all);
    CHECK(truncate(P(0, "app.log"), 0) == 0);
    tu_write(P(0, "app.log"), "d1\n", O_APPEND);
    CHECK(tf_until(&t, "d1\n"));
    CHECK(tf_until(&t, "c3\n"));
    tf_settle(&t, 30);
    CHECK_INT(count_of(t.out.got.p, "c1\n"), ==, 1);
    CHECK_INT(count_of(t.out.got.p, "c3\n"), ==, 1);
    CHECK_INT(count_of(t.out.got.p, "d1\n"), ==, 1);
    tf_stop(&t);
}

TEST(truncated_and_rewritten_longer_than_before) {
    tf t;
    tu_write(P(0, "app.log"), "x1\n", O_TRUNC);
    tf_init(&t, input_yaml(test_tmpdir(), "app.log", NULL));
    CHECK(tf_until(&t, "x1\n"));
    CHECK(truncate(P(0, "app.log"), 0) == 0);
    tf_turn(&t); /* noticed while empty */
    tu_write(P(0, "app.log"), "y1\ny2\n", O_APPEND);
    CHECK(tf_until(&t, "y2\n"));
    CHECK_STR(t.out.got.p, "x1\ny1\ny2\n");
    tf_stop(&t);
}

TEST(deleted_while_open_is_drained) {
    tf t;
    tu_write(P(0, "app.log"), "d1\n", O_TRUNC);
    tf_init(&t, input_yaml(test_tmpdir(), "app.log", NULL));
    CHECK(tf_until(&t, "d1\n"));
    int fd = open(P(0, "app.log"), O_WRONLY | O_APPEND);
    CHECK(unlink(P(0, "app.log")) == 0);
    CHECK(write(fd, "d2\n", 3) == 3);
    close(fd);
    CHECK(tf_until(&t, "d2\n"));
    tf_settle(&t, 30);
    CHECK_INT(atomic_load(&ta_stats_input("t")->files_watched), ==, 0); /* closed once drained */
    tf_stop(&t);
}

TEST(inode_reuse_is_a_new_file) {
    tf t;
    tu_write(P(0, "app.log"), "old content line one\nold two\n", O_TRUNC);
    tf_init(&t, input_yaml(test_tmpdir(), "app.log", NULL));
    CHECK(tf_until(&t, "old two\n"));
    tf_stop(&t);
    struct stat st1, st2;
    stat(P(0, "app.log"), &st1);
    /* Replace the file, trying to get the same inode back; when the file
     * system gives another inode the test still checks correct behaviour. */
    unlink(P(0, "app.log"));
    tu_write(P(0, "app.log"), "NEW\n", O_TRUNC);
    stat(P(0, "app.log"), &st2);
    if (st1.st_ino != st2.st_ino) fprintf(stderr, "  (inode not reused by the file system; still checking)\n");
    tf_start(&t, input_yaml(test_tmpdir(), "app.log", NULL));
    CHECK(tf_until(&t, "NEW\n"));
    tf_stop(&t);
}

TEST(inode_reuse_simulated_by_checkpoint) {
    /* A checkpoint entry with this file's (dev, ino) but another file's
     * fingerprint: exactly what inode reuse looks like. */
    tu_write(P(0, "app.log"), "fresh-1\nfresh-2\n", O_TRUNC);
    struct stat st;
    stat(P(0, "app.log"), &st);
    char err[256];
    ta_ckpt *ck = ta_ckpt_open(P(1, "positions.ckpt"), err, sizeof err);
    ta_file_id id = {.dev = st.st_dev, .ino = st.st_ino, .fp = 12345, .fp_len = 16};
    ta_ckpt_put(ck, "t", &id, 8, P(0, "app.log"));
    CHECK_INT(ta_ckpt_save(ck, 0), ==, 0);
    ta_ckpt_free(ck);
    tf t;
    tf_init(&t, input_yaml(test_tmpdir(), "app.log", NULL));
    CHECK(tf_until(&t, "fresh-2\n"));
    CHECK_STR(t.out.got.p, "fresh-1\nfresh-2\n"); /* from 0, not from the stale 8 */
    tf_stop(&t);
}

TEST(delaycompress_gz_ignored) {
    tf t;
    tu_write(P(0, "app.log"), "g1\n", O_TRUNC);
    tu_write(P(1, "app.log.2.gz"), "\x1f\x8b binary\n", O_TRUNC);
    tf_init(&t, input_yaml(test_tmpdir(), "app.log*", NULL));
    CHECK(tf_until(&t, "g1\n"));
    tf_settle(&t, 20);
    CHECK(!strstr(t.out.got.p, "binary"));
    tf_stop(&t);
}

TEST(start_at_end_skips_existing_only_on_first_start) {
    tf t;
    tu_write(P(0, "app.log"), "old1\nold2\n", O_TRUNC);
    tf_init(&t, input_yaml(test_tmpdir(), "*.log", "    start_at: end\n"));
    tf_settle(&t, 10);
    tu_write(P(0, "app.log"), "new1\n", O_APPEND);
    tu_write(P(1, "b.log"), "other1\n", O_TRUNC); /* appears later: read whole */
    CHECK(tf_until(&t, "new1\n"));
    CHECK(tf_until(&t, "other1\n"));
    CHECK(!strstr(t.out.got.p, "old1"));
    tf_stop(&t);
}

TEST(multiline_join) {
    tf t;
    tu_write(P(0, "app.log"), "2026 start one\n  at x\n  at y\n2026 start two\n", O_TRUNC);
    tf_init(&t, input_yaml(test_tmpdir(), "*.log", "    multiline_start: \"^[0-9]{4} \"\n    multiline_timeout: 50ms\n"));
    CHECK(tf_until(&t, "2026 start one\n  at x\n  at y\n"));
    CHECK(tf_until(&t, "2026 start two\n")); /* flushed by the timeout */
    tf_stop(&t);
}

TEST(long_lines_in_pieces) {
    tf t;
    char *big = malloc(3000);
    memset(big, 'x', 2999);
    big[2999] = 0;
    tu_write(P(0, "app.log"), big, O_TRUNC);
    tu_write(P(0, "app.log"), "\nend\n", O_APPEND);
    tf_init(&t, input_yaml(test_tmpdir(), "*.log", "    max_line_bytes: 1000\n    read_buffer: 4096\n"));
    CHECK(tf_until(&t, "end\n"));
    size_t total = 0;
    for (const char *p = t.out.got.p; *p; p++) total += *p == 'x';
    CHECK_INT(total, ==, 2999); /* every byte once */
    free(big);
    tf_stop(&t);
}

TEST(crlf_lines) {
    tf t;
    tu_write(P(0, "app.log"), "w1\r\nw2\r\n", O_TRUNC);
    tf_init(&t, input_yaml(test_tmpdir(), "*.log", NULL));
    CHECK(tf_until(&t, "w2\n"));
    CHECK_STR(t.out.got.p, "w1\nw2\n");
    tf_stop(&t);
}
