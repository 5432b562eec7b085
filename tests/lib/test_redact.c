/* test_redact.c — redaction by key (fields, context, raw JSON, key=value in
 * text) and by shape (bearer, JWT, AWS, cards with Luhn, e-mail): secrets
 * never survive, everything else is untouched. */
#include "filter_impl.h"
#include "fmt_check.h"
#include "redact_impl.h"
#include "test.h"
#include "trail.h"


/* Runs f on a message (and optional fields/context) and returns the message. */
static char out_msg[4096];
static const char *redact_msg(trail_filter *f, const char *msg) {
    trail_entry e = {0};
    e.level = TRAIL_INFO;
    e.msg = msg;
    e.msg_len = strlen(msg);
    CHECK_INT(f->fn(&e, f->ud), ==, 1);
    CHECK(e.msg_len < sizeof out_msg);
    memcpy(out_msg, e.msg, e.msg_len);
    out_msg[e.msg_len] = '\0';
    return out_msg;
}

static trail_filter *deflt(void) {
    trail_filter *f = trail_filter_redact(NULL);
    CHECK(f);
    return f;
}

#define NOT_CONTAINS(hay, needle)                                                                         \
    do {                                                                                                  \
        if (strstr((hay), (needle))) test__fail(__FILE__, __LINE__, "[%s] still contains [%s]", (hay), (needle)); \
    } while (0)

TEST(bearer_and_basic) {
    trail_filter *f = deflt();
    CHECK_STR(redact_msg(f, "Authorization: Bearer abcDEF123456.xyz-_~+/= next"),
              "Authorization: Bearer [REDACTED] next");
    CHECK_STR(redact_msg(f, "header bearer\tmF_9.B5f-4.1JqM"), "header bearer\t[REDACTED]");
    CHECK_STR(redact_msg(f, "auth Basic dXNlcjpwYXNzd29yZA=="), "auth Basic [REDACTED]");
    /* prose stays */
    CHECK_STR(redact_msg(f, "the bearer of bad news"), "the bearer of bad news");
    CHECK_STR(redact_msg(f, "basic functionality works"), "basic functionality works");
    CHECK_STR(redact_msg(f, "Bearer short1"), "Bearer short1");
    trail_filter_free(f);
}

#define JWT "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"

TEST(jwt) {
    trail_filter *f = deflt();
    CHECK_STR(redact_msg(f, "token " JWT " ok"), "token [REDACTED] ok");
    CHECK_STR(redact_msg(f, JWT), "[REDACTED]");
    CHECK_STR(redact_msg(f, "(" JWT ")"), "([REDACTED])");
    /* unsigned JWT (alg none) ends with a dot */
    CHECK_STR(redact_msg(f, "x eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0. y"), "x [REDACTED] y");
    /* look-alikes stay */
    CHECK_STR(redact_msg(f, "eyJhbGciOiJIUzI1NiJ9 only one part"), "eyJhbGciOiJIUzI1NiJ9 only one part");
    CHECK_STR(redact_msg(f, "eyJabc.notjwt.x"), "eyJabc.notjwt.x");
    CHECK_STR(redact_msg(f, "keyJabc.eyJdef.ghi"), "keyJabc.eyJdef.ghi");
    trail_filter_free(f);
}

TEST(aws_keys) {
    trail_filter *f = deflt();
    CHECK_STR(redact_msg(f, "key AKIAIOSFODNN7EXAMPLE used"), "key [REDACTED] used");
    CHECK_STR(redact_msg(f, "ASIAY34FZKBOKMUTVV7A,"), "[REDACTED],");
    CHECK_STR(redact_msg(f, "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY end"),
              "aws_secret_access_key=[REDACTED] end");
    CHECK_STR(redact_msg(f, "SecretAccessKey: \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\""),
              "SecretAccessKey: \"[REDACTED]\"");
    /* without a hint a 40-char run is not a secret; not AKIA ids stay */
    CHECK_STR(redact_msg(f, "sha1 0123456789abcdef0123456789abcdef01234567"),
              "sha1 0123456789abcdef0123456789abcdef01234567");
    CHECK_STR(redact_msg(f, "AKIAIOSFODNN7EXAMPL short"), "AKIAIOSFODNN7EXAMPL short");
    CHECK_STR(redact_msg(f, "XAKIAIOSFODNN7EXAMPLE"), "XAKIAIOSFODNN7EXAMPLE");
    CHECK_STR(redact_msg(f, "AKIAIOSFODNN7EXAMPLEX"), "AKIAIOSFODNN7EXAMPLEX");
    trail_filter_free(f);
}

