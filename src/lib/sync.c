/* sync.c — synchronous mode (TRAIL_SYNC): the caller formats and writes its
 * own entry under the configuration mutex. For tiny programs and tests;
 * an entry logged from inside a handler on the same thread is dropped
 * rather than re-entering the handler. */
#include "record.h"
#include "runtime.h"

static _Thread_local int tl_writing;

int trail__sync_busy(void) { return tl_writing; }

void trail__sync_emit_record(const struct trail__rec *rec) {
    trail__cfg_lock();
    tl_writing = 1;
    trail__write_record(rec);
    trail__write_flush();
    tl_writing = 0;
    trail__cfg_unlock();
}
