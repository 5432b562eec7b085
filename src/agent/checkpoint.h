/* checkpoint.h — read positions that survive restarts and kill -9.
 * Saved as a text file written to <path>.tmp, fsynced, renamed over <path>,
 * then the directory fsynced (without that last step the rename itself may
 * be lost on power failure). Positions put here must already be acked by
 * every output: the pipeline only commits acknowledged spans. */
#ifndef TRAILD_CHECKPOINT_H
#define TRAILD_CHECKPOINT_H
#include "pipeline.h"

typedef struct ta_ckpt_entry {
    char *input;
    ta_file_id id;
    uint64_t offset;     /* next byte to read: every byte before it was acked */
    int64_t seen_s;      /* unix seconds the file was last tracked */
    char *path;
    uint64_t tail_fp;    /* hash of the tail_len bytes before offset (copytruncate copies) */
    uint32_t tail_len;
} ta_ckpt_entry;

typedef struct ta_ckpt ta_ckpt;

/* Loads path if it exists (a missing file is an empty checkpoint; a corrupt
 * line is skipped with a warning). NULL path: in-memory only. */
ta_ckpt *ta_ckpt_open(const char *path, char *err, size_t errlen);
void ta_ckpt_free(ta_ckpt *c);
ta_ckpt_entry *ta_ckpt_find(ta_ckpt *c, const char *input, uint64_t dev, uint64_t ino);
/* Inserts or updates the entry of (input, dev, ino). */
void ta_ckpt_put(ta_ckpt *c, const char *input, const ta_file_id *id, uint64_t offset, const char *path);
/* Records the hash of the bytes just before the entry's offset. */
void ta_ckpt_set_tail(ta_ckpt *c, const char *input, uint64_t dev, uint64_t ino, uint64_t tail_fp, uint32_t tail_len);
void ta_ckpt_forget(ta_ckpt *c, const char *input, uint64_t dev, uint64_t ino);
/* Marks entries of `input` still tracked (seen now) — keeps them from pruning. */
void ta_ckpt_touch(ta_ckpt *c, const char *input, uint64_t dev, uint64_t ino);
bool ta_ckpt_dirty(const ta_ckpt *c);
/* Writes if dirty; entries unseen for `keep_s` seconds are pruned. 0 or -errno. */
int ta_ckpt_save(ta_ckpt *c, int64_t keep_s);
/* For tests and tools. */
size_t ta_ckpt_count(const ta_ckpt *c);
const ta_ckpt_entry *ta_ckpt_at(const ta_ckpt *c, size_t i);
bool ta_ckpt_has_input(const ta_ckpt *c, const char *input);

#endif