TEST(luhn) {
    CHECK(trail__luhn_ok("4111111111111111", 16));
    CHECK(trail__luhn_ok("79927398713", 11));
    CHECK(!trail__luhn_ok("4111111111111112", 16));
    CHECK(!trail__luhn_ok("79927398710", 11));
    CHECK(!trail__luhn_ok("", 0));
}

TEST(cards) {
    trail_filter *f = deflt();
    static const char *good[] = {
        "4111111111111111",    "4111 1111 1111 1111", "4111-1111-1111-1111", "5500000000000004",
        "340000000000009",     "3782 822463 10005",   "6011000000000004",    "3530111333300000",
        "2221000000000009",    "30569309025904",      "4222222222222",       "6250941006528599",
        "6759649826438453",    "4000056655665556",
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        char in[128];
        snprintf(in, sizeof in, "card %s ok", good[i]);
        const char *o = redact_msg(f, in);
        if (strcmp(o, "card [REDACTED] ok") != 0) test__fail(__FILE__, __LINE__, "[%s] -> [%s]", in, o);
    }
    static const char *bad[] = {
        "4111111111111112",      /* Luhn fails */
        "4111 1111 1111 1112",
        "1700000000000000000",   /* ns timestamp-like, starts with 1 */
        "411111111111",          /* 12 digits */
        "41111111111111111111",  /* 20 digits, no group boundary */
        "4111  1111 1111 1111",  /* double space splits */
        "order 12345 total 99",
        "x4111111111111111",     /* glued to a word */
        "00000000000000",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const char *o = redact_msg(f, bad[i]);
        if (strcmp(o, bad[i]) != 0) test__fail(__FILE__, __LINE__, "[%s] -> [%s]", bad[i], o);
    }
    /* a card followed by more digit groups: the valid prefix goes */
    CHECK_STR(redact_msg(f, "4111 1111 1111 1111 2024"), "[REDACTED] 2024");
    trail_filter_free(f);
}

TEST(email_opt_in) {
    trail_filter *f = deflt();
    CHECK_STR(redact_msg(f, "mail bob.smith+x@example.co.uk now"), "mail bob.smith+x@example.co.uk now");
    trail_filter_free(f);
    trail_redact_opts o = {.shapes = TRAIL_REDACT_EMAIL};
    f = trail_filter_redact(&o);
    CHECK_STR(redact_msg(f, "mail bob.smith+x@example.co.uk now"), "mail [REDACTED] now");
    CHECK_STR(redact_msg(f, "not@mail, a@b, x@y.z"), "not@mail, a@b, x@y.z");
    trail_filter_free(f);
}

TEST(key_value_in_text) {
    trail_filter *f = deflt();
    CHECK_STR(redact_msg(f, "login user=bob password=hunter2 ok"), "login user=bob password=[REDACTED] ok");
    CHECK_STR(redact_msg(f, "GET /cb?code=1&access_token=abc123&x=1"), "GET /cb?code=1&access_token=[REDACTED]&x=1");
    CHECK_STR(redact_msg(f, "{\"user\":\"bob\",\"Password\": \"p@ss w0rd\"}"),
              "{\"user\":\"bob\",\"Password\": \"[REDACTED]\"}");
    CHECK_STR(redact_msg(f, "db_password='s3cr3t'"), "db_password='[REDACTED]'");
    CHECK_STR(redact_msg(f, "authorization=Bearer abcdef123456 more"), "authorization=[REDACTED] more");
    CHECK_STR(redact_msg(f, "tokens are fine, user=bob"), "tokens are fine, user=bob");
    trail_filter_free(f);
}

