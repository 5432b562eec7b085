/* API tests: the server on 127.0.0.1 (ephemeral port) over an in-memory
 * source; requests with libcurl; responses checked field by field against
 * Loki's documented shapes (status, data.resultType, result[].stream /
 * metric, values as ["<ns string>", "<line>"] or [<seconds>, "<value>"]). */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "api.h"
#include "mem_source.h"
#include "test.h"
#include "tq_json.h"

static tq_mem *M;
static tq_source S;
static tq_api *A;
static char base[64];
static int64_t NOW;

static void start(const char *token) {
    M = tq_mem_new();
    S = tq_mem_source(M);
    tq_api_config cfg = {.listen = "127.0.0.1:0", .bearer_token = token, .max_body_bytes = 1 << 20};
    char err[256];
    int rc = tq_api_start(&cfg, &S, &A, err, sizeof err);
    if (rc) test__fail(__FILE__, __LINE__, "api start: %s", err);
    snprintf(base, sizeof base, "http://127.0.0.1:%u", tq_api_port(A));
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    NOW = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

typedef struct resp {
    long status;
    tq_buf body;
} resp;

static size_t on_data(char *p, size_t sz, size_t n, void *arg) {
    tq_buf_add(&((resp *)arg)->body, p, sz * n);
    return sz * n;
}

/* One request; headers is a NULL-terminated list. */
static resp req(const char *method, const char *path, const char *body, size_t len, const char *const *headers) {
    resp r = {0};
    CURL *c = curl_easy_init();
    char url[4096];
    snprintf(url, sizeof url, "%s%s", base, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    struct curl_slist *h = NULL;
    for (size_t i = 0; headers && headers[i]; i++) h = curl_slist_append(h, headers[i]);
    if (h) curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
    }
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) test__fail(__FILE__, __LINE__, "%s %s: %s", method, path, curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    tq_buf_cstr(&r.body);
    return r;
}

static resp get(const char *path) { return req("GET", path, NULL, 0, NULL); }

static char *esc(const char *s) {
    CURL *c = curl_easy_init();
    char *e = curl_easy_escape(c, s, 0);
    char *out = strdup(e);
    curl_free(e);
    curl_easy_cleanup(c);
    return out;
}

static void push_json(void) {
    char body[2048];
    snprintf(body, sizeof body,
             "{\"streams\":[{\"stream\":{\"service\":\"api\",\"level\":\"error\"},\"values\":["
             "[\"%lld\",\"{\\\"msg\\\":\\\"db down\\\",\\\"request_id\\\":\\\"r1\\\",\\\"status\\\":503}\"],"
             "[\"%lld\",\"{\\\"msg\\\":\\\"retry failed\\\",\\\"request_id\\\":\\\"r1\\\",\\\"status\\\":500}\","
             "{\"trace_id\":\"t1\"}]]},"
             "{\"stream\":{\"service\":\"web\",\"level\":\"info\"},\"values\":["
             "[\"%lld\",\"{\\\"msg\\\":\\\"GET /\\\",\\\"request_id\\\":\\\"r2\\\",\\\"status\\\":200}\"]]}]}",
             (long long)(NOW - 3000000000LL), (long long)(NOW - 2000000000LL), (long long)(NOW - 1000000000LL));
    const char *h[] = {"Content-Type: application/json", NULL};
    resp r = req("POST", "/loki/api/v1/push", body, strlen(body), h);
    CHECK_INT(r.status, ==, 204);
    CHECK_INT(r.body.len, ==, 0);
    tq_buf_free(&r.body);
    CHECK_INT(tq_mem_count(M), ==, 3);
}

static tq_arena AR;

static const tq_jval *parse(const resp *r) {
    char err[200];
    const tq_jval *v = tq_json_parse(&AR, r->body.p, r->body.len, 64, err, sizeof err);
    if (!v) test__fail(__FILE__, __LINE__, "response is not JSON (%s): %s", err, r->body.p);
    return v;
}

static const tq_jval *at(const tq_jval *v, const char *key, tq_jtype type) {
    const tq_jval *x = tq_json_get(v, key);
    if (!x) test__fail(__FILE__, __LINE__, "missing key \"%s\"", key);
    if (x->type != type) test__fail(__FILE__, __LINE__, "key \"%s\" has type %d, want %d", key, x->type, type);
    return x;
}

static void check_success(const tq_jval *root) { CHECK_STR(at(root, "status", TQ_JSTR)->s, "success"); }

TEST(push_then_query_range_streams) {
    start(NULL);
    push_json();
    char path[512], *q = esc("{service=\"api\"} | json | status >= 500");
    snprintf(path, sizeof path, "/loki/api/v1/query_range?query=%s&start=%lld&end=%lld&direction=forward&limit=10", q,
             (long long)(NOW - 60000000000LL), (long long)NOW);
    free(q);
    resp r = get(path);
    CHECK_INT(r.status, ==, 200);
    const tq_jval *root = parse(&r);
    check_success(root);
    const tq_jval *data = at(root, "data", TQ_JOBJ);
    CHECK_STR(at(data, "resultType", TQ_JSTR)->s, "streams");
    const tq_jval *result = at(data, "result", TQ_JARR);
    CHECK_INT(result->n, ==, 2); /* request_id/msg differ: json labels split the stream */
    int64_t prev = 0;
    for (size_t i = 0; i < result->n; i++) {
        const tq_jval *stream = at(&result->kids[i], "stream", TQ_JOBJ);
        CHECK_STR(at(stream, "service", TQ_JSTR)->s, "api");
        CHECK_STR(at(stream, "request_id", TQ_JSTR)->s, "r1");
        const tq_jval *values = at(&result->kids[i], "values", TQ_JARR);
        CHECK_INT(values->n, ==, 1);
        const tq_jval *pair = &values->kids[0];
        CHECK_INT(pair->type, ==, TQ_JARR);
        CHECK_INT(pair->n, ==, 2);
        CHECK_INT(pair->kids[0].type, ==, TQ_JSTR); /* ns timestamp as a string */
        CHECK_INT(pair->kids[1].type, ==, TQ_JSTR);
        int64_t ts = strtoll(pair->kids[0].s, NULL, 10);
        CHECK(ts >= NOW - 3000000000LL && ts <= NOW);
        CHECK(ts != prev);
        prev = ts;
        CHECK_CONTAINS(pair->kids[1].s, "\"request_id\":\"r1\"");
    }
    const tq_jval *stats = at(data, "stats", TQ_JOBJ);
    const tq_jval *summary = at(stats, "summary", TQ_JOBJ);
    at(summary, "execTime", TQ_JNUM);
    CHECK_STR(at(summary, "totalLinesProcessed", TQ_JNUM)->s, "2");
    CHECK_STR(at(summary, "totalEntriesReturned", TQ_JNUM)->s, "2");
    tq_buf_free(&r.body);
}

TEST(metric_queries_matrix_and_vector) {
    start(NULL);
    push_json();
    char path[512], *q = esc("sum by (level) (count_over_time({service=~\".+\"}[1m]))");
    snprintf(path, sizeof path, "/loki/api/v1/query_range?query=%s&start=%lld&end=%lld&step=10s", q,
             (long long)((NOW - 60000000000LL) / 1000000000), (long long)(NOW / 1000000000 + 1));
    resp r = get(path);
    CHECK_INT(r.status, ==, 200);
    const tq_jval *data = at(parse(&r), "data", TQ_JOBJ);
    CHECK_STR(at(data, "resultType", TQ_JSTR)->s, "matrix");
    const tq_jval *result = at(data, "result", TQ_JARR);
    CHECK_INT(result->n, ==, 2);
    for (size_t i = 0; i < result->n; i++) {
        const tq_jval *metric = at(&result->kids[i], "metric", TQ_JOBJ);
        CHECK_INT(metric->n, ==, 1);
        const char *lvl = at(metric, "level", TQ_JSTR)->s;
        const tq_jval *values = at(&result->kids[i], "values", TQ_JARR);
        CHECK(values->n >= 1);
        const tq_jval *last = &values->kids[values->n - 1];
        CHECK_INT(last->kids[0].type, ==, TQ_JNUM); /* seconds as a number */
        CHECK_INT(last->kids[1].type, ==, TQ_JSTR); /* value as a string */
        CHECK_STR(last->kids[1].s, strcmp(lvl, "error") == 0 ? "2" : "1");
    }
    tq_buf_free(&r.body);

    snprintf(path, sizeof path, "/loki/api/v1/query?query=%s&time=%lld", q, (long long)NOW);
    free(q);
    r = get(path);
    CHECK_INT(r.status, ==, 200);
    data = at(parse(&r), "data", TQ_JOBJ);
    CHECK_STR(at(data, "resultType", TQ_JSTR)->s, "vector");
    result = at(data, "result", TQ_JARR);
    CHECK_INT(result->n, ==, 2);
    const tq_jval *value = at(&result->kids[0], "value", TQ_JARR);
    CHECK_INT(value->n, ==, 2);
    CHECK_INT(value->kids[0].type, ==, TQ_JNUM);
    CHECK_INT(value->kids[1].type, ==, TQ_JSTR);
    tq_buf_free(&r.body);
}

/* Grafana's Loki data source health check: a vector with the value 2. */
TEST(grafana_health_check_query) {
    start(NULL);
    resp r = get("/loki/api/v1/query?direction=backward&query=vector%281%29%2Bvector%281%29&time=4000000000");
    CHECK_INT(r.status, ==, 200);
    const tq_jval *data = at(parse(&r), "data", TQ_JOBJ);
    CHECK_STR(at(data, "resultType", TQ_JSTR)->s, "vector");
    const tq_jval *result = at(data, "result", TQ_JARR);
    CHECK_INT(result->n, ==, 1);
    CHECK_INT(at(&result->kids[0], "metric", TQ_JOBJ)->n, ==, 0);
    const tq_jval *value = at(&result->kids[0], "value", TQ_JARR);
    CHECK_STR(value->kids[1].s, "2");
    tq_buf_free(&r.body);
}

TEST(index_stats) {
    start(NULL);
    push_json();
    resp r = get("/loki/api/v1/index/stats?query=%7Bservice%3D%22api%22%7D");
    CHECK_INT(r.status, ==, 200);
    const tq_jval *root = parse(&r);
    CHECK_STR(at(root, "streams", TQ_JNUM)->s, "1");
    CHECK_STR(at(root, "chunks", TQ_JNUM)->s, "0");
    CHECK_STR(at(root, "entries", TQ_JNUM)->s, "2");
    at(root, "bytes", TQ_JNUM);
    tq_buf_free(&r.body);
}

TEST(scalar_instant_query) {
    start(NULL);
    resp r = get("/loki/api/v1/query?query=1%2B2*3&time=1700000000");
    CHECK_INT(r.status, ==, 200);
    const tq_jval *data = at(parse(&r), "data", TQ_JOBJ);
    CHECK_STR(at(data, "resultType", TQ_JSTR)->s, "scalar");
    const tq_jval *result = at(data, "result", TQ_JARR);
    CHECK_INT(result->n, ==, 2);
    CHECK_STR(result->kids[0].s, "1700000000");
    CHECK_STR(result->kids[1].s, "7");
    tq_buf_free(&r.body);
}

TEST(labels_values_series) {
    start(NULL);
    push_json();
    resp r = get("/loki/api/v1/labels");
    CHECK_INT(r.status, ==, 200);
    const tq_jval *root = parse(&r);
    check_success(root);
    const tq_jval *data = at(root, "data", TQ_JARR);
    CHECK_INT(data->n, ==, 2);
    CHECK_STR(data->kids[0].s, "level");
    CHECK_STR(data->kids[1].s, "service");
    tq_buf_free(&r.body);

    r = get("/loki/api/v1/label/service/values");
    CHECK_INT(r.status, ==, 200);
    data = at(parse(&r), "data", TQ_JARR);
    CHECK_INT(data->n, ==, 2);
    CHECK_STR(data->kids[0].s, "api");
    CHECK_STR(data->kids[1].s, "web");
    tq_buf_free(&r.body);

    /* the `query` parameter narrows values to the matching streams */
    r = get("/loki/api/v1/label/level/values?query=%7Bservice%3D%22web%22%7D");
    CHECK_INT(r.status, ==, 200);
    data = at(parse(&r), "data", TQ_JARR);
    CHECK_INT(data->n, ==, 1);
    CHECK_STR(data->kids[0].s, "info");
    tq_buf_free(&r.body);

    char path[256], *m = esc("{service=\"web\"}");
    snprintf(path, sizeof path, "/loki/api/v1/series?match[]=%s", m);
    free(m);
    r = get(path);
    CHECK_INT(r.status, ==, 200);
    data = at(parse(&r), "data", TQ_JARR);
    CHECK_INT(data->n, ==, 1);
    CHECK_STR(at(&data->kids[0], "service", TQ_JSTR)->s, "web");
    CHECK_STR(at(&data->kids[0], "level", TQ_JSTR)->s, "info");
    tq_buf_free(&r.body);

    /* POST form, as Grafana may send it */
    const char *h[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    const char *form = "match%5B%5D=%7Bservice%3D%22api%22%7D";
    r = req("POST", "/loki/api/v1/series", form, strlen(form), h);
    CHECK_INT(r.status, ==, 200);
    data = at(parse(&r), "data", TQ_JARR);
    CHECK_INT(data->n, ==, 1);
    tq_buf_free(&r.body);

    r = get("/ready");
    CHECK_INT(r.status, ==, 200);
    tq_buf_free(&r.body);
    r = get("/loki/api/v1/status/buildinfo");
    CHECK_INT(r.status, ==, 200);
    at(parse(&r), "version", TQ_JSTR);
    tq_buf_free(&r.body);
}

TEST(push_gzip_and_protobuf) {
    start(NULL);
    char body[512];
    int n = snprintf(body, sizeof body, "{\"streams\":[{\"stream\":{\"job\":\"gz\"},\"values\":[[\"%lld\",\"zipped\"]]}]}",
                     (long long)NOW);
    uLongf zl = compressBound((uLong)n) + 32;
    unsigned char *z = malloc(zl);
    z_stream zs = {0};
    deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    zs.next_in = (Bytef *)body;
    zs.avail_in = (uInt)n;
    zs.next_out = z;
    zs.avail_out = (uInt)zl;
    CHECK_INT(deflate(&zs, Z_FINISH), ==, Z_STREAM_END);
    const char *h[] = {"Content-Type: application/json", "Content-Encoding: gzip", NULL};
    resp r = req("POST", "/loki/api/v1/push", (const char *)z, zs.total_out, h);
    deflateEnd(&zs);
    free(z);
    CHECK_INT(r.status, ==, 204);
    tq_buf_free(&r.body);

    /* PushRequest{streams:[{labels:'{job="pb"}', entries:[{timestamp:{seconds,nanos}, line:"proto"}]}]} */
    unsigned char pbuf[256];
    size_t o = 0;
    const char *labels = "{job=\"pb\"}";
    unsigned char entry[64];
    size_t e = 0;
    unsigned char tsb[32];
    size_t t = 0;
    uint64_t sec = (uint64_t)(NOW / 1000000000), nanos = (uint64_t)(NOW % 1000000000);
    tsb[t++] = 0x08;
    for (uint64_t v = sec; ; ) { unsigned char b = v & 0x7f; v >>= 7; tsb[t++] = b | (v ? 0x80 : 0); if (!v) break; }
    tsb[t++] = 0x10;
    for (uint64_t v = nanos; ; ) { unsigned char b = v & 0x7f; v >>= 7; tsb[t++] = b | (v ? 0x80 : 0); if (!v) break; }
    entry[e++] = 0x0a; entry[e++] = (unsigned char)t; memcpy(entry + e, tsb, t); e += t;
    entry[e++] = 0x12; entry[e++] = 5; memcpy(entry + e, "proto", 5); e += 5;
    unsigned char stream[128];
    size_t s = 0;
    stream[s++] = 0x0a; stream[s++] = (unsigned char)strlen(labels); memcpy(stream + s, labels, strlen(labels)); s += strlen(labels);
    stream[s++] = 0x12; stream[s++] = (unsigned char)e; memcpy(stream + s, entry, e); s += e;
    pbuf[o++] = 0x0a; pbuf[o++] = (unsigned char)s; memcpy(pbuf + o, stream, s); o += s;
    size_t cl = snappy_max_compressed_length(o);
    char *comp = malloc(cl);
    CHECK_INT(snappy_compress((const char *)pbuf, o, comp, &cl), ==, SNAPPY_OK);
    const char *hp[] = {"Content-Type: application/x-protobuf", NULL};
    r = req("POST", "/loki/api/v1/push", comp, cl, hp);
    free(comp);
    CHECK_INT(r.status, ==, 204);
    tq_buf_free(&r.body);
    CHECK_INT(tq_mem_count(M), ==, 2);

    char path[256], *q = esc("{job=~\"gz|pb\"}");
    snprintf(path, sizeof path, "/loki/api/v1/query_range?query=%s&direction=forward", q);
    free(q);
    r = get(path);
    CHECK_INT(r.status, ==, 200);
    const tq_jval *result = at(at(parse(&r), "data", TQ_JOBJ), "result", TQ_JARR);
    CHECK_INT(result->n, ==, 2);
    CHECK_CONTAINS(r.body.p, "\"zipped\"");
    CHECK_CONTAINS(r.body.p, "\"proto\"");
    char want_ts[40];
    snprintf(want_ts, sizeof want_ts, "[\"%lld\",\"proto\"]", (long long)NOW);
    CHECK_CONTAINS(r.body.p, want_ts);
    tq_buf_free(&r.body);
}

TEST(bad_requests_get_clear_4xx) {
    start(NULL);
    resp r = get("/loki/api/v1/query_range?query=%7Bservice%3D%22api%22%2C%7D");
    CHECK_INT(r.status, ==, 400);
    CHECK_STR(r.body.p, "parse error at line 1, col 16: unexpected '}', expected label name\n");
    tq_buf_free(&r.body);
    r = get("/loki/api/v1/query_range");
    CHECK_INT(r.status, ==, 400);
    CHECK_CONTAINS(r.body.p, "query parameter is required");
    tq_buf_free(&r.body);
    r = get("/loki/api/v1/query_range?query=%7Ba%3D%22b%22%7D&start=yesterday");
    CHECK_INT(r.status, ==, 400);
    CHECK_CONTAINS(r.body.p, "invalid parameter \"start\"");
    tq_buf_free(&r.body);
    r = get("/loki/api/v1/query_range?query=%7Ba%3D%22b%22%7D&end=9999999999");
    CHECK_INT(r.status, ==, 400); /* 10 digits are seconds: past int64 nanoseconds */
    CHECK_CONTAINS(r.body.p, "invalid parameter \"end\"");
    tq_buf_free(&r.body);
    r = get("/loki/api/v1/query_range?query=%7Ba%3D%22b%22%7D&limit=-1");
    CHECK_INT(r.status, ==, 400);
    CHECK_CONTAINS(r.body.p, "limit must be a positive value");
    tq_buf_free(&r.body);
    r = get("/loki/api/v1/query_range?query=%7Ba%3D%22b%22%7D&limit=999999");
    CHECK_INT(r.status, ==, 400);
    CHECK_CONTAINS(r.body.p, "max entries limit per query exceeded");
    tq_buf_free(&r.body);
    r = get("/loki/api/v1/query_range?query=%7Ba%3D%22b%22%7D&start=100&end=50");
    CHECK_INT(r.status, ==, 400);
    CHECK_CONTAINS(r.body.p, "end timestamp must not be before or equal to start time");
    tq_buf_free(&r.body);
    r = get("/loki/api/v1/query?query=%7Ba%3D%22b%22%7D");
    CHECK_INT(r.status, ==, 400);
    CHECK_CONTAINS(r.body.p, "log queries are not supported as an instant query type");
    tq_buf_free(&r.body);
    r = get("/nope");
    CHECK_INT(r.status, ==, 404);
    tq_buf_free(&r.body);
    r = get("/loki/api/v1/push");
    CHECK_INT(r.status, ==, 405);
    tq_buf_free(&r.body);

    const char *h[] = {"Content-Type: application/json", NULL};
    const char *bad = "{\"streams\":[{\"stream\":{\"a\":\"b\"},\"values\":[[1700000000000000000,\"x\"]]}]}";
    r = req("POST", "/loki/api/v1/push", bad, strlen(bad), h);
    CHECK_INT(r.status, ==, 400);
    CHECK_CONTAINS(r.body.p, "unix ns as a string");
    tq_buf_free(&r.body);
    const char *notjson = "{\"streams\":[";
    r = req("POST", "/loki/api/v1/push", notjson, strlen(notjson), h);
    CHECK_INT(r.status, ==, 400);
    CHECK_CONTAINS(r.body.p, "error parsing push request: invalid JSON");
    tq_buf_free(&r.body);
    CHECK_INT(tq_mem_count(M), ==, 0);

    /* Partial: one valid stream stored, one invalid rejected -> 400. */
    const char *part = "{\"streams\":[{\"stream\":{\"a\":\"b\"},\"values\":[[\"1700000000000000000\",\"ok\"]]},"
                       "{\"stream\":{\"9bad\":\"b\"},\"values\":[[\"1700000000000000001\",\"no\"]]}]}";
    r = req("POST", "/loki/api/v1/push", part, strlen(part), h);
    CHECK_INT(r.status, ==, 400);
    CHECK_CONTAINS(r.body.p, "1 entries rejected, 1 stored");
    CHECK_CONTAINS(r.body.p, "invalid label name");
    tq_buf_free(&r.body);
    CHECK_INT(tq_mem_count(M), ==, 1);

    /* A body over the limit (1 MiB here) is refused with 413. */
    size_t big = (1 << 20) + 100;
    char *huge = malloc(big);
    memset(huge, 'x', big);
    r = req("POST", "/loki/api/v1/push", huge, big, h);
    free(huge);
    CHECK_INT(r.status, ==, 413);
    CHECK_CONTAINS(r.body.p, "request body too large");
    tq_buf_free(&r.body);
}

TEST(token_and_bind_rules) {
    start("s3cret");
    resp r = get("/loki/api/v1/labels");
    CHECK_INT(r.status, ==, 401);
    tq_buf_free(&r.body);
    const char *bad[] = {"Authorization: Bearer nope", NULL};
    r = req("GET", "/loki/api/v1/labels", NULL, 0, bad);
    CHECK_INT(r.status, ==, 401);
    tq_buf_free(&r.body);
    const char *good[] = {"Authorization: Bearer s3cret", NULL};
    r = req("GET", "/loki/api/v1/labels", NULL, 0, good);
    CHECK_INT(r.status, ==, 200);
    tq_buf_free(&r.body);
    r = get("/ready");
    CHECK_INT(r.status, ==, 200);
    tq_buf_free(&r.body);

    tq_api *other;
    char err[256];
    tq_api_config cfg = {.listen = "0.0.0.0:0"};
    CHECK(tq_api_start(&cfg, &S, &other, err, sizeof err) < 0);
    CHECK_CONTAINS(err, "is not a loopback address: set a bearer token");
    cfg.listen = "nonsense";
    CHECK(tq_api_start(&cfg, &S, &other, err, sizeof err) < 0);
    CHECK_CONTAINS(err, "expected host:port");
}

TEST(tail_chunked_stream) {
    start(NULL);
    push_json();
    /* Read the first message of the stream with a raw socket (bounded). */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(tq_api_port(A))};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_INT(connect(fd, (struct sockaddr *)&sa, sizeof sa), ==, 0);
    const char *rq = "GET /loki/api/v1/tail?query=%7Bservice%3D%22api%22%7D HTTP/1.1\r\nHost: x\r\n\r\n";
    CHECK_INT(write(fd, rq, strlen(rq)), ==, (long)strlen(rq));
    tq_buf got = {0};
    for (int i = 0; i < 100 && !(got.len && strstr(tq_buf_cstr(&got), "dropped_entries")); i++) {
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, 100) <= 0) continue;
        char b[4096];
        ssize_t n = read(fd, b, sizeof b);
        if (n <= 0) break;
        tq_buf_add(&got, b, (size_t)n);
    }
    tq_buf_cstr(&got);
    CHECK_CONTAINS(got.p, "HTTP/1.1 200");
    CHECK_CONTAINS(got.p, "{\"streams\":[{\"stream\":{\"level\":\"error\",\"service\":\"api\"},\"values\":[[\"");
    CHECK_CONTAINS(got.p, "db down");
    CHECK_CONTAINS(got.p, "retry failed");
    CHECK_CONTAINS(got.p, "\"dropped_entries\":null}");
    /* "db down" (older) comes before "retry failed". */
    CHECK(strstr(got.p, "db down") < strstr(got.p, "retry failed"));
    close(fd);
    tq_buf_free(&got);
}

