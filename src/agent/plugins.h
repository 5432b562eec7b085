/* plugins.h — constructors that set the base type field (plugins.c). */
#ifndef TRAILD_PLUGINS_H
#define TRAILD_PLUGINS_H
#include "pipeline.h"

int ta_parser_new(const ta_parser_type *t, const void *conf, ta_parser **out, char *err, size_t errlen);
int ta_processor_new(const ta_processor_type *t, const void *conf, ta_processor **out, char *err, size_t errlen);

#endif
