/* test_out_loki_mt.c — the Loki output (its own thread; the test also runs
 * under TSan) against the local receiver that enforces Loki's rules
 * (loki_receiver.h): JSON+gzip and protobuf+snappy, labels and structured
 * metadata, per-stream time order, retries on 429/5xx/260 without loss or
 * stored duplicates, 400 final and counted, 401 held then recovered, 413
 * split, a stalled receiver abandoned at the drain deadline, resent
 * duplicates dropped; and traild itself shipping a file to the receiver
 * across kill -9. */
#include <pthread.h>
#include <sys/stat.h>

#include "agent_test_util.h"
#include "arena.h"
#include "config.h"
#include "loki_receiver.h"
#include "pipeline_impl.h"
#include "proc_util_test.h"
#include "timefmt.h"

static ta_output *make_output(const char *yaml, ta_config **keep, char *err, size_t errlen) {
    char text[2048];
    snprintf(text, sizeof text, "inputs:\n  - {name: a, paths: [/x]}\noutputs:\n  - %s\n", yaml);
    int r = ta_config_parse(text, strlen(text), "t", keep, err, errlen);
    if (r) {
        fprintf(stderr, "%s\n", err);
        return NULL;
    }
    ta_output_cfg *oc = &(*keep)->outputs[0];
    ta_output *o;
    if (oc->type->create(oc->conf, &o, err, errlen) < 0) {
        ta_config_free(*keep);
        *keep = NULL;
        return NULL;
    }
    o->type = oc->type;
    o->name = oc->name;
    o->stats = ta_stats_output(oc->name, oc->type->name);
    return o;
}

static ta_output *loki(lr_server *s, const char *name, const char *extra, ta_config **keep) {
    char yaml[1024], err[512];
    snprintf(yaml, sizeof yaml,
             "{type: loki, name: %s, url: \"http://127.0.0.1:%d/loki/api/v1/push\", retry_backoff: 2ms, "
             "retry_backoff_max: 20ms, batch_wait: 20ms, hold_retry: 50ms%s%s}",
             name, lr_port(s), extra ? ", " : "", extra ? extra : "");
    ta_output *o = make_output(yaml, keep, err, sizeof err);
    if (!o) fprintf(stderr, "create: %s\n", err);
    CHECK(o != NULL);
    return o;
}

static int commits;
static void on_commit(void *ctx, const ta_span *s) {
    (void)ctx;
    (void)s;
    commits++;
}

/* Line i: a JSON entry with its own timestamp. Within each pair of lines
 * (one batch) the second is older, so only sorting keeps a stream ordered. */
static int old_every; /* when set, every old_every-th line is 30 days old (Loki refuses it) */
static int make_line(char *buf, size_t cap, int i, int64_t base_ns, const char *extra) {
    int64_t ts = base_ns + (int64_t)(i ^ 1) * 1000;
    if (old_every && i % old_every == 0) ts -= 30 * 86400LL * 1000000000;
    long long s = ts / 1000000000, frac = ts % 1000000000;
    char iso[64];
    time_t t = (time_t)s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%S", &tm);
    return snprintf(buf, cap,
                    "{\"timestamp\":\"%s.%09lldZ\",\"service\":\"api\",\"level\":\"%s\",\"message\":\"n=%d\","
                    "\"request_id\":\"req-%d\"%s}",
                    iso, frac, i % 3 ? "info" : "error", i, i, extra ? extra : "");
}

/* Emits n lines (json parser) through a pipeline into o; waits for the acks. */
static void push(ta_output *o, int n, int64_t base_ns, int64_t wait_ns, const char *extra) {
    ta_out_slot slot = {.out = o};
    ta_pipeline_conf pc = {.batch_max_records = 2, .max_inflight = 1000};
    ta_pipeline *p = ta_pipeline_new(&pc, &slot, 1);
    static const ta_label labels[] = {{"host", "h1"}};
    ta_input_info info = {.name = "a", .category = "app", .labels = labels, .nlabels = 1};
    ta_parser *parser;
    char err[256];
    static const char pc_yaml[] = "inputs:\n  - {name: a, paths: [/x], parser: json}\noutputs:\n  - type: stdout\n";
    ta_config *pcfg;
    CHECK_INT(ta_config_parse(pc_yaml, strlen(pc_yaml), "p", &pcfg, err, sizeof err), ==, 0);
    CHECK_INT(ta_parser_new(pcfg->inputs[0].parser.type, pcfg->inputs[0].parser.conf, &parser, err, sizeof err), ==, 0);
    ta_emit_src src = {.source = 1, .info = &info, .path = "/x", .commit = on_commit, .parser = parser};
    for (int i = 0; i < n; i++) {
        char line[512];
        int len = make_line(line, sizeof line, i, base_ns, extra);
        ta_pipeline_emit(p, &src, line, (size_t)len, (uint64_t)i * 1000, (uint64_t)i * 1000 + 1000, ta_now_ns());
    }
    ta_pipeline_drain(p, ta_mono_ns() + wait_ns);
    ta_pipeline_free(p);
    parser->type->destroy(parser);
    ta_config_free(pcfg);
}

