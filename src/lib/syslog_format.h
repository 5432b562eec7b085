/* syslog_format.h — RFC 5424 message rendering for handler_syslog.c. */
#ifndef TRAIL_SYSLOG_FORMAT_H
#define TRAIL_SYSLOG_FORMAT_H

#include "trail.h"

/* SD-ID of the structured-data element that carries fields and context
 * (32473 is the enterprise number RFC 5612 reserves for documentation). */
#define TRAIL_SYSLOG_SD_ID "trail@32473"

typedef struct trail__syslog_header {
    int facility;         /* 0..23 */
    const char *hostname; /* NULL/"" -> "-" */
    const char *app_name; /* NULL/"" -> "-" */
    int pid;
    int no_sd;            /* 1: STRUCTURED-DATA is always "-" */
} trail__syslog_header;

/* RFC 5424 severity (0..7) of a trail level. */
int trail__syslog_severity(int level);

/* Appends one message to out:
 *   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG
 * MSGID is the logger name ("-" for the root), SD holds the entry's context
 * and fields, MSG is msg (the formatted line) without its final newline, with
 * control characters escaped (\n, \r, \t, \xHH) so one entry can never read
 * as two messages, cut at max_msg bytes on a UTF-8 boundary. Header fields
 * are reduced to printable US-ASCII and their RFC lengths. */
int trail__syslog_render(trail_buf *out, const trail__syslog_header *h, const trail_entry *e, const char *msg,
                         size_t msg_len, size_t max_msg);

#endif
