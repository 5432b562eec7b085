/* parse_plain.c — plain text: the line (or joined multiline entry) is the
 * message. Optionally lifts a leading ISO 8601 timestamp and a level word
 * ("2026-11-24T10:00:00Z ERROR something") so plain logs keep their time. */
#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "parse_util.h"
#include "timefmt.h"

typedef struct plain_conf {
    bool leading_time;
} plain_conf;

static const ta_option plain_options[] = {
    {"leading_time", TA_OPT_BOOL, "true", offsetof(plain_conf, leading_time),
     "take an ISO 8601 timestamp at the start of the entry (and a level word after it) as the event's", NULL, false},
    TA_OPTIONS_END,
};

typedef struct plain_parser {
    ta_parser base;
    plain_conf c;
} plain_parser;

static int plain_parse(ta_parser *self, ta_record *r, ta_arena *a) {
    plain_parser *p = (plain_parser *)self;
    if (!p->c.leading_time || r->line_len < 20 || !isdigit((unsigned char)r->line[0])) return 0;
    const char *sp = memchr(r->line, ' ', r->line_len);
    size_t tn = sp ? (size_t)(sp - r->line) : r->line_len;
    int64_t ns;
    if (ta_time_parse_iso(r->line, tn, &ns) < 0) return 0;
    r->ts_ns = ns;
    if (!sp) return 0;
    const char *w = sp + 1, *end = r->line + r->line_len;
    const char *we = w;
    while (we < end && isalpha((unsigned char)*we)) we++;
    if (we > w && we - w <= 8 && (we == end || *we == ' ' || *we == ':')) {
        ta_set_level(r, a, w, (size_t)(we - w));
        if (!r->severity) r->level = NULL;
    }
    return 0;
}

static int plain_create(const void *conf, ta_parser **out, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    plain_parser *p = calloc(1, sizeof *p);
    if (!p) return -12;
    p->c = *(const plain_conf *)conf;
    *out = &p->base;
    return 0;
}

static void plain_destroy(ta_parser *p) { free(p); }

const ta_parser_type ta_parser_plain = {
    .name = "plain",
    .options = plain_options,
    .conf_size = sizeof(plain_conf),
    .help = "plain text, one entry per line (or per multiline entry, see the input's multiline_start)",
    .create = plain_create,
    .parse = plain_parse,
    .destroy = plain_destroy,
};