typedef struct seen {
    int n;
    int count[2000];
    int64_t last_ts[16];
    char streams[16][256];
    int nstreams;
    int unsorted;
    char first_labels[256], first_meta[256];
    bool replacement_char;
} seen;

static void collect(void *ctx, const lr_entry *e) {
    seen *s = ctx;
    const char *m = memmem(e->line, e->line_len, "\"n=", 3);
    int i = m ? atoi(m + 3) : -1;
    if (i >= 0 && i < 2000) s->count[i]++;
    if (!s->n++) {
        snprintf(s->first_labels, sizeof s->first_labels, "%s", e->labels);
        snprintf(s->first_meta, sizeof s->first_meta, "%s", e->meta);
    }
    int k = 0;
    while (k < s->nstreams && strcmp(s->streams[k], e->labels) != 0) k++;
    if (k == s->nstreams && k < 16) {
        snprintf(s->streams[k], sizeof s->streams[k], "%s", e->labels);
        s->last_ts[k] = INT64_MIN;
        s->nstreams++;
    }
    if (k < 16) {
        if (e->ts < s->last_ts[k]) s->unsorted++;
        s->last_ts[k] = e->ts;
    }
    if (memmem(e->line, e->line_len, "\xEF\xBF\xBD", 3)) s->replacement_char = true;
}

static seen *gather(lr_server *r) {
    seen *s = calloc(1, sizeof *s);
    lr_each(r, collect, s);
    return s;
}

static lr_server *receiver(int64_t window_ns, const char *tenant) {
    lr_conf c = {.window_ns = window_ns, .max_age_ns = 7 * 86400LL * 1000000000, .tenant = tenant, .keep_lines = true};
    lr_server *s = lr_start(&c);
    CHECK(s != NULL);
    return s;
}

static void check_each_once(const seen *s, int n) {
    for (int i = 0; i < n; i++)
        if (s->count[i] != 1) fprintf(stderr, "  line n=%d stored %d times\n", i, s->count[i]);
    for (int i = 0; i < n; i++) CHECK_INT(s->count[i], ==, 1);
}

TEST(json_gzip_labels_metadata_and_time_order) {
    lr_server *r = receiver(0, "tenant-1"); /* strictly ordered streams */
    ta_config *c;
    ta_output *o = loki(r, "l1", "tenant_id: tenant-1, static_labels: {env: test}", &c);
    commits = 0;
    int64_t base = ta_now_ns() - 60LL * 1000000000;
    push(o, 300, base, 20000000000LL, NULL);
    o->type->destroy(o);
    lr_stats st = lr_get_stats(r);
    CHECK_INT(st.accepted, ==, 300);
    CHECK_INT(st.rejected, ==, 0);
    CHECK_INT(st.gzip_requests, ==, st.requests);
    CHECK_INT(st.status[204], ==, st.requests);
    CHECK_INT(st.streams, ==, 2); /* level info and error */
    seen *s = gather(r);
    check_each_once(s, 300);
    CHECK_INT(s->unsorted, ==, 0);
    CHECK_CONTAINS(s->first_labels, "category=\"app\"");
    CHECK_CONTAINS(s->first_labels, "env=\"test\"");
    CHECK_CONTAINS(s->first_labels, "host=\"h1\"");
    CHECK_CONTAINS(s->first_labels, "service=\"api\"");
    CHECK(strstr(s->first_labels, "request_id") == NULL);
    CHECK_CONTAINS(s->first_meta, "request_id=req-");
    ta_output_stats *os = ta_stats_output("l1", "loki");
    CHECK_INT(atomic_load(&os->records), ==, 300);
    CHECK_INT(atomic_load(&os->records_invalid), ==, 0);
    CHECK_INT(atomic_load(&os->retries), ==, 0);
    CHECK_INT(atomic_load(&os->bytes), >, 300 * 100);
    CHECK_INT(commits, ==, 150);
    free(s);
    ta_config_free(c);
    lr_stop(r);
}

