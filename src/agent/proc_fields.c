/* proc_fields.c — `labels` adds fixed fields to every entry (e.g. env,
 * team; an output maps chosen ones to stream labels), and `rename` renames
 * fields. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"

typedef struct map_conf {
    ta_labels map;
} map_conf;

static const ta_option labels_options[] = {
    {"set", TA_OPT_MAP, NULL, offsetof(map_conf, map), "field → value to set on every entry", NULL, true},
    TA_OPTIONS_END,
};

static const ta_option rename_options[] = {
    {"fields", TA_OPT_MAP, NULL, offsetof(map_conf, map), "old field name → new field name", NULL, true},
    TA_OPTIONS_END,
};

typedef struct map_proc {
    ta_processor base;
    map_conf c;
} map_proc;

static int labels_process(ta_processor *self, ta_record *r, ta_arena *a) {
    map_proc *p = (map_proc *)self;
    for (uint32_t i = 0; i < p->c.map.n; i++) {
        ta_field *f = ta_record_set(r, a, p->c.map.v[i].name, NULL, 0, TA_STR);
        f->val = p->c.map.v[i].value; /* config strings outlive the batch */
        f->val_len = (uint32_t)strlen(f->val);
    }
    return TA_KEEP;
}

static int rename_process(ta_processor *self, ta_record *r, ta_arena *a) {
    (void)a;
    map_proc *p = (map_proc *)self;
    for (uint32_t i = 0; i < p->c.map.n; i++) {
        ta_field *f = ta_record_get(r, p->c.map.v[i].name);
        if (!f) continue;
        ta_record_del(r, p->c.map.v[i].value); /* the new name wins once */
        f = ta_record_get(r, p->c.map.v[i].name);
        ta_record_rename(r, f, p->c.map.v[i].value);
    }
    return TA_KEEP;
}

static int map_create(const void *conf, ta_processor **out, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    map_proc *p = calloc(1, sizeof *p);
    if (!p) return -ENOMEM;
    p->c = *(const map_conf *)conf;
    *out = &p->base;
    return 0;
}

static void map_destroy(ta_processor *p) { free(p); }

const ta_processor_type ta_proc_labels = {
    .name = "labels",
    .options = labels_options,
    .conf_size = sizeof(map_conf),
    .help = "sets fixed fields on every entry",
    .create = map_create,
    .process = labels_process,
    .destroy = map_destroy,
};

const ta_processor_type ta_proc_rename = {
    .name = "rename",
    .options = rename_options,
    .conf_size = sizeof(map_conf),
    .help = "renames fields",
    .create = map_create,
    .process = rename_process,
    .destroy = map_destroy,
};
