/* bench_main.c — trail_bench: trail (async, sync), spdlog (async, sync) and
 * plain fprintf in one run with the same work: per-call producer latency
 * (1 and 2 threads), sustained throughput to a JSONL file until it is on
 * disk, and peak RSS per case. Prints a table; --json for machines.
 *
 *   trail_bench [--json] [--threads 1,2] [--count N] [--lines N]
 *               [--only trail,spdlog-async,latency,...] [--dir DIR]
 *               [--burst N] [--pause-ns N] [--sleep] [--warmup N] [--tput-threads N] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "bench.h"

static const bench_peer *const all_peers[] = {
    &bench_peer_empty,
    &bench_peer_trail_async,
    &bench_peer_trail_sync,
    &bench_peer_trail_disabled,
    &bench_peer_spdlog_async,
    &bench_peer_spdlog_async_overrun,
    &bench_peer_spdlog_sync,
    &bench_peer_fprintf,
};
#define N_PEERS (sizeof(all_peers) / sizeof(all_peers[0]))

static void usage(void) {
    fprintf(stderr,
            "usage: trail_bench [--json] [--threads 1,2] [--count N] [--lines N] [--only LIST]\n"
            "                   [--dir DIR] [--burst N] [--pause-ns N] [--sleep] [--warmup N] [--tput-threads N]\n"
            "  --threads LIST   producer threads for the latency runs (default 1,2)\n"
            "  --count N        timed calls per producer thread (default 200000)\n"
            "  --lines N        entries in the throughput run (default 2000000)\n"
            "  --only LIST      peers (prefix: trail, spdlog-async, fprintf, timer) and/or\n"
            "                   workloads (latency, throughput, render), comma-separated\n"
            "  --burst N        timed calls between pauses (default 1)\n"
            "  --pause-ns N     pause after each burst so async backends keep up (default 2000)\n"
            "  --sleep          pause with nanosleep instead of spinning on the TSC\n"
            "  --warmup N       untimed calls per thread first (default 2000)\n"
            "  --tput-threads N producer threads in the throughput run (default 1)\n"
            "  --dir DIR        scratch directory for output files (default $TMPDIR or /tmp)\n"
            "  --keep           keep the output files\n"
            "  --ring-kib N     libtrail per-thread ring size (default: the library's, 2048)\n");
}

/* --only: a token names a workload or is a prefix of peer names; with no
 * token of a class (workloads, peers) every member of that class runs. */
static int token_match(const char *only, const char *name, int is_kind, int *seen_class) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s", only);
    int match = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int kind_tok = !strcmp(t, "latency") || !strcmp(t, "throughput") || !strcmp(t, "render");
        if (kind_tok != is_kind) continue;
        *seen_class = 1;
        if (is_kind ? !strcmp(t, name) : !strncmp(t, name, strlen(t))) match = 1;
    }
    return match;
}

static int selected(const char *only, const char *name, int is_kind) {
    if (!only) return 1;
    int seen = 0;
    int m = token_match(only, name, is_kind, &seen);
    return seen ? m : 1;
}

static void read_machine_id(char *out, size_t size) {
    FILE *f = fopen("/etc/machine-id", "r");
    out[0] = 0;
    if (f) {
        if (fgets(out, (int)size, f)) out[strcspn(out, "\r\n")] = 0;
        fclose(f);
    }
    if (!out[0]) gethostname(out, size - 1);
}

static void print_latency_row(FILE *f, const bench_result *r) {
    if (r->rc) {
        fprintf(f, "%-21s %3d   failed: %s%s%d\n", r->peer, r->threads, strerror(-r->rc),
                r->signal ? ", signal " : "", r->signal);
        return;
    }
    fprintf(f, "%-21s %3d %9.1f %9.1f %9.1f %9.1f %10.1f %9.1f %8llu %8llu %8.1f\n", r->peer, r->threads,
            r->lat.p50, r->lat.p99, r->lat.p999, r->lat.p9999, r->lat.max, r->lat.mean,
            (unsigned long long)r->dropped, (unsigned long long)r->blocked, (double)r->rss_kb / 1024.0);
}

static void print_tput_row(FILE *f, const bench_result *r) {
    if (r->rc && r->rc != -ECHILD && !r->lines) {
        fprintf(f, "%-21s %3d   failed: %s\n", r->peer, r->threads, strerror(-r->rc));
        return;
    }
    if (r->signal) {
        fprintf(f, "%-21s %3d   died of signal %d\n", r->peer, r->threads, r->signal);
        return;
    }
    double lps = r->total_s > 0 ? (double)r->entries / r->total_s : 0;
    double plps = r->producer_s > 0 ? (double)r->entries / r->producer_s : 0;
    fprintf(f, "%-21s %3d %12.0f %12.0f %10llu %10llu %8llu %8llu %6.0f %7.2f %8.1f%s\n", r->peer, r->threads, lps,
            plps, (unsigned long long)r->entries, (unsigned long long)r->lines,
            (unsigned long long)r->dropped, (unsigned long long)r->blocked, r->lines ? (double)r->bytes / (double)r->lines : 0,
            r->cpu_s, (double)r->rss_kb / 1024.0, r->rc ? "  (error)" : "");
}

