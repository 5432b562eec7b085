/* tail_fixture.h — runs one file input in-process against a capturing
 * output whose acknowledgements the test controls. */
#ifndef TRAILD_TAIL_FIXTURE_H
#define TRAILD_TAIL_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_test_util.h"
#include "config.h"
#include "timefmt.h"

typedef struct cap_out {
    ta_output base;
    ta_buf got;            /* raw lines received, '\n'-separated */
    ta_batch *held[64];
    int nheld;
    bool manual_ack;       /* hold batches until tf_ack() */
} cap_out;

static int cap_submit(ta_output *o, ta_batch *b) {
    cap_out *c = (cap_out *)o;
    for (uint32_t i = 0; i < b->nrecs; i++) {
        ta_buf_put(&c->got, b->recs[i].line, b->recs[i].line_len);
        ta_buf_put(&c->got, "\n", 1);
    }
    if (c->manual_ack) {
        CHECK(c->nheld < 64);
        c->held[c->nheld++] = b;
    } else ta_batch_done(b, TA_DONE, 0);
    return 0;
}

static const ta_output_type cap_type = {.name = "capture", .submit = cap_submit};

typedef struct tf {
    ta_config *cfg;
    ta_ckpt *ck;
    ta_pipeline *p;
    ta_out_slot slot;
    cap_out out;
    ta_input *in;
    ta_parser *parser;
    char dir[512];
    char ckpath[600];
} tf;

static void tf_start(tf *t, const char *input_yaml) {
    char text[2048];
    snprintf(text, sizeof text, "inputs:\n  - name: t\n%soutputs:\n  - type: stdout\n", input_yaml);
    char err[512] = "";
    int r = ta_config_parse(text, strlen(text), "fixture", &t->cfg, err, sizeof err);
    if (r) fprintf(stderr, "%s\n", err);
    CHECK_INT(r, ==, 0);
    t->ck = ta_ckpt_open(t->ckpath, err, sizeof err);
    CHECK(t->ck != NULL);
    memset(&t->out.base, 0, sizeof t->out.base);
    t->out.base.type = &cap_type;
    t->out.base.name = "capture";
    t->out.base.stats = ta_stats_output("capture", "capture");
    t->slot.out = &t->out.base;
    ta_pipeline_conf pc = {.batch_max_records = 4, .batch_max_bytes = 1 << 20, .batch_max_wait_ns = 0, .max_inflight = 4};
    t->p = ta_pipeline_new(&pc, &t->slot, 1);
    ta_input_cfg *ic = &t->cfg->inputs[0];
    if (ic->parser.type) CHECK_INT(ta_parser_new(ic->parser.type, ic->parser.conf, &t->parser, err, sizeof err), ==, 0);
    ta_input_env env = {.pipeline = t->p, .ckpt = t->ck, .info = &ic->info, .parser = t->parser,
                        .stats = ta_stats_input("t")};
    CHECK_INT(ta_input_file.create(ic->conf, &env, &t->in, err, sizeof err), ==, 0);
}

static void tf_init(tf *t, const char *input_yaml) {
    memset(t, 0, sizeof *t);
    snprintf(t->dir, sizeof t->dir, "%s", test_tmpdir());
    snprintf(t->ckpath, sizeof t->ckpath, "%s/positions.ckpt", t->dir);
    tf_start(t, input_yaml);
}

/* One loop turn: poll, flush, collect acks, save positions. */
static void tf_turn(tf *t) {
    ta_input_file.poll(t->in, 1 << 20);
    ta_pipeline_flush(t->p);
    ta_pipeline_process_acks(t->p);
    ta_ckpt_save(t->ck, 0);
}

/* Turns until `want` appears in the output or ~2 s pass. */
static bool tf_until(tf *t, const char *want) {
    for (int i = 0; i < 400; i++) {
        tf_turn(t);
        if (t->out.got.p && strstr(t->out.got.p, want)) return true;
        usleep(5000);
    }
    return false;
}

/* Turns for a while without expecting anything (rescans are forced). */
static void tf_settle(tf *t, int turns) {
    for (int i = 0; i < turns; i++) {
        tf_turn(t);
        usleep(2000);
    }
}

static void tf_ack_all(tf *t) {
    for (int i = 0; i < t->out.nheld; i++) ta_batch_done(t->out.held[i], TA_DONE, 0);
    t->out.nheld = 0;
    ta_pipeline_process_acks(t->p);
    ta_ckpt_save(t->ck, 0);
}

/* Simulates a crash: drops everything without saving or acking. */
static void tf_crash(tf *t) {
    ta_input_file.destroy(t->in);
    t->out.nheld = 0;
    ta_pipeline_free(t->p); /* frees unacked batches, commits nothing */
    if (t->parser) t->parser->type->destroy(t->parser);
    t->parser = NULL;
    ta_ckpt_free(t->ck);
    ta_config_free(t->cfg);
}

static void tf_stop(tf *t) {
    tf_ack_all(t);
    tf_crash(t);
    ta_buf_free(&t->out.got);
}

static int count_of(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = hay; p && (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

#endif