TEST(non_secrets_untouched_and_pointer_kept) {
    trail_filter *f = deflt();
    const char *msg = "order 12345 placed for 99.95 EUR by user 42 at 2026-11-28T12:00:00Z";
    trail_entry e = {0};
    e.msg = msg;
    e.msg_len = strlen(msg);
    trail_field fields[] = {TRAIL_STR("order_id", "A-123"), TRAIL_I64("amount", 9995)};
    e.fields = fields;
    e.nfields = 2;
    CHECK_INT(f->fn(&e, f->ud), ==, 1);
    CHECK(e.msg == msg);       /* nothing matched: no copy */
    CHECK(e.fields == fields); /* nothing matched: no copy */
    trail_filter_free(f);
}

/* Renders the fields of an entry "k=v k=v" for checking. */
static void render_fields(const trail_field *f, size_t n, char *out, size_t size) {
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && o < size; i++) {
        const char *v = "";
        char num[32];
        int len = 0;
        if (f[i].type == TRAIL_T_STR || f[i].type == TRAIL_T_JSON) {
            v = f[i].v.s;
            len = f[i].len == TRAIL_LEN_CSTR ? (int)strlen(v) : (int)f[i].len;
        } else {
            len = snprintf(num, sizeof num, "%lld", (long long)f[i].v.i);
            v = num;
        }
        o += (size_t)snprintf(out + o, size - o, "%s=%.*s ", f[i].key, len, v);
    }
}

TEST(fields_by_key_and_shape) {
    trail_filter *f = deflt();
    trail_field fields[] = {
        TRAIL_STR("password", "hunter2"),
        TRAIL_STR("DB_PASSWORD", "pg-secret"),
        TRAIL_STR("Access_Token", "at-1"),
        TRAIL_STR("refresh_token", "rt-1"),
        TRAIL_STR("client_secret", "cs-1"),
        TRAIL_STR("Set-Cookie", "sid=abc"),
        TRAIL_STR("x-api-key", "k-1"),
        TRAIL_STR("apikey", "k-2"),
        TRAIL_STR("private_key", "-----BEGIN"),
        TRAIL_I64("session", 123456789),
        TRAIL_BYTES("credential", "\x01\x02", 2),
        TRAIL_STR("note", "card 4111 1111 1111 1111 used"),
        TRAIL_STRN("header", "Bearer abcdef123456XYZ trailing", 21),
        TRAIL_STR("user", "bob"),
        TRAIL_I64("count", 7),
        TRAIL_NULL("token_hint"),
    };
    trail_entry e = {0};
    e.msg = "m";
    e.msg_len = 1;
    e.fields = fields;
    e.nfields = sizeof fields / sizeof *fields;
    CHECK_INT(f->fn(&e, f->ud), ==, 1);
    CHECK(e.fields != fields);
    char r[2048];
    render_fields(e.fields, e.nfields, r, sizeof r);
    static const char *secrets[] = {"hunter2", "pg-secret", "at-1", "rt-1", "cs-1", "sid=abc", "k-1", "k-2",
                                    "BEGIN", "123456789", "4111", "abcdef123456XYZ"};
    for (size_t i = 0; i < sizeof secrets / sizeof *secrets; i++) NOT_CONTAINS(r, secrets[i]);
    CHECK_CONTAINS(r, "password=[REDACTED]");
    CHECK_CONTAINS(r, "session=[REDACTED]");
    CHECK_CONTAINS(r, "note=card [REDACTED] used");
    CHECK_CONTAINS(r, "header=Bearer [REDACTED] ");
    CHECK_CONTAINS(r, "user=bob");
    CHECK_CONTAINS(r, "count=7");
    CHECK_INT(e.fields[15].type, ==, TRAIL_T_NULL);
    /* the caller's array is untouched */
    CHECK_STR(fields[0].v.s, "hunter2");
    trail_filter_free(f);
}

