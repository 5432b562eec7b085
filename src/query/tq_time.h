/* tq_time.h — Loki-style time parameters (see tq_time.c). */
#ifndef TRAIL_TQ_TIME_H
#define TRAIL_TQ_TIME_H

#include <stdint.h>

/* 0 on success, -1 when s is not a timestamp. */
int tq_parse_time(const char *s, int64_t *ns);
/* A positive duration ("5m", "1h30m") or float seconds ("30"). */
int tq_parse_step(const char *s, int64_t *ns);
int64_t tq_now_ns(void);

#endif
