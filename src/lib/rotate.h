/* rotate.h — rotated-file naming, the no-overwrite rename, and retention.
 * Used by handler_file.c (which decides when to rotate).
 *
 * Naming (sorts oldest first with a plain `ls` / strcmp):
 *   <dir>/<stem>.<YYYY-mm-ddTHH-MM-SS>[_<NNNN>]<ext>[.gz|.zst]
 * e.g. app.jsonl -> app.2026-11-28T20-00-00.jsonl, then
 * app.2026-11-28T20-00-00_0001.jsonl for a second file begun in the same
 * second. The time is the UTC start of the file: the start of its period for
 * time rotation, the moment it was begun for size rotation. '.' sorts before
 * '_', so the unnumbered name comes first. */
#ifndef TRAIL_ROTATE_H
#define TRAIL_ROTATE_H

#include "trail.h"

#include <stddef.h>
#include <stdint.h>

/* Start of the period holding t_s: a multiple of interval_s since the epoch,
 * so hourly and daily periods (and any divisor of a day) align to UTC
 * wall-clock boundaries. interval_s 0 returns t_s. */
int64_t trail__rotate_period_start(int64_t t_s, uint32_t interval_s);

/* Formats the rotated name of path for a file begun at start_s (unix
 * seconds) with sequence seq (0 = no suffix). Returns 0 or -ENAMETOOLONG. */
int trail__rotate_format(char *out, size_t size, const char *path, int64_t start_s, unsigned seq);

/* 1 when the directory entry `name` is a rotated file of the file named
 * `base` (no directory); *key_len is the length of name without a .gz/.zst
 * suffix (the same key for a file and its compressed form). */
int trail__rotate_match(const char *base, const char *name, size_t *key_len);

/* Renames path to its first free rotated name, trying seq = *seq, *seq+1,
 * ...; never replaces an existing file (renameat2 RENAME_NOREPLACE, or
 * link+unlink where unsupported). On success fills out and sets *seq to the
 * next number to try. Returns 0 or -errno (-ENOENT: path is gone). */
int trail__rotate_move(const char *path, int64_t start_s, unsigned *seq, char *out, size_t size);

/* Retention: deletes the oldest rotated files of path beyond max_files
 * (0 = no limit) and those last modified more than max_age_s ago (0 = no
 * limit). A file another writer is appending to right now is skipped and
 * picked up next time. Returns the number of files deleted. */
int trail__rotate_prune(const char *path, uint32_t max_files, uint32_t max_age_s, int64_t now_s);

/* Submits rotated files of path that are not compressed yet (left over by a
 * process that exited before its background compression ran). */
void trail__rotate_resume_compression(const char *path, trail_compress type);

/* Deletes hidden compression temp files of path's rotated files
 * (".<rotated>.gz.tmp<pid>.<n>") whose process is gone: left by a crash
 * in the middle of a compression. */
void trail__rotate_cleanup_temps(const char *path);

/* Wall clock used for retention by age, in unix nanoseconds; tests may
 * replace it (NULL restores the real clock). */
void trail__rotate_set_clock(int64_t (*now_ns)(void));
int64_t trail__rotate_now_ns(void);

#endif
