/* fuzz_redact.c — the redaction filter on arbitrary bytes. The input is a
 * prefix and a suffix (split at the first byte's position) with a known
 * secret planted between them (second byte picks it), set apart by spaces.
 * The secret must not survive in the message, a string field, a context
 * value or a raw JSON field, whatever surrounds it; nothing may crash.
 * Second phase: when the raw input is a valid JSON object, the redacted
 * JSON field must still be valid JSON (checked with tests' independent
 * checker). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/lib/fmt_check.h"
#include "filter_impl.h"
#include "trail.h"

static const struct {
    const char *text;   /* planted */
    const char *secret; /* must not appear afterwards */
} plants[] = {
    {"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
     "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"},
    {"Bearer abcDEF1234567890xyz", "abcDEF1234567890xyz"},
    {"AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"},
    {"4111 1111 1111 1111", "4111 1111 1111 1111"},
    {"5500-0000-0000-0004", "5500-0000-0000-0004"},
    {"378282246310005", "378282246310005"},
    {"aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
    {"password=hunter2xyz", "hunter2xyz"},
};

static trail_filter *filter;

static int contains(const char *h, size_t hn, const char *n) {
    size_t nn = strlen(n);
    for (size_t i = 0; i + nn <= hn; i++)
        if (memcmp(h + i, n, nn) == 0) return 1;
    return 0;
}

/* A valid JSON object stays valid after redaction. */
static void json_phase(const uint8_t *data, size_t size) {
    char *line = malloc(size + 2);
    memcpy(line, data, size);
    line[size] = '\n';
    if (jc_parse_line(line, size + 1, NULL)) {
        trail_field f[] = {TRAIL__F("doc", TRAIL_T_JSON, (uint32_t)size, s, line)};
        trail_entry e = {0};
        e.fields = f;
        e.nfields = 1;
        if (filter->fn(&e, filter->ud) != 1) abort();
        char *out = malloc(e.fields[0].len + 1);
        memcpy(out, e.fields[0].v.s, e.fields[0].len);
        out[e.fields[0].len] = '\n';
        if (!jc_parse_line(out, e.fields[0].len + 1, NULL)) abort();
        free(out);
    }
    free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!filter) filter = trail_filter_redact(NULL);
    json_phase(data, size);
    if (size < 2) return 0;
    size_t split = data[0] % (size - 1);
    size_t pick = data[1] % (sizeof plants / sizeof *plants);
    const uint8_t *rest = data + 2;
    size_t rn = size - 2;
    if (split > rn) split = rn;
    /* The fuzzer may spell the secret itself somewhere in plain context
     * (e.g. "x=<secret>" glued to a word); only the planted copy is checked. */
    if (contains((const char *)rest, rn, plants[pick].secret)) return 0;
    size_t pl = strlen(plants[pick].text);
    size_t n = rn + pl + 2;
    char *buf = malloc(n);
    memcpy(buf, rest, split);
    buf[split] = ' ';
    memcpy(buf + split + 1, plants[pick].text, pl);
    buf[split + 1 + pl] = ' ';
    memcpy(buf + split + pl + 2, rest + split, rn - split);

    trail_field fields[] = {TRAIL_STRN("note", buf, n), TRAIL__F("payload", TRAIL_T_JSON, (uint32_t)n, s, buf),
                            TRAIL_BYTES("blob", data, size)};
    trail_field ctx[] = {TRAIL_STRN("request_id", buf, n)};
    trail_entry e = {0};
    e.level = TRAIL_INFO;
    e.msg = buf;
    e.msg_len = n;
    e.fields = fields;
    e.nfields = 3;
    e.ctx = ctx;
    e.nctx = 1;
    if (filter->fn(&e, filter->ud) != 1) abort();
    const char *secret = plants[pick].secret;
    if (contains(e.msg, e.msg_len, secret)) abort();
    if (contains(e.fields[0].v.s, e.fields[0].len, secret)) abort();
    if (contains(e.fields[1].v.s, e.fields[1].len, secret)) abort();
    if (contains(e.ctx[0].v.s, e.ctx[0].len, secret)) abort();
    /* Running again over the output is stable and still clean. */
    if (filter->fn(&e, filter->ud) != 1 || contains(e.msg, e.msg_len, secret)) abort();
    free(buf);
    return 0;
}
