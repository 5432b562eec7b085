/* demo frontend: a load generator that acts like a web front end. Each
 * simulated user request gets a new request id (UUID v7) and trace, is
 * logged, and calls the backend with X-Request-ID and traceparent. The ids
 * of requests that failed are written to <failed file>, one per line.
 *
 *   demo_frontend <base url> <requests> <interval ms> <failed file> */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "trail.h"

static size_t discard(char *b, size_t size, size_t n, void *ud) {
    (void)b, (void)ud;
    return size * n;
}

/* GET base/order?item=...; returns the HTTP status, or -1 on a transport error. */
static long call_backend(CURL *c, const char *base, const char *item, char *err, size_t err_size) {
    char url[512], h1[200], h2[100], rid[130], tp[56];
    snprintf(url, sizeof url, "%s/order?item=%s", base, item);
    trail_ctx_outgoing_headers(rid, sizeof rid, tp);
    snprintf(h1, sizeof h1, "X-Request-ID: %s", rid);
    snprintf(h2, sizeof h2, "traceparent: %s", tp);
    struct curl_slist *hs = curl_slist_append(curl_slist_append(NULL, h1), h2);
    char curl_err[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "trail-demo-frontend/1");
    long status = -1;
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    else snprintf(err, err_size, "%s", curl_err);
    curl_slist_free_all(hs);
    return status;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: demo_frontend <base url> <requests> <interval ms> <failed file>\n");
        return 2;
    }
    if (trail_init("frontend") < 0) {
        fprintf(stderr, "demo_frontend: %s\n", trail_last_error());
        return 1;
    }
    const char *base = argv[1];
    int requests = atoi(argv[2]);
    long interval_ms = atol(argv[3]);
    FILE *failed = fopen(argv[4], "w");
    trail_logger *lg = trail_get("frontend.checkout");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *c = curl_easy_init();
    if (!failed || !c) {
        trail_critical(lg, "cannot start", TRAIL_STR("failed_file", argv[4]));
        trail_shutdown();
        return 1;
    }
    int ok = 0, bad = 0;
    for (int i = 0; i < requests; i++) {
        char item[32], rid[37];
        snprintf(item, sizeof item, "sku-%d", 100 + i);
        trail_uuid_v7(rid);
        trail_ctx_clear();
        trail_ctx_from_headers(NULL, rid, NULL);
        trail_ctx_set("user_id", i % 3 ? "user-42" : "user-7");
        trail_info(lg, "checkout started", TRAIL_STR("item", item));
        char err[CURL_ERROR_SIZE] = "";
        long status = call_backend(c, base, item, err, sizeof err);
        if (status == 200) {
            ok++;
            trail_success(lg, "checkout completed", TRAIL_STR("item", item), TRAIL_I64("http.status", status));
        } else {
            bad++;
            trail_error(lg, "checkout failed", TRAIL_STR("item", item), TRAIL_I64("http.status", status),
                        TRAIL_STR("error.message", status < 0 ? err : "backend answered an error"));
            fprintf(failed, "%s\n", rid);
            fflush(failed);
        }
        struct timespec pause = {interval_ms / 1000, (interval_ms % 1000) * 1000000L};
        nanosleep(&pause, NULL);
    }
    trail_ctx_clear();
    trail_info(lg, "load finished", TRAIL_I64("ok", ok), TRAIL_I64("failed", bad));
    curl_easy_cleanup(c);
    curl_global_cleanup();
    fclose(failed);
    trail_shutdown();
    return 0;
}
