/* fuzz_logql.c — the LogQL parser on arbitrary text, and every query that
 * parses evaluated over a few in-memory entries (log and metric paths, the
 * json/logfmt extractors and line_format). Parse failures must explain
 * themselves with a position; nothing may crash or leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem_source.h"
#include "query.h"

static tq_mem *mem;
static tq_source src;

static void seed(void) {
    mem = tq_mem_new();
    src = tq_mem_source(mem);
    static const char *lines[] = {
        "{\"level\":\"error\",\"msg\":\"db down\",\"status\":503,\"request_id\":\"r1\",\"http\":{\"method\":\"GET\"}}",
        "level=info msg=\"all good\" duration=1.5s status=200",
        "plain text line with \xff invalid utf8",
        "{\"a\":[1,2,{\"b\":null}],\"c\":true,\"d\":-1.5e3}",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        tq_label l[2] = {{"service", i % 2 ? "api" : "web"}, {"level", i % 3 ? "info" : "error"}};
        tq_mem_add(mem, l, 2, 1000000000LL * (int64_t)(i + 1), lines[i], strlen(lines[i]));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!mem) seed();
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    tq_query *q = NULL;
    char err[512];
    if (tq_parse(text, &q, err, sizeof err) == 0) {
        tq_params p = {.start = 0, .end = 10000000000LL, .step = 1000000000LL, .limit = 10, .backward = size & 1};
        tq_result *r;
        if (tq_eval(q, &p, &src, &r, err, sizeof err) == 0) tq_result_free(r);
        p.instant = true;
        if (tq_eval(q, &p, &src, &r, err, sizeof err) == 0) tq_result_free(r);
        tq_query_free(q);
    } else if (strncmp(err, "parse error", 11) != 0) {
        abort(); /* every failure names its position */
    }
    free(text);
    return 0;
}
