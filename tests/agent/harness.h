/* harness.h — the correctness harness (after the way Vector and Filebeat
 * prove their tailers): writer processes stamp (writer id, sequence) into
 * every line and rotate their files; traild is killed with SIGKILL at
 * random moments and restarted; its file output fails and stalls on
 * purpose; at the end a checker counts, per (writer, sequence), how often
 * each line arrived: 0 = lost, >1 = duplicated. */
#ifndef TRAILD_HARNESS_H
#define TRAILD_HARNESS_H

enum { H_RENAME, H_COPYTRUNCATE, H_DATEEXT, H_DELAYCOMPRESS, H_CREATE, H_MODES };

typedef struct h_params {
    unsigned seed;
    int mode;              /* H_* */
    int writers;
    int lines;             /* per writer */
    int fail_percent;      /* output attempts that fail (retried) */
    int stall_percent;     /* output attempts that stall 30 ms */
    const char *traild;    /* binary */
    const char *dir;       /* empty directory for this run */
    void *loki;            /* lr_server * (loki_receiver.h): ship to it instead of a file; the
                            * receiver's own faults (429/5xx/400/stalls) replace the file's */
} h_params;

typedef struct h_result {
    long lines;            /* expected */
    long lost;
    long duplicated;
    int kills;
    int restarts;
    int max_inflight_records; /* pipeline bound used, for the duplicate bound */
    long refused;          /* lines the destination refused with 400 (final, counted: not lost) */
} h_result;

/* Runs one randomised run; returns 0 when it could run (then see r). */
int h_run(const h_params *p, h_result *r);
const char *h_mode_name(int mode);

#endif
