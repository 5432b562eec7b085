/* test_context.c — thread context: set/get/remove/clear, limits, handles,
 * attach/detach, the blob the core captures, headers in and out. */
#include "ctx_impl.h"
#include "test.h"
#include "trail.h"

#include <errno.h>

static int ctx_count(void) {
    size_t len;
    const unsigned char *b = trail__ctx_current(&len);
    trail_field f[64];
    return (int)trail__ctx_decode(b, len, f, 64);
}

TEST(set_get_remove_clear) {
    char buf[64];
    CHECK_INT(trail_ctx_get("request_id", buf, sizeof buf), ==, -ENOENT);
    CHECK_INT(trail_ctx_set("request_id", "r-1"), ==, 0);
    CHECK_INT(trail_ctx_set("user_id", "u-9"), ==, 0);
    CHECK_INT(trail_ctx_get("request_id", buf, sizeof buf), ==, 3);
    CHECK_STR(buf, "r-1");
    CHECK_INT(trail_ctx_set("request_id", "r-22"), ==, 0); /* replace keeps one entry */
    CHECK_INT(trail_ctx_get("request_id", buf, sizeof buf), ==, 4);
    CHECK_STR(buf, "r-22");
    CHECK_INT(ctx_count(), ==, 2);
    CHECK_INT(trail_ctx_remove("request_id"), ==, 0);
    CHECK_INT(trail_ctx_remove("request_id"), ==, -ENOENT);
    CHECK_INT(trail_ctx_get("user_id", buf, sizeof buf), ==, 3);
    CHECK_INT(ctx_count(), ==, 1);
    trail_ctx_clear();
    CHECK_INT(ctx_count(), ==, 0);
    CHECK_INT(trail_ctx_get("user_id", buf, sizeof buf), ==, -ENOENT);
}

TEST(bad_arguments) {
    char buf[8];
    CHECK_INT(trail_ctx_set(NULL, "x"), ==, -EINVAL);
    CHECK_INT(trail_ctx_set("", "x"), ==, -EINVAL);
    CHECK_INT(trail_ctx_get(NULL, buf, sizeof buf), ==, -EINVAL);
    CHECK_INT(trail_ctx_set("k", "v"), ==, 0);
    CHECK_INT(trail_ctx_set("k", NULL), ==, 0); /* NULL value removes */
    CHECK_INT(trail_ctx_get("k", buf, sizeof buf), ==, -ENOENT);
    char longkey[300];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    CHECK_INT(trail_ctx_set(longkey, "v"), ==, -EINVAL);
}

TEST(get_truncates_like_snprintf) {
    char buf[4];
    CHECK_INT(trail_ctx_set("request_id", "abcdefgh"), ==, 0);
    CHECK_INT(trail_ctx_get("request_id", buf, sizeof buf), ==, 8);
    CHECK_STR(buf, "abc");
    CHECK_INT(trail_ctx_get("request_id", NULL, 0), ==, 8);
}

