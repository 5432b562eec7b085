/* test_redact_same.c — traild's redact processor and libtrail's redaction
 * filter mask the same secrets on the same inputs (issue 3). Each input goes
 * through both; their outputs are compared byte for byte, so a change to
 * either side's rules that the other does not share fails here. Each case
 * also checks that something was masked, so two no-ops cannot agree. */
#include "agent_test_util.h"
#include "config.h"
#include "filter_impl.h" /* libtrail internals: run one filter on one entry */

/* The processor of config "processors: [<yaml>]". */
static ta_processor *proc_of(const char *yaml) {
    char text[1024], err[512];
    snprintf(text, sizeof text, "inputs:\n  - name: a\n    paths: [/x]\n    processors: [%s]\noutputs:\n  - type: stdout\n",
             yaml);
    ta_config *cfg;
    int r = ta_config_parse(text, strlen(text), "t", &cfg, err, sizeof err);
    if (r) fprintf(stderr, "%s\n", err);
    CHECK_INT(r, ==, 0);
    ta_processor *p = NULL;
    CHECK_INT(ta_processor_new(cfg->inputs[0].procs[0].type, cfg->inputs[0].procs[0].conf, &p, err, sizeof err), ==, 0);
    ta_config_free(cfg);
    return p;
}

typedef struct fld {
    const char *key, *val;
    bool json;
} fld;

#define NF 4 /* at most; lists end with {0} */

/* Runs text (as message and raw line) and fields through both sides and
 * compares everything; returns how many values libtrail changed. */
static int same(ta_processor *p, trail_filter *f, const char *text, const fld *fs) {
    size_t nf = 0;
    while (nf < NF && fs && fs[nf].key) nf++;
    /* libtrail */
    trail_field tf[NF];
    for (size_t i = 0; i < nf; i++) {
        tf[i] = (trail_field){.key = fs[i].key, .type = fs[i].json ? TRAIL_T_JSON : TRAIL_T_STR, .len = TRAIL_LEN_CSTR};
        tf[i].v.s = fs[i].val;
    }
    trail_entry e = {.level = TRAIL_INFO, .logger = "", .msg = text, .msg_len = strlen(text), .fields = tf, .nfields = nf};
    CHECK_INT(f->fn(&e, f->ud), ==, 1);
    /* traild */
    ta_arena *a = ta_arena_new();
    ta_record *r = ta_arena_alloc(a, sizeof *r);
    memset(r, 0, sizeof *r);
    r->message = text;
    r->line = text;
    r->line_len = (uint32_t)strlen(text);
    for (size_t i = 0; i < nf; i++)
        ta_record_add(r, a, fs[i].key, fs[i].val, strlen(fs[i].val), fs[i].json ? TA_RAW : TA_STR);
    CHECK_INT(p->type->process(p, r, a), ==, TA_KEEP);

    int changed = 0;
    char want[1024];
    snprintf(want, sizeof want, "%.*s", (int)e.msg_len, e.msg);
    changed += strcmp(want, text) != 0;
    CHECK_STR(r->message, want);
    char line[1024];
    snprintf(line, sizeof line, "%.*s", (int)r->line_len, r->line);
    CHECK_STR(line, want);
    for (size_t i = 0; i < nf; i++) {
        const trail_field *lf = &e.fields[i];
        size_t ln = lf->len == TRAIL_LEN_CSTR ? strlen(lf->v.s) : lf->len;
        snprintf(want, sizeof want, "%.*s", (int)ln, lf->v.s);
        changed += strcmp(want, fs[i].val) != 0;
        const ta_field *tfd = ta_record_get(r, fs[i].key);
        CHECK(tfd != NULL);
        char got[1024];
        snprintf(got, sizeof got, "%.*s", (int)tfd->val_len, tfd->val);
        CHECK_STR(got, want);
    }
    ta_arena_free(a);
    return changed;
}

