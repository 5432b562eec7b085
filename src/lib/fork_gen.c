/* fork_gen.c — the fork generation handlers compare against (fork_gen.h). */
#include "fork_gen.h"

#include <pthread.h>

unsigned trail__fork_gen;

static void bump(void) { __atomic_add_fetch(&trail__fork_gen, 1, __ATOMIC_RELAXED); }
static void install(void) { pthread_atfork(NULL, NULL, bump); }

void trail__fork_gen_init(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install);
}
