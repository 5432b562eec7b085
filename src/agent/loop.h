/* loop.h — traild's event loop: epoll over a handful of fds plus one
 * timeout chosen by the caller. Deliberately tiny (after Redis's ae.c):
 * the agent decides what to do each turn; the loop only waits. */
#ifndef TRAILD_LOOP_H
#define TRAILD_LOOP_H
#include <stdbool.h>
#include <stdint.h>

typedef struct ta_loop ta_loop;
typedef void (*ta_loop_fn)(void *arg);

ta_loop *ta_loop_new(void);
void ta_loop_free(ta_loop *l);
/* Calls fn(arg) when fd is readable. 0 or -errno. */
int ta_loop_add(ta_loop *l, int fd, ta_loop_fn fn, void *arg);
void ta_loop_del(ta_loop *l, int fd);
/* Stops (mute) or resumes waking for fd; what arrives meanwhile stays
 * readable and is seen on resume. */
void ta_loop_mute(ta_loop *l, int fd, bool mute);
/* Waits up to timeout_ms (-1 forever) and runs the callbacks of ready fds.
 * Returns how many ran. */
int ta_loop_wait(ta_loop *l, int timeout_ms);

#endif
