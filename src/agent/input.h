/* input.h — the input plug-in interface. An input finds data, cuts it into
 * complete entries and hands them to the pipeline (ta_pipeline_emit); the
 * pipeline calls back the span's commit() once every output acknowledged
 * them, and only then may the input record the position. Today there is
 * one input type, "file" (in_file.c). */
#ifndef TRAILD_INPUT_H
#define TRAILD_INPUT_H

#include "checkpoint.h"
#include "pipeline_impl.h"

typedef struct ta_input ta_input;

/* Everything an input needs from the agent. */
typedef struct ta_input_env {
    ta_pipeline *pipeline;
    ta_ckpt *ckpt;
    bool first_start;             /* no previous run's positions: start_at applies */
    const ta_input_info *info;
    ta_parser *parser;            /* NULL = raw lines */
    ta_processor **procs;
    uint32_t nprocs;
    ta_input_stats *stats;
} ta_input_env;

typedef struct ta_input_type {
    const char *name;
    const ta_option *options;
    size_t conf_size;
    const char *help;
    int (*create)(const void *conf, const ta_input_env *env, ta_input **out, char *err, size_t errlen);
    /* fd to watch for readability (then call poll), or -1. */
    int (*fd)(ta_input *in);
    /* Discovers and reads, at most `budget` bytes, only while the pipeline
     * accepts. Returns true when it stopped with data left to read. */
    bool (*poll)(ta_input *in, size_t budget);
    /* CLOCK_MONOTONIC ns of the next time poll must run without an event. */
    int64_t (*deadline)(ta_input *in);
    /* True while the input has deferred what its fd reported until
     * deadline(): the loop need not wake for the fd meanwhile. */
    bool (*deferring)(ta_input *in);
    void (*destroy)(ta_input *in);
    /* Checks what only the type understands (regexes) for --check-config. */
    int (*validate)(const void *conf, char *err, size_t errlen);
} ta_input_type;

extern const ta_input_type ta_input_file;

#endif
