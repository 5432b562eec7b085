/* http_test.h — one HTTP request with libcurl for the tests (status, body,
 * content type). Header-only; every request has a timeout. */
#ifndef TRAILD_HTTP_TEST_H
#define TRAILD_HTTP_TEST_H

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

typedef struct ht_resp {
    long status;       /* -1 when the request failed */
    char *body;        /* NUL-terminated, malloc'd (free it) */
    size_t len;
    char ctype[128];
} ht_resp;

static size_t ht_sink(char *p, size_t sz, size_t n, void *arg) {
    ht_resp *r = arg;
    size_t add = sz * n;
    char *nb = realloc(r->body, r->len + add + 1);
    if (!nb) return 0;
    r->body = nb;
    memcpy(r->body + r->len, p, add);
    r->len += add;
    r->body[r->len] = 0;
    return add;
}

/* method "GET" or e.g. "POST" (empty body). */
static inline ht_resp ht_request(const char *method, const char *url) {
    ht_resp r = {.status = -1};
    r.body = calloc(1, 1);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ht_sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
    }
    if (curl_easy_perform(c) == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
        char *ct = NULL;
        curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
        if (ct) snprintf(r.ctype, sizeof r.ctype, "%s", ct);
    }
    curl_easy_cleanup(c);
    return r;
}

#endif
