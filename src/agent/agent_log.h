/* agent_log.h — traild's own diagnostics, logged through libtrail (logger
 * "traild", console format on stderr; TRAILD_LOG_FORMAT=json for JSON
 * Lines). The call sites only see this seam. */
#ifndef TRAILD_AGENT_LOG_H
#define TRAILD_AGENT_LOG_H

enum { TA_LOG_DEBUG, TA_LOG_INFO, TA_LOG_WARN, TA_LOG_ERROR };

void ta_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Messages below this level are skipped (default TA_LOG_INFO; TRAILD_DEBUG=1 env → DEBUG, whatever is set). */
void ta_log_set_level(int level);

#define ta_debug(...) ta_log(TA_LOG_DEBUG, __VA_ARGS__)
#define ta_info(...) ta_log(TA_LOG_INFO, __VA_ARGS__)
#define ta_warn(...) ta_log(TA_LOG_WARN, __VA_ARGS__)
#define ta_error(...) ta_log(TA_LOG_ERROR, __VA_ARGS__)

#endif
