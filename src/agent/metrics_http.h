/* metrics_http.h — what metrics_http.c offers besides the start/stop pair in
 * pipeline.h: the exposition text itself (tests render it without HTTP). */
#ifndef TRAILD_METRICS_HTTP_H
#define TRAILD_METRICS_HTTP_H
#include "pipeline.h"
/* Appends the whole /metrics body (Prometheus text format 0.0.4). */
void ta_metrics_render(ta_buf *b);
#endif
