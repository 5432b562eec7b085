/* compress.h — compression of rotated files on a background thread, so the
 * writer never waits for it. One worker per process, started on first use
 * (and again in a forked child that submits work), at low priority. */
#ifndef TRAIL_COMPRESS_H
#define TRAIL_COMPRESS_H

#include "trail.h"

/* Queues path for compression into path.gz / path.zst. Never blocks on I/O.
 * When the queue is full (256 files) the file stays uncompressed and is
 * picked up by the next handler that opens this path. Returns 0 or -errno. */
int trail__compress_submit(const char *path, trail_compress type);

/* Compresses path now, on the calling thread: writes a temp file in the same
 * directory, fsyncs it, gives it the original's mode and times, renames it
 * to path.gz / path.zst, then unlinks path. Bytes appended to path by a late
 * writer while this runs are included (the writer holds a shared flock while
 * it appends; this takes it exclusively before the final read). */
int trail__compress_file(const char *path, trail_compress type);

/* Waits until the queue is empty and the worker idle; 0 or -ETIMEDOUT. */
int trail__compress_wait(int timeout_ms);

/* File name suffix for a type (".gz", ".zst", ""). */
const char *trail__compress_suffix(trail_compress type);

#endif
