/* out_file.h — out_file.c's machinery shared with out_stdout.c. */
#ifndef TRAILD_OUT_FILE_H
#define TRAILD_OUT_FILE_H
#include "pipeline.h"

int ta_out_file_create_stdout(int format, ta_output **out); /* format 0 json, 1 raw */
int ta_out_file_submit(ta_output *o, ta_batch *b);
void ta_out_file_drain(ta_output *o, int64_t deadline_ns);
void ta_out_file_destroy(ta_output *o);

#endif
