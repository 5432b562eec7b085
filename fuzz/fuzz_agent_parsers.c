/* fuzz_agent_parsers.c — every traild parser (the first byte picks one) on
 * arbitrary bytes, then the redaction processor and the JSON renderer; the
 * rendered object must always be valid JSON (checked with the scanner). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "config.h"
#include "json_scan.h"
#include "plugins.h"
#include "../src/agent/render.h" /* src/lib has a render.h too */
#include "../src/agent/render.h" /* src/lib has a render.h too */

static ta_config *cfg;
static ta_parser *parsers[8];
static int nparsers;
static ta_processor *redact;

static void init(void) {
    static const char text[] =
        "inputs:\n"
        "  - {name: a, paths: [/x], parser: json}\n"
        "  - {name: b, paths: [/x], parser: {type: nginx, extra_fields: [request_time, up]}}\n"
        "  - {name: c, paths: [/x], parser: {type: nginx_json, fields: {t: time_iso8601, ip: remote_addr}}}\n"
        "  - {name: d, paths: [/x], parser: caddy}\n"
        "  - {name: e, paths: [/x], parser: plain, processors: [{type: redact}]}\n"
        "outputs:\n  - type: stdout\n";
    char err[512];
    if (ta_config_parse(text, sizeof text - 1, "fuzz", &cfg, err, sizeof err) != 0) abort();
    for (uint32_t i = 0; i < cfg->ninputs; i++)
        if (ta_parser_new(cfg->inputs[i].parser.type, cfg->inputs[i].parser.conf, &parsers[nparsers++], err,
                          sizeof err) != 0)
            abort();
    ta_plugin_cfg *rc = &cfg->inputs[4].procs[0];
    if (ta_processor_new(rc->type, rc->conf, &redact, err, sizeof err) != 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!cfg) init();
    if (size < 1) return 0;
    ta_parser *p = parsers[data[0] % nparsers];
    ta_arena *a = ta_arena_new();
    ta_record r;
    memset(&r, 0, sizeof r);
    r.line = (const char *)data + 1;
    r.line_len = (uint32_t)(size - 1);
    r.observed_ns = r.ts_ns = 1;
    r.input = &cfg->inputs[0].info;
    p->type->parse(p, &r, a);
    redact->type->process(redact, &r, a);
    ta_buf out = {0};
    ta_render_json(&out, NULL, &r);
    if (ta_json_object_each(out.p, out.len, NULL, NULL) != 0) abort(); /* renderer produced invalid JSON */
    ta_buf clean = {0};
    ta_utf8_sanitize(&clean, out.p, out.len);
    if (clean.len != out.len || memcmp(clean.p, out.p, out.len) != 0) abort(); /* invalid UTF-8 */
    /* The parser's plain marks only skip the escaper: without them the
     * rendering must be byte for byte the same. */
    for (uint32_t i = 0; i < r.nfields; i++) r.fields[i].plain = 0;
    r.message_plain = 0;
    ta_buf again = {0};
    ta_render_json(&again, NULL, &r);
    if (again.len != out.len || memcmp(again.p, out.p, out.len) != 0) abort();
    ta_buf_free(&again);
    ta_buf_free(&clean);
    ta_buf_free(&out);
    ta_arena_free(a);
    return 0;
}