TEST(context_values) {
    trail_filter *f = deflt();
    trail_field ctx[] = {
        TRAIL_STRN("request_id", "r-1", 3),
        TRAIL_STRN("session", "s-abc", 5),
        TRAIL_STRN("user_id", "AKIAIOSFODNN7EXAMPLE", 20),
    };
    trail_entry e = {0};
    e.ctx = ctx;
    e.nctx = 3;
    CHECK_INT(f->fn(&e, f->ud), ==, 1);
    char r[512];
    render_fields(e.ctx, e.nctx, r, sizeof r);
    CHECK_CONTAINS(r, "request_id=r-1 ");
    CHECK_CONTAINS(r, "session=[REDACTED]");
    CHECK_CONTAINS(r, "user_id=[REDACTED]");
    NOT_CONTAINS(r, "s-abc");
    NOT_CONTAINS(r, "AKIA");
    trail_filter_free(f);
}

TEST(raw_json_by_key_and_shape) {
    trail_filter *f = deflt();
    const char *json =
        "{\"user\":\"bob\",\"auth\":{\"password\":\"hunter2\",\"api_key\" : 12345,"
        "\"tokens\":[\"a\",{\"x\":\"y\"}]},\"note\":\"Bearer abcdef123456XYZ\","
        "\"list\":[\"4111111111111111\",1,true,null],\"esc\":\"a\\\"b\"}";
    trail_field fields[] = {TRAIL_JSON("payload", json), TRAIL_JSON("clean", "{\"a\":[1,2,{\"b\":\"c\"}]}")};
    trail_entry e = {0};
    e.fields = fields;
    e.nfields = 2;
    CHECK_INT(f->fn(&e, f->ud), ==, 1);
    char r[2048];
    render_fields(e.fields, 1, r, sizeof r);
    CHECK_STR(r,
              "payload={\"user\":\"bob\",\"auth\":{\"password\":\"[REDACTED]\",\"api_key\" : \"[REDACTED]\","
              "\"tokens\":\"[REDACTED]\"},\"note\":\"Bearer [REDACTED]\","
              "\"list\":[\"[REDACTED]\",1,true,null],\"esc\":\"a\\\"b\"} ");
    CHECK(e.fields[1].v.s == fields[1].v.s); /* clean JSON untouched */
    trail_filter_free(f);
}

TEST(json_replacement_is_escaped) {
    trail_redact_opts o = {.replacement = "***\"x\"***"};
    trail_filter *f = trail_filter_redact(&o);
    trail_field fields[] = {TRAIL_JSON("p", "{\"secret\":\"v\"}"), TRAIL_STR("secret", "v")};
    trail_entry e = {0};
    e.fields = fields;
    e.nfields = 2;
    f->fn(&e, f->ud);
    CHECK(e.fields[0].len == strlen("{\"secret\":\"***\\\"x\\\"***\"}"));
    CHECK(memcmp(e.fields[0].v.s, "{\"secret\":\"***\\\"x\\\"***\"}", e.fields[0].len) == 0);
    CHECK(memcmp(e.fields[1].v.s, "***\"x\"***", e.fields[1].len) == 0);
    trail_filter_free(f);
}

TEST(options_keys_and_shapes) {
    const char *keys[] = {"ssn", "PIN", NULL};
    trail_redact_opts o = {.keys = keys, .no_default_keys = 1, .no_default_shapes = 1,
                           .shapes = TRAIL_REDACT_CARD, .replacement = "***"};
    trail_filter *f = trail_filter_redact(&o);
    trail_field fields[] = {TRAIL_STR("user_ssn", "123-45-6789"), TRAIL_I64("pin", 1234),
                            TRAIL_STR("password", "kept"), TRAIL_STR("n", "Bearer abcdef123456XYZ 4111111111111111")};
    trail_entry e = {0};
    e.fields = fields;
    e.nfields = 4;
    f->fn(&e, f->ud);
    char r[512];
    render_fields(e.fields, e.nfields, r, sizeof r);
    CHECK_STR(r, "user_ssn=*** pin=*** password=kept n=Bearer abcdef123456XYZ *** ");
    trail_filter_free(f);
    /* no shapes at all */
    trail_redact_opts none = {.no_default_shapes = 1};
    f = trail_filter_redact(&none);
    CHECK_STR(redact_msg(f, "Bearer abcdef123456XYZ password=x"), "Bearer abcdef123456XYZ password=x");
    trail_filter_free(f);
}

