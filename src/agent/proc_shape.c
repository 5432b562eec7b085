/* proc_shape.c — renames the seed field names (trail JSONL) to ECS or
 * OpenTelemetry names, so downstream stores see one vocabulary. ECS also
 * gets ecs.version; OTel gets severity_number. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"

typedef struct shape_conf {
    int format; /* 0 ecs, 1 otel */
} shape_conf;

static const ta_option shape_options[] = {
    {"format", TA_OPT_ENUM, "ecs", offsetof(shape_conf, format), "target vocabulary", "ecs|otel", false},
    TA_OPTIONS_END,
};

typedef struct shape_proc {
    ta_processor base;
    shape_conf c;
} shape_proc;

static const char *const ecs_map[][2] = {
    {"service", "service.name"}, {"version", "service.version"}, {"machine_id", "host.id"},
    {"host", "host.name"}, {"container_id", "container.id"}, {"region", "cloud.region"},
    {"pid", "process.pid"}, {"request_id", "transaction.id"}, {"trace_id", "trace.id"},
    {"span_id", "span.id"}, {"user_id", "user.id"}, {"logger", "log.logger"},
    {"error", "error.message"}, {"file", "log.origin.file.name"}, {"line", "log.origin.file.line"},
};

static const char *const otel_map[][2] = {
    {"service", "service.name"}, {"service.name", "service.name"}, {"version", "service.version"},
    {"machine_id", "host.id"}, {"host", "host.name"}, {"container_id", "container.id"},
    {"region", "cloud.region"}, {"pid", "process.pid"}, {"trace_id", "trace_id"}, {"trace.id", "trace_id"},
    {"span_id", "span_id"}, {"span.id", "span_id"}, {"client.ip", "client.address"},
    {"http.request.method", "http.request.method"}, {"http.response.status_code", "http.response.status_code"},
    {"url.original", "url.full"}, {"user_agent.original", "user_agent.original"},
};

static int shape_process(ta_processor *self, ta_record *r, ta_arena *a) {
    shape_proc *p = (shape_proc *)self;
    const char *const(*map)[2] = p->c.format ? otel_map : ecs_map;
    size_t n = p->c.format ? sizeof otel_map / sizeof *otel_map : sizeof ecs_map / sizeof *ecs_map;
    for (uint32_t i = 0; i < r->nfields; i++)
        for (size_t k = 0; k < n; k++)
            if (!strcmp(r->fields[i].key, map[k][0])) {
                ta_record_rename(r, &r->fields[i], map[k][1]);
                break;
            }
    if (p->c.format == 0) {
        if (!ta_record_get(r, "ecs.version")) ta_record_add(r, a, "ecs.version", "8.11", 4, TA_STR);
    } else if (r->severity) {
        char b[8];
        int bn = snprintf(b, sizeof b, "%u", r->severity);
        ta_record_set(r, a, "severity_number", b, (size_t)bn, TA_INT);
    }
    return TA_KEEP;
}

static int shape_create(const void *conf, ta_processor **out, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    shape_proc *p = calloc(1, sizeof *p);
    if (!p) return -ENOMEM;
    p->c = *(const shape_conf *)conf;
    *out = &p->base;
    return 0;
}

static void shape_destroy(ta_processor *p) { free(p); }

const ta_processor_type ta_proc_shape = {
    .name = "shape",
    .options = shape_options,
    .conf_size = sizeof(shape_conf),
    .help = "renames seed fields to ECS or OpenTelemetry names",
    .create = shape_create,
    .process = shape_process,
    .destroy = shape_destroy,
};