TEST(protobuf_snappy_and_invalid_utf8) {
    lr_server *r = receiver(0, NULL);
    ta_config *c;
    ta_output *o = loki(r, "l2", "encoding: protobuf, line_format: json", &c);
    commits = 0;
    push(o, 200, ta_now_ns() - 60LL * 1000000000, 20000000000LL, ",\"bad\":\"\\u00ff\xff\xfe\"");
    o->type->destroy(o);
    lr_stats st = lr_get_stats(r);
    CHECK_INT(st.proto_requests, ==, st.requests);
    CHECK_INT(st.accepted, ==, 200);
    CHECK_INT(st.rejected, ==, 0);
    seen *s = gather(r);
    check_each_once(s, 200);
    CHECK_INT(s->unsorted, ==, 0);
    CHECK(s->replacement_char);
    CHECK_CONTAINS(s->first_meta, "request_id=req-");
    CHECK(strstr(s->first_labels, "request_id") == NULL);
    CHECK_INT(commits, ==, 100);
    free(s);
    ta_config_free(c);
    lr_stop(r);
}

TEST(retries_429_5xx_and_260_without_loss_or_stored_duplicates) {
    lr_server *r = receiver(3600LL * 1000000000, NULL);
    lr_fail_next(r, 260, 2);              /* looks like success, must be retried */
    lr_fail_percent(r, 503, 30, 12345);
    ta_config *c;
    ta_output *o = loki(r, "l3", "batch_max_bytes: 4KiB", &c);
    commits = 0;
    push(o, 400, ta_now_ns() - 60LL * 1000000000, 60000000000LL, NULL);
    lr_fail_percent(r, 429, 0, 1);
    o->type->destroy(o);
    lr_stats st = lr_get_stats(r);
    CHECK_INT(st.status[260], ==, 2);
    CHECK_INT(st.status[503], >, 0);
    CHECK_INT(st.accepted, ==, 400);
    CHECK_INT(st.rejected, ==, 0);
    seen *s = gather(r);
    check_each_once(s, 400);
    free(s);
    ta_output_stats *os = ta_stats_output("l3", "loki");
    CHECK_INT(atomic_load(&os->retries), ==, (long long)(st.status[260] + st.status[503]));
    CHECK_INT(atomic_load(&os->records), ==, 400);
    CHECK_INT(commits, ==, 200);
    ta_config_free(c);
    lr_stop(r);

    r = receiver(3600LL * 1000000000, NULL);
    lr_fail_next(r, 429, 3);
    o = loki(r, "l3b", NULL, &c);
    commits = 0;
    push(o, 50, ta_now_ns() - 60LL * 1000000000, 20000000000LL, NULL);
    o->type->destroy(o);
    st = lr_get_stats(r);
    CHECK_INT(st.status[429], ==, 3);
    CHECK_INT(st.accepted, ==, 50);
    CHECK_INT(atomic_load(&ta_stats_output("l3b", "loki")->retries), ==, 3);
    CHECK_INT(commits, ==, 25);
    ta_config_free(c);
    lr_stop(r);
}

TEST(bad_request_is_final_partial_and_counted) {
    lr_server *r = receiver(3600LL * 1000000000, NULL);
    ta_config *c;
    ta_output *o = loki(r, "l4", NULL, &c);
    commits = 0;
    /* 30 days old: Loki refuses them (reject_old_samples), stores the rest of the request */
    push(o, 40, ta_now_ns() - 30 * 86400LL * 1000000000, 20000000000LL, NULL);
    old_every = 4; /* requests where only some entries are refused: "total ignored: N out of M" */
    push(o, 60, ta_now_ns() - 60LL * 1000000000, 20000000000LL, NULL);
    old_every = 0;
    lr_fail_next(r, 400, 1); /* a whole request refused */
    push(o, 10, ta_now_ns() - 30LL * 1000000000, 20000000000LL, NULL);
    o->type->destroy(o);
    lr_stats st = lr_get_stats(r);
    CHECK_INT(st.accepted, ==, 45);
    CHECK_INT(st.rejected, ==, 65);
    CHECK_INT(st.status[400], >=, 3);
    ta_output_stats *os = ta_stats_output("l4", "loki");
    CHECK_INT(atomic_load(&os->records_invalid), ==, 65);
    CHECK_INT(atomic_load(&os->records), ==, 45);
    CHECK_INT(atomic_load(&os->retries), ==, 0); /* never retried */
    CHECK_INT(commits, ==, 55);                    /* positions advance past them */
    ta_config_free(c);
    lr_stop(r);
}

