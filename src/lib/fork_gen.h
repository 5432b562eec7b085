/* fork_gen.h — lets handlers notice they run in a forked child.
 *
 * The generation counts the fork()s this process descends from. A handler
 * remembers the generation its buffer and its fd belong to; when it differs
 * (checked with one relaxed load per line), it is in a child: the buffered
 * bytes are the parent's to write (dropping them avoids duplicates), and a
 * file or socket is reopened so parent and child do not share a file
 * description (flock state, TCP frames). */
#ifndef TRAIL_FORK_GEN_H
#define TRAIL_FORK_GEN_H

extern unsigned trail__fork_gen;

/* Registers the pthread_atfork hook (once); call when creating a handler. */
void trail__fork_gen_init(void);

static inline unsigned trail__fork_generation(void) { return __atomic_load_n(&trail__fork_gen, __ATOMIC_RELAXED); }

#endif
