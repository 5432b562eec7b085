/* The API over the real embedded store: pushed entries land in the right
 * category, their structured-metadata request_id is indexed (so the
 * push-down query finds them), selectors and labels see the store's
 * `category` label, and a restart (close + reopen) keeps everything. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "query.h"
#include "store.h"
#include "store_source.h"
#include "test.h"

static size_t sink(char *p, size_t sz, size_t n, void *arg) {
    tq_buf_add(arg, p, sz * n);
    return sz * n;
}

static long post(uint16_t port, const char *body, tq_buf *out) {
    CURL *c = curl_easy_init();
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/loki/api/v1/push", port);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    long status = -1;
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return status;
}

static size_t count(const tq_source *src, const char *query) {
    tq_query *q;
    char err[256];
    if (tq_parse(query, &q, err, sizeof err) < 0) test__fail(__FILE__, __LINE__, "%s", err);
    tq_params p = {.start = 0, .end = INT64_MAX / 2, .limit = 1000};
    tq_result *r;
    if (tq_eval(q, &p, src, &r, err, sizeof err) < 0) test__fail(__FILE__, __LINE__, "%s", err);
    size_t n = 0;
    for (size_t i = 0; i < r->nstreams; i++) n += r->streams[i].n;
    tq_result_free(r);
    tq_query_free(q);
    return n;
}

TEST(push_into_store_then_query) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/store", test_tmpdir());
    trail_store_config cfg = {.dir = dir, .flags = TRAIL_STORE_NO_FSYNC};
    trail_store *st;
    char err[256];
    CHECK_INT(trail_store_open(&cfg, &st, err, sizeof err), ==, 0);
    tq_source src = tq_store_source(st, NULL);
    tq_api *api;
    tq_api_config ac = {.listen = "127.0.0.1:0"};
    CHECK_INT(tq_api_start(&ac, &src, &api, err, sizeof err), ==, 0);

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long long now = (long long)ts.tv_sec * 1000000000LL;
    char body[2048];
    snprintf(body, sizeof body,
             "{\"streams\":["
             "{\"stream\":{\"service\":\"edge\",\"category\":\"access\"},\"values\":["
             "[\"%lld\",\"GET /a 200\",{\"request_id\":\"rid-1\"}],[\"%lld\",\"GET /b 502\",{\"request_id\":\"rid-2\"}]]},"
             "{\"stream\":{\"service\":\"api\"},\"values\":["
             "[\"%lld\",\"{\\\"msg\\\":\\\"upstream failed\\\",\\\"request_id\\\":\\\"rid-2\\\"}\"]]}]}",
             now - 3000000000LL, now - 2000000000LL, now - 1000000000LL);
    tq_buf out = {0};
    CHECK_INT(post(tq_api_port(api), body, &out), ==, 204);
    /* the same request again: exact duplicates are dropped by the store */
    CHECK_INT(post(tq_api_port(api), body, &out), ==, 204);
    tq_buf_free(&out);

    CHECK_INT(count(&src, "{category=\"access\"}"), ==, 2);
    CHECK_INT(count(&src, "{category=\"app\", service=\"api\"}"), ==, 1);
    /* metadata id (access) and JSON-line id (app) are both indexed */
    CHECK_INT(count(&src, "{} | request_id=\"rid-2\""), ==, 2);
    CHECK_INT(count(&src, "{} | request_id=\"rid-1\""), ==, 1);
    CHECK_INT(count(&src, "{} | request_id=\"rid-3\""), ==, 0);
    CHECK_INT(count(&src, "{} |= \"upstream failed\""), ==, 1);

    tq_api_stop(api);
    tq_store_source_free(&src);
    trail_store_close(st);

    /* Reopened read-only (as `trail --store` does): all still there. */
    trail_store_config ro = {.dir = dir, .flags = TRAIL_STORE_READONLY};
    CHECK_INT(trail_store_open(&ro, &st, err, sizeof err), ==, 0);
    src = tq_store_source(st, NULL);
    CHECK_INT(count(&src, "{service=~\"edge|api\"}"), ==, 3);
    CHECK_INT(count(&src, "{} | request_id=\"rid-2\""), ==, 2);
    tq_store_source_free(&src);
    trail_store_close(st);
}