static const char *const masked_texts[] = {
    "key id AKIAIOSFODNN7EXAMPLE used from 10.0.0.1",
    "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY done",
    "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U ok",
    "GET /api Authorization: Bearer abcdef0123456789xyz status=200",
    "paid with 4111 1111 1111 1111 today",
    "login password=hunter2 user=bob",
    "config {\"db_token\": \"abc123\", \"host\": \"db\"}",
    "Cookie: session=deadbeefcafe; theme=dark",
};

TEST(default_rules_match_libtrail) {
    ta_processor *p = proc_of("{type: redact}");
    trail_filter *f = trail_filter_redact(NULL);
    CHECK(f != NULL);
    for (size_t i = 0; i < sizeof masked_texts / sizeof masked_texts[0]; i++) {
        CHECK_INT(same(p, f, masked_texts[i], NULL), >=, 1);
    }
    /* Nothing secret: both leave it alone (a Luhn-invalid number, an e-mail: opt-in). */
    CHECK_INT(same(p, f, "order 4111111111111112 for bob@example.com", NULL), ==, 0);
    /* Fields: a DB_PASSWORD field (substring, any case), shapes in string
     * fields, keys and shapes inside raw JSON. */
    const fld fs[] = {{"DB_PASSWORD", "s3cret", false},
                      {"hdr", "Bearer abcdefghijklmnop", false},
                      {"body", "{\"user\":\"bob\",\"Api-Key\":\"k1\",\"id\":\"AKIAIOSFODNN7EXAMPLE\"}", true},
                      {"user", "bob", false},
                      {0}};
    CHECK_INT(same(p, f, "request done", fs), ==, 3);
    trail_filter_free(f);
    p->type->destroy(p);
}

TEST(email_keys_replacement_match_libtrail) {
    ta_processor *p = proc_of("{type: redact, shapes: [email, card], keys: [ssn], replacement: \"***\"}");
    trail_redact_opts o = {.keys = (const char *const[]){"ssn", NULL},
                           .shapes = TRAIL_REDACT_EMAIL | TRAIL_REDACT_CARD,
                           .no_default_shapes = 1,
                           .replacement = "***"};
    trail_filter *f = trail_filter_redact(&o);
    CHECK(f != NULL);
    CHECK_INT(same(p, f, "mail bob@example.com card 4111-1111-1111-1111", NULL), ==, 1);
    const fld fs[] = {{"customer.SSN", "123-45-6789", false},
                      {"password", "x", false},
                      {"note", "Bearer abcdefghijklmnop", false},
                      {0}};
    CHECK_INT(same(p, f, "-", fs), ==, 2); /* bearer is not among the chosen shapes */
    trail_filter_free(f);
    p->type->destroy(p);

    /* default_keys: false keeps only the listed keys, as no_default_keys. */
    p = proc_of("{type: redact, default_keys: false, keys: [pin]}");
    trail_redact_opts o2 = {.keys = (const char *const[]){"pin", NULL}, .no_default_keys = 1};
    f = trail_filter_redact(&o2);
    const fld fs2[] = {{"PIN", "1234", false}, {"password", "x", false}, {0}};
    CHECK_INT(same(p, f, "pin=99 password=x", fs2), ==, 2);
    trail_filter_free(f);
    p->type->destroy(p);
}

TEST(unknown_shape_is_rejected) {
    char text[] = "inputs:\n  - name: a\n    paths: [/x]\n    processors: [{type: redact, shapes: [bearer, ssn]}]\n"
                  "outputs:\n  - type: stdout\n";
    ta_config *cfg = NULL;
    char err[512] = "";
    CHECK_INT(ta_config_parse(text, strlen(text), "t", &cfg, err, sizeof err), <, 0); /* processors are built to check */
    CHECK_CONTAINS(err, "unknown shape 'ssn'");
    CHECK_CONTAINS(err, "key_value");
}