static void json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', f);
        if ((unsigned char)*s >= 0x20) fputc(*s, f);
    }
    fputc('"', f);
}

static void print_json(FILE *f, const bench_opts *o, const bench_result *rs, size_t n) {
    fprintf(f, "{\"tsc_ghz\":%.4f,\"cpus\":%ld,\"count\":%zu,\"warmup\":%zu,\"burst\":%u,\"pause_ns\":%u,"
               "\"pace\":\"%s\",\"lines\":%llu,\"tput_threads\":%d,\"results\":[",
            o->cycles_per_ns, sysconf(_SC_NPROCESSORS_ONLN), o->count, o->warmup, o->pace.burst,
            o->pace.pause_ns, o->pace.spin ? "spin" : "sleep", (unsigned long long)o->lines, o->tput_threads);
    for (size_t i = 0; i < n; i++) {
        const bench_result *r = &rs[i];
        fprintf(f, "%s\n{\"peer\":", i ? "," : "");
        json_str(f, r->peer);
        fprintf(f, ",\"kind\":\"%s\",\"threads\":%d,\"ok\":%s,\"error\":", r->kind, r->threads,
                r->rc ? "false" : "true");
        json_str(f, r->rc ? strerror(-r->rc) : "");
        fprintf(f, ",\"signal\":%d,\"rss_kib\":%ld,\"dropped\":%llu,\"blocked\":%llu,\"entries\":%llu,"
                   "\"lines_in_file\":%llu,\"bytes_in_file\":%llu",
                r->signal, r->rss_kb, (unsigned long long)r->dropped, (unsigned long long)r->blocked,
                (unsigned long long)r->entries, (unsigned long long)r->lines,
                (unsigned long long)r->bytes);
        if (!strcmp(r->kind, "render"))
            fprintf(f, ",\"seconds\":%.4f,\"cpu_s\":%.4f,\"lines_per_s\":%.0f,\"lines_per_cpu_s\":%.0f", r->total_s,
                    r->cpu_s, r->total_s > 0 ? (double)r->entries / r->total_s : 0,
                    r->cpu_s > 0 ? (double)r->entries / r->cpu_s : 0);
        else if (!strcmp(r->kind, "latency"))
            fprintf(f, ",\"ns\":{\"p50\":%.2f,\"p99\":%.2f,\"p99.9\":%.2f,\"p99.99\":%.2f,\"max\":%.1f,"
                       "\"mean\":%.2f,\"samples\":%llu}",
                    r->lat.p50, r->lat.p99, r->lat.p999, r->lat.p9999, r->lat.max, r->lat.mean,
                    (unsigned long long)r->lat.n);
        else
            fprintf(f, ",\"producer_s\":%.4f,\"total_s\":%.4f,\"cpu_s\":%.4f,\"lines_per_s\":%.0f,"
                       "\"producer_lines_per_s\":%.0f",
                    r->producer_s, r->total_s, r->cpu_s, r->total_s > 0 ? (double)r->entries / r->total_s : 0,
                    r->producer_s > 0 ? (double)r->entries / r->producer_s : 0);
        fputc('}', f);
    }
    fprintf(f, "]}\n");
}

static const bench_result *find(const bench_result *rs, size_t n, const char *peer, const char *kind,
                                int threads) {
    for (size_t i = 0; i < n; i++)
        if (!rs[i].rc && !strcmp(rs[i].peer, peer) && !strcmp(rs[i].kind, kind) &&
            (threads < 0 || rs[i].threads == threads))
            return &rs[i];
    return NULL;
}

/* The targets for trail-async. "net" = raw minus the timer's own
 * p50 in the same run with the same thread count (the rdtscp pair costs
 * tens of ns on this machine; the targets are about the call). */