TEST(scratch_survives_until_the_filter_runs_again) {
    trail_filter *a = deflt(), *b = deflt();
    trail_entry e = {0};
    e.msg = "password=one";
    e.msg_len = strlen(e.msg);
    a->fn(&e, a->ud);
    const char *first = e.msg;
    /* A second redact filter in the chain must not clobber the first's output. */
    trail_entry e2 = {0};
    e2.msg = "password=two";
    e2.msg_len = strlen(e2.msg);
    b->fn(&e2, b->ud);
    CHECK(memcmp(first, "password=[REDACTED]", e.msg_len) == 0);
    CHECK(memcmp(e2.msg, "password=[REDACTED]", e2.msg_len) == 0);
    /* Redacting an already redacted entry is stable. */
    b->fn(&e, b->ud);
    CHECK(memcmp(e.msg, "password=[REDACTED]", e.msg_len) == 0);
    trail_filter_free(a);
    trail_filter_free(b);
}

TEST(huge_and_hostile_input_is_linear) {
    /* Patterns that would make a backtracking matcher quadratic; bounded
     * work is shown by finishing at all under the test timeout. */
    size_t n = 1 << 20;
    char *s = malloc(n + 1);
    const char *pats[] = {"eyJ", "eyJa.", "4 ", "a@", "Bearer ", "AKIA", "k=", "\"password\":\"", "1-"};
    trail_filter *f = deflt();
    for (size_t p = 0; p < sizeof pats / sizeof *pats; p++) {
        size_t pl = strlen(pats[p]);
        for (size_t i = 0; i < n; i++) s[i] = pats[p][i % pl];
        s[n] = '\0';
        trail_entry e = {0};
        e.msg = s;
        e.msg_len = n;
        CHECK_INT(f->fn(&e, f->ud), ==, 1);
    }
    free(s);
    trail_filter_free(f);
}

TEST(raw_json_outside_strings_and_in_keys) {
    trail_filter *f = deflt();
    trail_field fields[] = {TRAIL_JSON("p", "{\"n\": 4111111111111111, \"AKIAIOSFODNN7EXAMPLE\": 1}"),
                            TRAIL_JSON("bad", "not json Bearer abcdef123456XYZ")};
    trail_entry e = {0};
    e.fields = fields;
    e.nfields = 2;
    f->fn(&e, f->ud);
    char r[512];
    render_fields(e.fields, e.nfields, r, sizeof r);
    CHECK_STR(r, "p={\"n\": \"[REDACTED]\", \"[REDACTED]\": 1} bad=not json Bearer \"[REDACTED]\" ");
    trail_filter_free(f);
}

TEST(same_filter_twice_on_its_own_output) {
    trail_filter *f = deflt();
    trail_field fields[] = {TRAIL_STR("note", "password=one Bearer abcdef123456XYZ"), TRAIL_STR("token", "t")};
    trail_entry e = {0};
    e.msg = "AKIAIOSFODNN7EXAMPLE";
    e.msg_len = strlen(e.msg);
    e.fields = fields;
    e.nfields = 2;
    for (int i = 0; i < 3; i++) {
        CHECK_INT(f->fn(&e, f->ud), ==, 1);
        CHECK(e.msg_len == 10 && memcmp(e.msg, "[REDACTED]", 10) == 0);
        CHECK(e.fields[0].len == strlen("password=[REDACTED] Bearer [REDACTED]"));
        CHECK(memcmp(e.fields[0].v.s, "password=[REDACTED] Bearer [REDACTED]", e.fields[0].len) == 0);
    }
    trail_filter_free(f);
}