TEST(size_limit_is_a_clear_error_and_changes_nothing) {
    char big[TRAIL_CTX_MAX_BYTES];
    memset(big, 'v', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK_INT(trail_ctx_set("a", "1"), ==, 0);
    CHECK_INT(trail_ctx_set("big", big), ==, -E2BIG);
    CHECK_CONTAINS(trail_last_error(), "TRAIL_CTX_MAX_BYTES");
    CHECK_INT(ctx_count(), ==, 1);
    /* Fill to the byte: records are 1 + klen + 1 + 2 + vlen. */
    size_t used;
    trail__ctx_current(&used);
    size_t room = TRAIL_CTX_MAX_BYTES - used - (1 + 1 + 1 + 2);
    big[room] = '\0';
    CHECK_INT(trail_ctx_set("b", big), ==, 0);
    trail__ctx_current(&used);
    CHECK_INT(used, ==, TRAIL_CTX_MAX_BYTES);
    CHECK_INT(trail_ctx_set("c", "x"), ==, -E2BIG);
    /* Replacing a value with a shorter one still works when full. */
    CHECK_INT(trail_ctx_set("b", "short"), ==, 0);
    char buf[16];
    CHECK_INT(trail_ctx_get("b", buf, sizeof buf), ==, 5);
}

TEST(blob_decodes_to_fields) {
    trail_ctx_clear();
    trail_ctx_set("request_id", "r1");
    trail_ctx_set("trace_id", "0af7651916cd43dd8448eb211c80319c");
    size_t len;
    const unsigned char *b = trail__ctx_current(&len);
    trail_field f[4];
    CHECK_INT(trail__ctx_decode(b, len, f, 4), ==, 2);
    CHECK_STR(f[0].key, "request_id");
    CHECK_INT(f[0].type, ==, TRAIL_T_STR);
    CHECK_INT(f[0].len, ==, 2);
    CHECK(memcmp(f[0].v.s, "r1", 2) == 0);
    CHECK_STR(f[1].key, "trace_id");
    CHECK_INT(f[1].len, ==, 32);
    CHECK_INT(trail__ctx_decode(b, len, f, 1), ==, 1); /* max respected */
    /* A truncated blob decodes only its whole records. */
    CHECK_INT(trail__ctx_decode(b, len - 1, f, 4), ==, 1);
}

TEST(handles_attach_detach) {
    char buf[32];
    trail_ctx_set("request_id", "own");
    trail_ctx *a = trail_ctx_new(), *b = trail_ctx_new();
    CHECK(a && b);
    CHECK_INT(trail_ctx_put(a, "request_id", "req-a"), ==, 0);
    CHECK_INT(trail_ctx_put(b, "request_id", "req-b"), ==, 0);
    CHECK(trail_ctx_attach(a) == NULL);
    CHECK_INT(trail_ctx_get("request_id", buf, sizeof buf), ==, 5);
    CHECK_STR(buf, "req-a");
    trail_ctx_set("user_id", "ua"); /* goes to the attached handle */
    CHECK(trail_ctx_attach(b) == a);
    CHECK_STR((trail_ctx_get("request_id", buf, sizeof buf), buf), "req-b");
    CHECK_INT(trail_ctx_get("user_id", buf, sizeof buf), ==, -ENOENT);
    CHECK(trail_ctx_attach(a) == b);
    CHECK_INT(trail_ctx_get("user_id", buf, sizeof buf), ==, 2);
    CHECK(trail_ctx_attach(NULL) == a);
    CHECK_STR((trail_ctx_get("request_id", buf, sizeof buf), buf), "own");
    CHECK_INT(trail_ctx_get("user_id", buf, sizeof buf), ==, -ENOENT);
    /* Freeing the attached handle detaches it. */
    trail_ctx_attach(b);
    trail_ctx_free(b);
    CHECK_STR((trail_ctx_get("request_id", buf, sizeof buf), buf), "own");
    trail_ctx_free(a);
    trail_ctx_free(NULL);
}

TEST(from_headers_valid) {
    trail_ctx *c = trail_ctx_new();
    CHECK_INT(trail_ctx_from_headers(c, "abc-123", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"), ==, 0);
    trail_ctx_attach(c);
    char buf[64];
    CHECK_STR((trail_ctx_get("request_id", buf, sizeof buf), buf), "abc-123");
    CHECK_STR((trail_ctx_get("trace_id", buf, sizeof buf), buf), "0af7651916cd43dd8448eb211c80319c");
    CHECK_INT(trail_ctx_get("span_id", buf, sizeof buf), ==, 16);
    CHECK(strcmp(buf, "b7ad6b7169203331") != 0); /* our own span, child of the caller's */
    char rid[64], tp[56];
    CHECK_INT(trail_ctx_outgoing_headers(rid, sizeof rid, tp), ==, 0);
    CHECK_STR(rid, "abc-123");
    trail_traceparent out;
    CHECK_INT(trail_traceparent_parse(tp, &out), ==, 0);
    CHECK_STR(out.trace_id, "0af7651916cd43dd8448eb211c80319c");
    CHECK_INT(out.flags, ==, 1);
    CHECK_INT(trail_ctx_outgoing_headers(rid, 4, NULL), ==, -ERANGE);
    trail_ctx_attach(NULL);
    trail_ctx_free(c);
}

TEST(from_headers_keeps_unsampled_flag) {
    CHECK_INT(trail_ctx_from_headers(NULL, NULL, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"), ==, 0);
    char tp[56];
    CHECK_INT(trail_ctx_outgoing_headers(NULL, 0, tp), ==, 0);
    CHECK(strncmp(tp + 53, "00", 2) == 0);
}

TEST(from_headers_generates_when_missing_or_invalid) {
    const char *bad_ids[] = {NULL, "", "has space", "quote\"", "new\nline", "\xc3\xa9t\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad_ids / sizeof *bad_ids; i++) {
        trail_ctx_clear();
        CHECK_INT(trail_ctx_from_headers(NULL, bad_ids[i], "garbage"), ==, 0);
        char buf[200];
        CHECK_INT(trail_ctx_get("request_id", buf, sizeof buf), ==, 36);
        CHECK(buf[14] == '7'); /* a UUID v7 */
        CHECK_INT(trail_ctx_get("trace_id", buf, sizeof buf), ==, 32);
        CHECK_INT(trail_ctx_get("span_id", buf, sizeof buf), ==, 16);
    }
    char longid[200];
    memset(longid, 'a', 129);
    longid[129] = '\0';
    CHECK_INT(trail_ctx_from_headers(NULL, longid, NULL), ==, 0);
    char buf[200];
    CHECK_INT(trail_ctx_get("request_id", buf, sizeof buf), ==, 36);
    longid[128] = '\0'; /* exactly 128 is accepted */
    CHECK_INT(trail_ctx_from_headers(NULL, longid, NULL), ==, 0);
    CHECK_INT(trail_ctx_get("request_id", buf, sizeof buf), ==, 128);
}

TEST(from_headers_full_context_unchanged) {
    char big[TRAIL_CTX_MAX_BYTES];
    memset(big, 'v', 480);
    big[480] = '\0';
    trail_ctx_clear();
    CHECK_INT(trail_ctx_set("big", big), ==, 0);
    CHECK_INT(trail_ctx_from_headers(NULL, "abc", NULL), ==, -E2BIG);
    char buf[8];
    CHECK_INT(trail_ctx_get("request_id", buf, sizeof buf), ==, -ENOENT);
}

TEST(outgoing_without_context_generates) {
    trail_ctx_clear();
    char rid[37], tp[56];
    CHECK_INT(trail_ctx_outgoing_headers(rid, sizeof rid, tp), ==, 0);
    CHECK_INT(strlen(rid), ==, 36);
    trail_traceparent out;
    CHECK_INT(trail_traceparent_parse(tp, &out), ==, 0);
}
