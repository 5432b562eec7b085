/* plugins.c — registries of parser and processor types, and constructors
 * that fill the base `type` field so plug-ins need not. */
#include <string.h>

#include "plugins.h"

extern const ta_parser_type ta_parser_json, ta_parser_nginx, ta_parser_nginx_json, ta_parser_caddy, ta_parser_plain;
static const ta_parser_type *const parsers[] = {
    &ta_parser_json, &ta_parser_nginx, &ta_parser_nginx_json, &ta_parser_caddy, &ta_parser_plain, NULL,
};

extern const ta_processor_type ta_proc_filter, ta_proc_drop, ta_proc_redact, ta_proc_labels, ta_proc_rename,
    ta_proc_shape;
static const ta_processor_type *const procs[] = {
    &ta_proc_filter, &ta_proc_drop, &ta_proc_redact, &ta_proc_labels, &ta_proc_rename, &ta_proc_shape, NULL,
};

const ta_parser_type *const *ta_parser_types(void) { return parsers; }
const ta_processor_type *const *ta_processor_types(void) { return procs; }

const ta_parser_type *ta_parser_type_find(const char *name) {
    for (size_t i = 0; parsers[i]; i++)
        if (strcmp(parsers[i]->name, name) == 0) return parsers[i];
    return NULL;
}

const ta_processor_type *ta_processor_type_find(const char *name) {
    for (size_t i = 0; procs[i]; i++)
        if (strcmp(procs[i]->name, name) == 0) return procs[i];
    return NULL;
}

int ta_parser_new(const ta_parser_type *t, const void *conf, ta_parser **out, char *err, size_t errlen) {
    int r = t->create(conf, out, err, errlen);
    if (r == 0) (*out)->type = t;
    return r;
}

int ta_processor_new(const ta_processor_type *t, const void *conf, ta_processor **out, char *err, size_t errlen) {
    int r = t->create(conf, out, err, errlen);
    if (r == 0) (*out)->type = t;
    return r;
}