TEST(caches_never_trust_a_reused_buffer) {
    trail_filter *f = deflt();
    static const char file[] = "app.c";
    char msg[64], key[32];
    trail_field fields[1];
    for (int round = 0; round < 3; round++) {
        /* Same addresses each round, different bytes: a clean message and a
         * harmless key, then a secret in the message and a secret key. */
        int secret = round == 1;
        snprintf(msg, sizeof msg, "%s", secret ? "AKIAIOSFODNN7EXAMPLE" : "nothing to see here!");
        snprintf(key, sizeof key, "%s", secret ? "password" : "username");
        fields[0] = (trail_field)TRAIL_STR("", "value-1");
        fields[0].key = key;
        trail_entry e = {0};
        e.file = file;
        e.line = 1;
        e.msg = msg;
        e.msg_len = strlen(msg);
        e.fields = fields;
        e.nfields = 1;
        CHECK_INT(f->fn(&e, f->ud), ==, 1);
        if (secret) {
            CHECK(e.msg_len == 10 && memcmp(e.msg, "[REDACTED]", 10) == 0);
            CHECK(memcmp(e.fields[0].v.s, "[REDACTED]", 10) == 0);
        } else {
            CHECK(e.msg == msg);
            CHECK(e.fields == fields);
        }
    }
    trail_filter_free(f);
}

static void *no_memory(size_t n) {
    (void)n;
    return NULL;
}

TEST(out_of_memory_drops_instead_of_leaking) {
    trail_filter *f = deflt();
    trail__redact_set_alloc(no_memory);
    trail_entry e = {0};
    e.msg = "password=hunter2";
    e.msg_len = strlen(e.msg);
    CHECK_INT(f->fn(&e, f->ud), ==, 0); /* could not rewrite: dropped */
    trail_field fields[] = {TRAIL_STR("token", "t-1")}; /* replacement needs a new field array */
    trail_entry e2 = {0};
    e2.fields = fields;
    e2.nfields = 1;
    CHECK_INT(f->fn(&e2, f->ud), ==, 0);
    trail_entry clean = {0};
    clean.msg = "nothing secret";
    clean.msg_len = strlen(clean.msg);
    CHECK_INT(f->fn(&clean, f->ud), ==, 1); /* no rewrite needed: kept */
    trail__redact_set_alloc(NULL);
    CHECK_INT(f->fn(&e, f->ud), ==, 1); /* memory is back */
    CHECK(memcmp(e.msg, "password=[REDACTED]", e.msg_len) == 0);
    trail_filter_free(f);
}

TEST(valid_json_stays_valid) {
    static const char *docs[] = {
        "{\"n\":-4111111111111111}",
        "{\"n\":[4111111111111111,2.5e-4111111111111111,-378282246310005.0]}",
        "{\"password\":{\"a\":[1,{\"b\":\"}\"}]},\"x\":1}",
        "{\"t\":\"Bearer abcDEF1234567890xyz\",\"secret\":null,\"k\":\"AKIAIOSFODNN7EXAMPLE\"}",
        "{\"esc\":\"a\\\"password=hunter2\\\"\",\"api_key\":\"x\\\"y\"}",
        "{\"AKIAIOSFODNN7EXAMPLE\":true, \"token\" : false , \"m\":\"4111 1111 1111 1111\"}",
        "{\"body\":\"{\\\"user\\\":\\\"bob\\\",\\\"password\\\":\\\"hunter2\\\"}\"}", /* JSON in a JSON string */
    };
    trail_redact_opts o = {.replacement = "<\"hidden\">"}; /* needs escaping inside JSON */
    trail_filter *f = trail_filter_redact(&o);
    for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) {
        char line[512];
        snprintf(line, sizeof line, "%s\n", docs[i]);
        CHECK(jc_parse_line(line, strlen(line), NULL)); /* the input is valid */
        trail_field fields[] = {TRAIL_JSON("doc", docs[i])};
        trail_entry e = {0};
        e.fields = fields;
        e.nfields = 1;
        CHECK_INT(f->fn(&e, f->ud), ==, 1);
        CHECK(e.fields != fields); /* every doc holds a secret */
        snprintf(line, sizeof line, "%.*s\n", (int)e.fields[0].len, e.fields[0].v.s);
        if (!jc_parse_line(line, strlen(line), NULL)) test__fail(__FILE__, __LINE__, "invalid after redaction: %s", line);
        if (strstr(line, "4111") || strstr(line, "hunter2") || strstr(line, "AKIA") || strstr(line, "abcDEF"))
            test__fail(__FILE__, __LINE__, "secret left: %s", line);
    }
    trail_filter_free(f);
}