static void print_targets(FILE *f, const bench_result *rs, size_t n) {
    int header = 0;
    for (size_t i = 0; i < n; i++) {
        const bench_result *r = &rs[i];
        if (r->rc || strcmp(r->peer, "trail-async") || strcmp(r->kind, "latency")) continue;
        const bench_result *t = find(rs, n, "timer", "latency", r->threads);
        const bench_result *s = find(rs, n, "spdlog-async", "latency", r->threads);
        double timer = t ? t->lat.p50 : 0;
        if (!header++) fprintf(f, "\ntargets (trail-async; net = raw - timer p50 of the same run)\n");
        fprintf(f, "  %d thr: p50 raw %.1f net %.1f ns (target <= 20: %s); p99.9 raw %.1f net %.1f ns "
                   "(target <= 150: %s)",
                r->threads, r->lat.p50, r->lat.p50 - timer, r->lat.p50 - timer <= 20 ? "met" : "MISSED",
                r->lat.p999, r->lat.p999 - timer, r->lat.p999 - timer <= 150 ? "met" : "MISSED");
        if (s)
            fprintf(f, "; spdlog-async p50 / trail p50 = %.1fx raw, %.1fx net (target >= 8 net: %s)",
                    s->lat.p50 / r->lat.p50, (s->lat.p50 - timer) / (r->lat.p50 - timer),
                    s->lat.p50 - timer >= 8 * (r->lat.p50 - timer) ? "met" : "MISSED");
        fputc('\n', f);
    }
    const bench_result *r = find(rs, n, "trail-async", "throughput", -1);
    if (r) {
        double lps = r->total_s > 0 ? (double)r->entries / r->total_s : 0;
        int ok = lps >= 2e6 && r->lines == r->entries && !r->dropped;
        fprintf(f, "  throughput: %.0f lines/s to disk, %llu of %llu lines in the file, %llu dropped "
                   "(target >= 2M/s, zero drops: %s)\n",
                lps, (unsigned long long)r->lines, (unsigned long long)r->entries,
                (unsigned long long)r->dropped, ok ? "met" : "MISSED");
    }
}

static int parse_threads(const char *s, bench_opts *o) {
    o->n_thread_cfgs = 0;
    char buf[64];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int n = atoi(t);
        if (n < 1 || n > 16 || o->n_thread_cfgs == BENCH_MAX_THREAD_CFGS) return -1;
        o->thread_cfgs[o->n_thread_cfgs++] = n;
    }
    return o->n_thread_cfgs ? 0 : -1;
}