TEST(tail_websocket) {
    start(NULL);
    push_json();
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(tq_api_port(A))};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_INT(connect(fd, (struct sockaddr *)&sa, sizeof sa), ==, 0);
    /* The RFC 6455 example key and its accept value. */
    const char *rq = "GET /loki/api/v1/tail?query=%7Bservice%3D%22web%22%7D HTTP/1.1\r\nHost: x\r\n"
                     "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n";
    CHECK_INT(write(fd, rq, strlen(rq)), ==, (long)strlen(rq));
    tq_buf got = {0};
    for (int i = 0; i < 100 && !(got.len && strstr(tq_buf_cstr(&got), "dropped_entries")); i++) {
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, 100) <= 0) continue;
        char b[4096];
        ssize_t n = read(fd, b, sizeof b);
        if (n <= 0) break;
        tq_buf_add(&got, b, (size_t)n);
    }
    tq_buf_cstr(&got);
    CHECK_CONTAINS(got.p, "HTTP/1.1 101");
    CHECK_CONTAINS(got.p, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    char *frame = strstr(got.p, "\r\n\r\n");
    CHECK(frame != NULL);
    frame += 4;
    CHECK_INT((unsigned char)frame[0], ==, 0x81); /* FIN + text */
    size_t plen = (unsigned char)frame[1] & 0x7f, hl = 2;
    if (plen == 126) {
        plen = (size_t)((unsigned char)frame[2] << 8 | (unsigned char)frame[3]);
        hl = 4;
    }
    char *payload = strndup(frame + hl, plen);
    CHECK_INT(strlen(payload), ==, plen);
    CHECK(strncmp(payload, "{\"streams\":[{\"stream\":{", 23) == 0);
    CHECK_CONTAINS(payload, "\"service\":\"web\"");
    CHECK_CONTAINS(payload, "GET /");
    CHECK_CONTAINS(payload, "\"dropped_entries\":null}");
    free(payload);
    /* A masked close frame ends it cleanly. */
    unsigned char close_frame[] = {0x88, 0x82, 1, 2, 3, 4, 0x03 ^ 1, 0xe8 ^ 2};
    CHECK_INT(write(fd, close_frame, sizeof close_frame), ==, (long)sizeof close_frame);
    close(fd);
    tq_buf_free(&got);
}