typedef struct hold_probe {
    ta_output_stats *st;
    atomic_bool stop;
    int saw_held;
} hold_probe;

static void *watch_held(void *arg) {
    hold_probe *h = arg;
    while (!atomic_load(&h->stop)) {
        if (atomic_load(&h->st->held)) h->saw_held = 1;
        pu_sleep_ms(2);
    }
    return NULL;
}

TEST(unauthorized_is_held_then_delivered) {
    lr_server *r = receiver(3600LL * 1000000000, "t1");
    lr_fail_next(r, 403, 2);
    ta_config *c;
    ta_output *o = loki(r, "l5", "tenant_id: t1", &c);
    hold_probe h = {.st = ta_stats_output("l5", "loki")};
    pthread_t th;
    pthread_create(&th, NULL, watch_held, &h);
    commits = 0;
    push(o, 20, ta_now_ns() - 60LL * 1000000000, 20000000000LL, NULL);
    atomic_store(&h.stop, true);
    pthread_join(th, NULL);
    o->type->destroy(o);
    lr_stats st = lr_get_stats(r);
    CHECK_INT(st.status[403], ==, 2);
    CHECK_INT(st.accepted, ==, 20);
    CHECK(h.saw_held);
    CHECK_INT(atomic_load(&h.st->held), ==, 0);
    CHECK_INT(atomic_load(&h.st->errors), ==, 2);
    CHECK_INT(commits, ==, 10);
    ta_config_free(c);
    lr_stop(r);

    /* wrong tenant: the receiver answers 401 and nothing is committed */
    r = receiver(3600LL * 1000000000, "t1");
    o = loki(r, "l5b", "tenant_id: other", &c);
    commits = 0;
    push(o, 4, ta_now_ns(), 400000000LL, NULL);
    o->type->destroy(o);
    CHECK_INT(lr_get_stats(r).status[401], >=, 1);
    CHECK_INT(lr_get_stats(r).accepted, ==, 0);
    CHECK_INT(commits, ==, 0);
    ta_config_free(c);
    lr_stop(r);
}

TEST(too_large_is_split) {
    lr_server *r = receiver(3600LL * 1000000000, NULL);
    lr_fail_next(r, 413, 2);
    ta_config *c;
    ta_output *o = loki(r, "l6", NULL, &c);
    commits = 0;
    push(o, 64, ta_now_ns() - 60LL * 1000000000, 20000000000LL, NULL);
    o->type->destroy(o);
    lr_stats st = lr_get_stats(r);
    CHECK_INT(st.status[413], ==, 2);
    CHECK_INT(st.accepted, ==, 64);
    CHECK_INT(commits, ==, 32);
    ta_config_free(c);
    lr_stop(r);
}

TEST(stalled_receiver_is_abandoned_at_the_drain_deadline) {
    lr_server *r = receiver(3600LL * 1000000000, NULL);
    lr_stall(r, 3000, 100, 0);
    ta_config *c;
    ta_output *o = loki(r, "l7", "timeout: 20s", &c);
    commits = 0;
    int64_t t0 = ta_mono_ns();
    push(o, 6, ta_now_ns(), 300000000LL, NULL);
    CHECK_INT(ta_mono_ns() - t0, <, 2500000000LL); /* the transfer is aborted, not waited for */
    o->type->destroy(o);
    CHECK_INT(commits, ==, 0);
    ta_config_free(c);
    lr_stop(r);
}

