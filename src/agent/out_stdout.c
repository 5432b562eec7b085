/* out_stdout.c — JSONL to standard output (for pipelines and debugging);
 * the writing is out_file.c's. */
#include <stddef.h>

#include "out_file.h"

typedef struct stdout_conf {
    int format;
} stdout_conf;

static const ta_option stdout_options[] = {
    {"format", TA_OPT_ENUM, "json", offsetof(stdout_conf, format),
     "json: one traild JSON object per entry; raw: the original line", "json|raw", false},
    TA_OPTIONS_END,
};

static int stdout_create(const void *conf, ta_output **out, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    return ta_out_file_create_stdout(((const stdout_conf *)conf)->format, out);
}

const ta_output_type ta_output_stdout = {
    .name = "stdout",
    .options = stdout_options,
    .conf_size = sizeof(stdout_conf),
    .help = "writes entries as JSON lines to standard output",
    .create = stdout_create,
    .submit = ta_out_file_submit,
    .drain = ta_out_file_drain,
    .destroy = ta_out_file_destroy,
};