int main(int argc, char **argv) {
    bench_opts o = {0};
    o.thread_cfgs[0] = 1;
    o.thread_cfgs[1] = 2;
    o.n_thread_cfgs = 2;
    o.count = 200000;
    o.warmup = 2000;
    o.lines = 2000000;
    o.tput_threads = 1;
    o.pace = (bench_pace){1, 2000, 0, 1};
    const char *only = NULL;
    int keep = 0; /* --keep: leave the output files for inspection */
    const char *tmp = getenv("TMPDIR");
    snprintf(o.dir, sizeof o.dir, "%s/trail-bench.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name) (!strcmp(a, name) && v && (++i, 1))
        if (!strcmp(a, "--json")) o.json = 1;
        else if (ARG("--threads")) { if (parse_threads(v, &o)) { usage(); return 2; } }
        else if (ARG("--count")) o.count = strtoull(v, NULL, 10);
        else if (ARG("--lines")) o.lines = strtoull(v, NULL, 10);
        else if (ARG("--warmup")) o.warmup = strtoull(v, NULL, 10);
        else if (ARG("--only")) only = v;
        else if (ARG("--burst")) o.pace.burst = (uint32_t)atoi(v);
        else if (ARG("--pause-ns")) o.pace.pause_ns = (uint32_t)atoi(v);
        else if (!strcmp(a, "--sleep")) o.pace.spin = 0;
        else if (!strcmp(a, "--keep")) keep = 1;
        else if (ARG("--ring-kib")) o.ring_bytes = (size_t)strtoull(v, NULL, 10) << 10;
        else if (ARG("--tput-threads")) o.tput_threads = atoi(v);
        else if (ARG("--dir")) { snprintf(o.dir, sizeof o.dir, "%s/trail-bench.XXXXXX", v); }
        else { usage(); return 2; }
#undef ARG
    }
    if (!o.count || !o.lines || !o.pace.burst || o.tput_threads < 1 || o.tput_threads > 16) {
        usage();
        return 2;
    }
    if (!mkdtemp(o.dir)) {
        fprintf(stderr, "trail_bench: cannot create %s: %s\n", o.dir, strerror(errno));
        return 1;
    }
    /* Short sleeps in the latency pacing; inherited by every child. */
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    o.cycles_per_ns = bench_tsc_calibrate();
    o.pace.pause_cycles = (uint64_t)((double)o.pace.pause_ns * o.cycles_per_ns);

    snprintf(bench_static.service, sizeof bench_static.service, "bench");
    snprintf(bench_static.version, sizeof bench_static.version, "1.4.2");
    read_machine_id(bench_static.machine_id, sizeof bench_static.machine_id);
    snprintf(bench_static.region, sizeof bench_static.region, "eu-west-1");

    FILE *table = o.json ? stderr : stdout;
    fprintf(table, "trail_bench: TSC %.3f GHz, %ld CPUs, latency %zu calls/thread (bursts of %u, %u ns %s), "
                   "throughput %llu lines, files in %s\n",
            o.cycles_per_ns, sysconf(_SC_NPROCESSORS_ONLN), o.count, o.pace.burst, o.pace.pause_ns,
            o.pace.spin ? "spin" : "sleep",
            (unsigned long long)o.lines, o.dir);

    bench_result results[N_PEERS * (BENCH_MAX_THREAD_CFGS + 1) + 1];
    size_t nres = 0;
    char path[300];
    int failures = 0;

    if (selected(only, "latency", 1)) {
        fprintf(table, "\nproducer latency per call, ns (rdtscp; includes the timer's own cost, see 'timer')\n");
        fprintf(table, "%-21s %3s %9s %9s %9s %9s %10s %9s %8s %8s %8s\n", "peer", "thr", "p50", "p99", "p99.9",
                "p99.99", "max", "mean", "dropped", "blocked", "RSS MiB");
        for (int t = 0; t < o.n_thread_cfgs; t++)
            for (size_t k = 0; k < N_PEERS; k++) {
                const bench_peer *p = all_peers[k];
                if (!selected(only, p->name, 0) && p != &bench_peer_empty) continue;
                bench_result *r = &results[nres++];
                memset(r, 0, sizeof(*r));
                snprintf(r->peer, sizeof r->peer, "%s", p->name);
                snprintf(r->kind, sizeof r->kind, "latency");
                r->threads = o.thread_cfgs[t];
                snprintf(path, sizeof path, "%s/%s-lat%d.jsonl", o.dir, p->name, r->threads);
                bench_run_forked(bench_latency_run, p, &o, r->threads, path, r);
                if (!keep) unlink(path);
                failures += r->rc != 0;
                print_latency_row(table, r);
                fflush(table);
            }
    }
    if (selected(only, "throughput", 1)) {
        fprintf(table, "\nthroughput: %llu entries, %d producer thread(s), until on disk (flush + fsync)\n",
                (unsigned long long)o.lines, o.tput_threads);
        fprintf(table, "%-21s %3s %12s %12s %10s %10s %8s %8s %6s %7s %8s\n", "peer", "thr", "lines/s", "producer/s",
                "entries", "in file", "dropped", "blocked", "B/line", "CPU s", "RSS MiB");
        for (size_t k = 0; k < N_PEERS; k++) {
            const bench_peer *p = all_peers[k];
            if (p == &bench_peer_empty || p == &bench_peer_trail_disabled || !selected(only, p->name, 0))
                continue;
            bench_result *r = &results[nres++];
            memset(r, 0, sizeof(*r));
            snprintf(r->peer, sizeof r->peer, "%s", p->name);
            snprintf(r->kind, sizeof r->kind, "throughput");
            r->threads = o.tput_threads;
            snprintf(path, sizeof path, "%s/%s-tput.jsonl", o.dir, p->name);
            bench_run_forked(bench_throughput_run, p, &o, r->threads, path, r);
            if (!keep) unlink(path);
            failures += r->rc != 0;
            print_tput_row(table, r);
            fflush(table);
        }
    }
    if (selected(only, "render", 1) && selected(only, "trail-async", 0)) {
        bench_result *r = &results[nres++];
        memset(r, 0, sizeof(*r));
        snprintf(r->peer, sizeof r->peer, "trail-json-formatter");
        snprintf(r->kind, sizeof r->kind, "render");
        r->threads = 1;
        bench_run_forked(bench_render_run, &bench_peer_trail_sync, &o, 1, NULL, r);
        failures += r->rc != 0;
        if (r->rc)
            fprintf(table, "\nrender: failed: %s\n", strerror(-r->rc));
        else
            fprintf(table,
                    "\nrender (JSON formatter alone, %llu entries, no I/O): %.0f lines/s wall (%.1f ns/line), "
                    "%.0f lines per CPU-second (%.1f ns/line)\n",
                    (unsigned long long)r->entries, (double)r->entries / r->total_s,
                    r->total_s * 1e9 / (double)r->entries, r->cpu_s > 0 ? (double)r->entries / r->cpu_s : 0,
                    r->cpu_s * 1e9 / (double)r->entries);
    }
    if (!keep) rmdir(o.dir);
    print_targets(table, results, nres);
    if (o.json) print_json(stdout, &o, results, nres);
    return failures ? 1 : 0;
}