TEST(resent_entries_are_dropped_as_duplicates) {
    lr_server *r = receiver(3600LL * 1000000000, NULL);
    ta_config *c;
    ta_output *o = loki(r, "l8", NULL, &c);
    int64_t base = ta_now_ns() - 60LL * 1000000000;
    push(o, 30, base, 20000000000LL, NULL);
    push(o, 30, base, 20000000000LL, NULL); /* the same lines read again after a crash */
    o->type->destroy(o);
    lr_stats st = lr_get_stats(r);
    CHECK_INT(st.accepted, ==, 30);
    CHECK_INT(st.duplicates, ==, 30);
    CHECK_INT(st.rejected, ==, 0);
    ta_config_free(c);
    lr_stop(r);
}

TEST(config_refuses_high_cardinality_labels) {
    ta_config *c = NULL;
    char err[512];
    CHECK(make_output("{type: loki, labels: [service, request_id]}", &c, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "label 'request_id' has one value per entry");
    CHECK_CONTAINS(err, "t:4:5: output loki: "); /* found by the config loader: --check-config reports it */
    CHECK(make_output("{type: loki, labels: [a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p]}", &c, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "16 label names");
    CHECK(make_output("{type: loki, url: \"ftp://x\"}", &c, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "expected http://");
    CHECK(make_output("{type: loki, encoding: xml}", &c, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "expected one of json|protobuf");
}

#ifdef TRAILD_BIN
/* traild tails a file into the receiver; killed with SIGKILL halfway and
 * restarted: every line is stored once (re-sent ones carry their original
 * timestamps, so the receiver drops them as duplicates). */
TEST(traild_ships_to_loki_across_kill9) {
    lr_server *r = receiver(3600LL * 1000000000, NULL);
    lr_fail_percent(r, 500, 10, 99);
    lr_stall(r, 20, -1, 50); /* slow enough that the kill lands mid-stream */
    char d[512], path[700], log[700];
    snprintf(d, sizeof d, "%s", test_tmpdir());
    snprintf(path, sizeof path, "%s/logs", d);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/t.yaml", d);
    FILE *f = fopen(path, "w");
    fprintf(f,
            "state_dir: %s/state\nmetrics_listen: off\npipeline: {batch_max_wait: 10ms, batch_max_records: 50}\n"
            "inputs:\n  - {name: app, paths: [\"%s/logs/*.log\"], parser: json, rescan_interval: 100ms}\n"
            "outputs:\n  - {type: loki, url: \"http://127.0.0.1:%d/loki/api/v1/push\", batch_wait: 10ms, batch_max_bytes: 8KiB, "
            "retry_backoff: 5ms, retry_backoff_max: 50ms}\n",
            d, d, lr_port(r));
    fclose(f);
    snprintf(log, sizeof log, "%s/traild.log", d);
    char *argv[] = {(char *)TRAILD_BIN, "--config", path, NULL};
    char lp[700];
    snprintf(lp, sizeof lp, "%s/logs/a.log", d);
    int64_t base = ta_now_ns() - 120LL * 1000000000;
    f = fopen(lp, "w");
    for (int i = 0; i < 1000; i++) {
        char line[512];
        make_line(line, sizeof line, i, base, NULL);
        fprintf(f, "%s\n", line);
    }
    fclose(f);
    pid_t t = pu_spawn(argv, log, NULL);
    for (int i = 0; i < 200 && lr_get_stats(r).accepted < 300; i++) pu_sleep_ms(10);
    kill(t, SIGKILL);
    waitpid(t, NULL, 0);
    f = fopen(lp, "a");
    for (int i = 1000; i < 2000; i++) {
        char line[512];
        make_line(line, sizeof line, i, base, NULL);
        fprintf(f, "%s\n", line);
    }
    fclose(f);
    t = pu_spawn(argv, log, NULL);
    for (int i = 0; i < 300 && lr_get_stats(r).accepted < 2000; i++) pu_sleep_ms(50);
    pu_stop(t, SIGTERM);
    lr_stats st = lr_get_stats(r);
    seen *s = gather(r);
    check_each_once(s, 2000);
    free(s);
    CHECK_INT(st.accepted, ==, 2000);
    CHECK_INT(st.rejected, ==, 0);
    fprintf(stderr, "  kill -9 run: %llu requests, %llu duplicates dropped by the receiver, %llu answered 500\n",
            (unsigned long long)st.requests, (unsigned long long)st.duplicates, (unsigned long long)st.status[500]);
    lr_stop(r);
}
#endif
