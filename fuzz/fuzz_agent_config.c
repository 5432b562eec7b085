/* fuzz_agent_config.c — the YAML config loader on arbitrary text: it must
 * either load or fail with a message, never crash or leak. */
#include <stdint.h>
#include <stdlib.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ta_config *c = NULL;
    char err[512];
    if (ta_config_parse((const char *)data, size, "fuzz", &c, err, sizeof err) == 0) ta_config_free(c);
    else if (!err[0]) abort(); /* every failure explains itself */
    return 0;
}
