/* Concurrency: pushes and queries from several client threads at once
 * against one API (one server thread per connection, one shared source).
 * Every pushed entry must be stored exactly once and every query must
 * answer 200 with a well-formed body. Runs under TSan too. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "mem_source.h"
#include "test.h"

#define PUSHERS 3
#define QUERIERS 2
#define ROUNDS 40

static char base[64];

static size_t sink(char *p, size_t sz, size_t n, void *arg) {
    (void)p;
    *(size_t *)arg += sz * n;
    return sz * n;
}

static long request(const char *path, const char *body) {
    CURL *c = curl_easy_init();
    char url[512];
    snprintf(url, sizeof url, "%s%s", base, path);
    size_t got = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &got);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    struct curl_slist *h = NULL;
    if (body) {
        h = curl_slist_append(h, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    }
    long status = -1;
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return status;
}

static void *pusher(void *arg) {
    long id = (long)arg, bad = 0;
    for (int i = 0; i < ROUNDS; i++) {
        char body[256];
        snprintf(body, sizeof body,
                 "{\"streams\":[{\"stream\":{\"writer\":\"w%ld\"},\"values\":[[\"%lld\",\"seq %d\"]]}]}", id,
                 1700000000000000000LL + i, i);
        if (request("/loki/api/v1/push", body) != 204) bad++;
    }
    return (void *)bad;
}

static void *querier(void *arg) {
    (void)arg;
    long bad = 0;
    for (int i = 0; i < ROUNDS; i++) {
        const char *p = i % 2 ? "/loki/api/v1/query_range?query=%7Bwriter%3D~%22w.%2A%22%7D&start=1699999999&end=1700000001"
                              : "/loki/api/v1/query?query=count_over_time(%7Bwriter%3D~%22.%2B%22%7D%5B1h%5D)&time=1700000001";
        if (request(p, NULL) != 200) bad++;
    }
    return (void *)bad;
}

TEST(concurrent_push_and_query) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    tq_mem *m = tq_mem_new();
    tq_source src = tq_mem_source(m);
    tq_api *api;
    char err[256];
    tq_api_config cfg = {.listen = "127.0.0.1:0"};
    CHECK_INT(tq_api_start(&cfg, &src, &api, err, sizeof err), ==, 0);
    snprintf(base, sizeof base, "http://127.0.0.1:%u", tq_api_port(api));
    pthread_t t[PUSHERS + QUERIERS];
    for (long i = 0; i < PUSHERS; i++) pthread_create(&t[i], NULL, pusher, (void *)i);
    for (long i = 0; i < QUERIERS; i++) pthread_create(&t[PUSHERS + i], NULL, querier, NULL);
    long bad = 0;
    for (int i = 0; i < PUSHERS + QUERIERS; i++) {
        void *r;
        pthread_join(t[i], &r);
        bad += (long)r;
    }
    CHECK_INT(bad, ==, 0);
    CHECK_INT(tq_mem_count(m), ==, PUSHERS * ROUNDS);
    /* Re-pushing the same entries stores nothing new (exact duplicates). */
    CHECK_INT((long)pusher((void *)0), ==, 0);
    CHECK_INT(tq_mem_count(m), ==, PUSHERS * ROUNDS);
    tq_api_stop(api);
    tq_mem_free(m);
    curl_global_cleanup();
}
