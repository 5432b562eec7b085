/* test_harness.c — bounded randomised correctness runs for CI: every
 * rotation mode, kill -9 at random moments, an output that fails and
 * stalls. Prints "harness: runs R lines L lost X duplicated D". Longer
 * soaks: scripts/soak-traild.sh (HARNESS_RUNS, HARNESS_LINES, HARNESS_SEED). */
#include "harness.c.inc"
#include "test.h"

static int envi(const char *k, int def) {
    const char *v = getenv(k);
    return v && *v ? atoi(v) : def;
}

TEST(randomised_kill9_rotation_faults) {
    int runs = envi("HARNESS_RUNS", 10);
    int lines = envi("HARNESS_LINES", 3000);
    unsigned seed = (unsigned)envi("HARNESS_SEED", (int)time(NULL));
    long total_lines = 0, total_lost = 0, total_dup = 0;
    int kills = 0;
    fprintf(stderr, "  harness seed %u (rerun with HARNESS_SEED=%u)\n", seed, seed);
    for (int run = 0; run < runs; run++) {
        char dir[600];
        snprintf(dir, sizeof dir, "%s/run%d", test_tmpdir(), run);
        mkdir(dir, 0755);
        h_params p = {
            .seed = seed + (unsigned)run,
            .mode = envi("HARNESS_MODE", -1) >= 0 ? envi("HARNESS_MODE", 0) : run % H_MODES,
            .writers = 3,
            .lines = lines,
            .fail_percent = 15,
            .stall_percent = 5,
            .traild = TRAILD_BIN,
            .dir = dir,
        };
        h_result r;
        CHECK_INT(h_run(&p, &r), ==, 0);
        fprintf(stderr, "  run %d %-13s lines %ld lost %ld duplicated %ld kills %d\n", run, h_mode_name(p.mode), r.lines,
                r.lost, r.duplicated, r.kills);
        if (r.lost) {
            char cmd[700];
            snprintf(cmd, sizeof cmd, "tail -5 %s/traild.log >&2", dir);
            if (system(cmd)) {}
        }
        total_lines += r.lines;
        total_lost += r.lost;
        total_dup += r.duplicated;
        kills += r.kills;
        CHECK_INT(r.lost, ==, 0);
        /* at most what was in flight at each kill (plus copies that could not be verified) */
        CHECK_INT(r.duplicated, <=, (long)(r.kills + 1) * r.max_inflight_records);
    }
    printf("harness: runs %d lines %ld lost %ld duplicated %ld kills %d\n", runs, total_lines, total_lost, total_dup, kills);
}
