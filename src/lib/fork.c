/* fork.c — fork() neither deadlocks nor loses or duplicates entries.
 *
 * prepare: take the configuration mutex (waits for the backend to finish its
 * pass, after which every handler's buffer has been flushed), then the
 * backend's and the rings' mutexes, so the child gets consistent state.
 * parent: release them; nothing else changes. child: the records queued in
 * the rings were logged by the parent, which writes them, so the child
 * skips them; rings of threads that do not exist in the child are retired;
 * the pid is refreshed and a new backend thread starts; logging goes on. */
#include "ctx_impl.h"
#include "ring.h"
#include "runtime.h"

#include <pthread.h>

static void prepare(void) {
    trail__cfg_lock();
    trail__backend_fork_prepare();
    trail__rings_lock();
}

static void parent(void) {
    trail__rings_unlock();
    trail__backend_fork_parent();
    trail__cfg_unlock();
}

static void child(void) {
    trail__rings_after_fork_child(); /* re-initialises the ring mutex */
    trail__capture_after_fork();
    if (__atomic_load_n(&trail__rt.initialized, __ATOMIC_ACQUIRE)) trail__resource_after_fork();
    trail__cfg_reinit();
    trail__backend_after_fork_child();
}

static void install(void) { pthread_atfork(prepare, parent, child); }

void trail__fork_install(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install);
}