/* Slow or oversized clients are cut off by the server's limits. */
TEST(hostile_clients_are_cut_off) {
    M = tq_mem_new();
    S = tq_mem_source(M);
    tq_api_config cfg = {.listen = "127.0.0.1:0", .idle_timeout_s = 1, .max_per_ip = 4};
    char err[256];
    CHECK_INT(tq_api_start(&cfg, &S, &A, err, sizeof err), ==, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(tq_api_port(A))};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    /* slowloris: half a request line, then silence -> the server closes */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_INT(connect(fd, (struct sockaddr *)&sa, sizeof sa), ==, 0);
    CHECK_INT(write(fd, "GET /ready HTTP/1.1\r\nHost:", 26), ==, 26);
    int closed = 0;
    for (int i = 0; i < 100 && !closed; i++) { /* at most 10 s */
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, 100) > 0) {
            char b[256];
            closed = read(fd, b, sizeof b) <= 0;
        }
    }
    CHECK(closed);
    close(fd);

    /* a header larger than the 64 KiB request memory -> an error status, not a crash */
    size_t big = 100000;
    char *rq = malloc(big + 128);
    int n = sprintf(rq, "GET /ready HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset(rq + n, 'a', big);
    memcpy(rq + n + big, "\r\n\r\n", 5);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_INT(connect(fd, (struct sockaddr *)&sa, sizeof sa), ==, 0);
    ssize_t w = write(fd, rq, (size_t)n + big + 4);
    (void)w;
    free(rq);
    tq_buf got = {0};
    for (int i = 0; i < 50; i++) {
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, 100) <= 0) continue;
        char b[1024];
        ssize_t k = read(fd, b, sizeof b);
        if (k <= 0) break;
        tq_buf_add(&got, b, (size_t)k);
    }
    tq_buf_cstr(&got);
    /* libmicrohttpd answers 431 (or closes): never 200 */
    CHECK(strstr(got.p, "HTTP/1.1 200") == NULL);
    if (got.len) CHECK(strstr(got.p, " 431 ") || strstr(got.p, " 413 ") || strstr(got.p, " 400 "));
    close(fd);
    tq_buf_free(&got);

    /* the server still answers normally afterwards */
    snprintf(base, sizeof base, "http://127.0.0.1:%u", tq_api_port(A));
    resp r = get("/ready");
    CHECK_INT(r.status, ==, 200);
    tq_buf_free(&r.body);
}
