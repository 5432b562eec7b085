/* config.h — traild's YAML configuration, driven by option tables: each
 * plug-in type's table (pipeline.h ta_option) plus the agent's own tables
 * here. The same tables parse, validate (errors carry file:line:column),
 * fill defaults and print docs/traild-config.md (traild --print-options). */
#ifndef TRAILD_CONFIG_H
#define TRAILD_CONFIG_H

#include <stdio.h>

#include "input.h"

typedef struct ta_plugin_cfg {
    const void *type;  /* ta_parser_type / ta_processor_type, per context */
    void *conf;        /* the type's conf struct, filled */
} ta_plugin_cfg;

typedef struct ta_input_cfg {
    ta_input_info info;
    const ta_input_type *type;
    void *conf;
    ta_plugin_cfg parser;            /* type NULL: raw lines */
    ta_plugin_cfg *procs;
    uint32_t nprocs;
} ta_input_cfg;

typedef struct ta_output_cfg {
    const char *name;
    const ta_output_type *type;
    void *conf;
    ta_plugin_cfg *procs;
    uint32_t nprocs;
} ta_output_cfg;

typedef struct ta_agent_cfg {
    const char *state_dir;
    int64_t shutdown_timeout;
    int64_t checkpoint_keep;
    int log_level;
    const char *metrics_listen;
    int64_t batch_max_records;
    uint64_t batch_max_bytes;
    int64_t batch_max_wait;
    int64_t max_inflight;
    uint64_t read_budget;
} ta_agent_cfg;

typedef struct ta_config {
    ta_agent_cfg agent;
    ta_input_cfg *inputs;
    uint32_t ninputs;
    ta_output_cfg *outputs;
    uint32_t noutputs;
    ta_arena *arena;                 /* every string and conf struct */
} ta_config;

/* Parses YAML text; `name` prefixes error messages ("traild.yaml:3:5: ..."). */
int ta_config_parse(const char *text, size_t len, const char *name, ta_config **out, char *err, size_t errlen);
int ta_config_load(const char *path, ta_config **out, char *err, size_t errlen);
void ta_config_free(ta_config *c);
/* Markdown reference of every key with its default (docs/traild-config.md). */
void ta_config_print_options(FILE *f);

/* Value parsers shared with tests: 0 or -EINVAL. */
int ta_parse_size(const char *s, uint64_t *out);
int ta_parse_duration(const char *s, int64_t *out);

#endif
