/* agent.h — traild as a whole: builds the pipeline from a config, runs the
 * loop, reloads on SIGHUP (draining and saving positions first), drains and
 * saves on SIGTERM/SIGINT. */
#ifndef TRAILD_AGENT_H
#define TRAILD_AGENT_H

#include "config.h"

typedef struct ta_agent ta_agent;

/* Takes ownership of cfg. config_path is re-read on SIGHUP (NULL: no reload). */
int ta_agent_new(ta_config *cfg, const char *config_path, ta_agent **out, char *err, size_t errlen);
/* Runs until SIGTERM/SIGINT (which the caller must have blocked; the agent
 * reads them from a signalfd) or ta_agent_request_stop. Returns 0 when
 * stopped cleanly. */
int ta_agent_run(ta_agent *a);
void ta_agent_request_stop(ta_agent *a);
void ta_agent_free(ta_agent *a);
/* For /ready (stats.c). */
void ta_agent_set_ready(bool ready);

#endif
