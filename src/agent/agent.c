/* agent.c — one "generation" per config: checkpoint, outputs, pipeline,
 * inputs, loop. A reload drains the current generation (positions saved),
 * then builds the next one from the same checkpoint file, so no position is
 * lost and nothing half-built ever runs. */
#include "agent.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_log.h"
#include "loop.h"
#include "plugins.h"
#include "timefmt.h"

typedef struct gen {
    ta_config *cfg;
    ta_ckpt *ckpt;
    ta_out_slot *outs;
    uint32_t nouts;
    ta_pipeline *pipeline;
    ta_input **inputs;
    ta_parser **parsers;
    ta_processor ***in_procs;
    uint32_t ninputs;
    ta_loop *loop;
    bool *muted;           /* per input: its fd is muted in loop (deferring) */
} gen;

struct ta_agent {
    char *config_path;
    gen *g;
    int sigfd;
    volatile sig_atomic_t stop, reload;
    ta_metrics_server *metrics;
    char *metrics_listen;  /* what `metrics` listens on (NULL: off) */
};

/* Starts, moves or stops /metrics to match `listen` (config metrics_listen);
 * at start and on every reload. A server that failed to start is tried
 * again at the next reload even with the same address. */
static void metrics_apply(ta_agent *a, const char *listen) {
#if defined(TA_HAVE_METRICS_HTTP) && defined(TA_HAVE_MHD)
    const char *want = listen && *listen && strcmp(listen, "off") != 0 ? listen : NULL;
    if (want && a->metrics && a->metrics_listen && strcmp(want, a->metrics_listen) == 0) return;
    if (!want && !a->metrics) return;
    if (a->metrics) {
        ta_metrics_stop(a->metrics);
        a->metrics = NULL;
        ta_info("metrics: stopped listening on %s", a->metrics_listen);
    }
    free(a->metrics_listen);
    a->metrics_listen = NULL;
    if (!want) return;
    char err[256] = "";
    a->metrics = ta_metrics_start(want, err, sizeof err);
    if (!a->metrics) {
        ta_warn("metrics disabled: %s", err);
        return;
    }
    a->metrics_listen = strdup(want);
#else
    (void)a;
    (void)listen;
#endif
}

static void procs_free(ta_processor **p, uint32_t n) {
    for (uint32_t i = 0; p && i < n; i++)
        if (p[i]) p[i]->type->destroy(p[i]);
    free(p);
}

static int procs_new(ta_plugin_cfg *cfgs, uint32_t n, ta_processor ***out, char *err, size_t errlen) {
    *out = calloc(n ? n : 1, sizeof **out);
    for (uint32_t i = 0; i < n; i++) {
        int r = ta_processor_new(cfgs[i].type, cfgs[i].conf, &(*out)[i], err, errlen);
        if (r < 0) return r;
    }
    return 0;
}

static void gen_free(gen *g) {
    if (!g) return;
    for (uint32_t i = 0; i < g->ninputs; i++) {
        if (g->inputs && g->inputs[i]) ta_input_file.destroy(g->inputs[i]);
        if (g->parsers && g->parsers[i]) g->parsers[i]->type->destroy(g->parsers[i]);
        if (g->in_procs) procs_free(g->in_procs[i], g->cfg->inputs[i].nprocs);
    }
    free(g->inputs);
    free(g->muted);
    free(g->parsers);
    free(g->in_procs);
    ta_pipeline_free(g->pipeline);
    for (uint32_t i = 0; i < g->nouts; i++) {
        if (g->outs[i].out) g->outs[i].out->type->destroy(g->outs[i].out);
        procs_free(g->outs[i].procs, g->outs[i].nprocs);
    }
    free(g->outs);
    ta_ckpt_free(g->ckpt);
    ta_loop_free(g->loop);
    ta_config_free(g->cfg);
    free(g);
}

static int mkdirs(const char *dir) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(tmp, 0755);
            *p = '/';
        }
    return mkdir(tmp, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

static int gen_new(ta_config *cfg, gen **out, char *err, size_t errlen) {
    gen *g = calloc(1, sizeof *g);
    if (!g) abort();
    g->cfg = cfg;
    int r;
    if ((r = mkdirs(cfg->agent.state_dir)) < 0) {
        snprintf(err, errlen, "cannot create state_dir %s: %s — set state_dir to a writable directory",
                 cfg->agent.state_dir, strerror(-r));
        goto fail;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/positions.ckpt", cfg->agent.state_dir);
    if (!(g->ckpt = ta_ckpt_open(path, err, errlen))) {
        r = -EIO;
        goto fail;
    }
    g->nouts = cfg->noutputs;
    g->outs = calloc(g->nouts, sizeof *g->outs);
    for (uint32_t i = 0; i < g->nouts; i++) {
        ta_output_cfg *oc = &cfg->outputs[i];
        char e2[512] = "";
        if ((r = oc->type->create(oc->conf, &g->outs[i].out, e2, sizeof e2)) < 0) {
            snprintf(err, errlen, "output %s: %s", oc->name, *e2 ? e2 : strerror(-r));
            goto fail;
        }
        g->outs[i].out->type = oc->type;
        g->outs[i].out->name = oc->name;
        g->outs[i].out->stats = ta_stats_output(oc->name, oc->type->name);
        g->outs[i].nprocs = oc->nprocs;
        if ((r = procs_new(oc->procs, oc->nprocs, &g->outs[i].procs, e2, sizeof e2)) < 0) {
            snprintf(err, errlen, "output %s: %s", oc->name, e2);
            goto fail;
        }
    }
    ta_pipeline_conf pc = {
        .batch_max_records = (uint32_t)cfg->agent.batch_max_records,
        .batch_max_bytes = cfg->agent.batch_max_bytes,
        .batch_max_wait_ns = cfg->agent.batch_max_wait,
        .max_inflight = (uint32_t)cfg->agent.max_inflight,
    };
    g->pipeline = ta_pipeline_new(&pc, g->outs, g->nouts);
    g->ninputs = cfg->ninputs;
    g->inputs = calloc(g->ninputs, sizeof *g->inputs);
    g->muted = calloc(g->ninputs ? g->ninputs : 1, sizeof *g->muted);
    g->parsers = calloc(g->ninputs, sizeof *g->parsers);
    g->in_procs = calloc(g->ninputs, sizeof *g->in_procs);
    for (uint32_t i = 0; i < g->ninputs; i++) {
        ta_input_cfg *ic = &cfg->inputs[i];
        char e2[512] = "";
        if (ic->parser.type && (r = ta_parser_new(ic->parser.type, ic->parser.conf, &g->parsers[i], e2, sizeof e2)) < 0)
            goto input_fail;
        if ((r = procs_new(ic->procs, ic->nprocs, &g->in_procs[i], e2, sizeof e2)) < 0) goto input_fail;
        ta_input_env env = {
            .pipeline = g->pipeline,
            .ckpt = g->ckpt,
            .info = &ic->info,
            .parser = g->parsers[i],
            .procs = g->in_procs[i],
            .nprocs = ic->nprocs,
            .stats = ta_stats_input(ic->info.name),
        };
        if ((r = ic->type->create(ic->conf, &env, &g->inputs[i], e2, sizeof e2)) < 0) goto input_fail;
        continue;
    input_fail:
        snprintf(err, errlen, "input %s: %s", ic->info.name, *e2 ? e2 : strerror(-r));
        goto fail;
    }
    *out = g;
    return 0;
fail:
    g->cfg = NULL; /* the caller still owns cfg on failure */
    gen_free(g);
    return r < 0 ? r : -EINVAL;
}

static void on_signal(void *arg) {
    ta_agent *a = arg;
    struct signalfd_siginfo si;
    while (read(a->sigfd, &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGHUP) a->reload = 1;
        else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) a->stop = 1;
    }
}

static void on_acks(void *arg) { ta_pipeline_process_acks(((gen *)arg)->pipeline); }
static void on_input(void *arg) { (void)arg; /* inputs are polled every turn */ }

static void gen_attach(ta_agent *a, gen *g) {
    g->loop = ta_loop_new();
    ta_loop_add(g->loop, a->sigfd, on_signal, a);
    ta_loop_add(g->loop, ta_pipeline_fd(g->pipeline), on_acks, g);
    for (uint32_t i = 0; i < g->ninputs; i++) ta_loop_add(g->loop, ta_input_file.fd(g->inputs[i]), on_input, g);
    ta_log_set_level(g->cfg->agent.log_level);
}

int ta_agent_new(ta_config *cfg, const char *config_path, ta_agent **out, char *err, size_t errlen) {
    ta_agent *a = calloc(1, sizeof *a);
    if (!a) abort();
    a->config_path = config_path ? strdup(config_path) : NULL;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    a->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    int r = gen_new(cfg, &a->g, err, errlen);
    if (r < 0) {
        ta_config_free(cfg);
        close(a->sigfd);
        free(a->config_path);
        free(a);
        return r;
    }
    gen_attach(a, a->g);
    metrics_apply(a, cfg->agent.metrics_listen);
    *out = a;
    return 0;
}

/* Drains outputs (bounded by shutdown_timeout) and saves positions. */
static void gen_drain(gen *g) {
    int64_t deadline = ta_mono_ns() + g->cfg->agent.shutdown_timeout;
    ta_pipeline_drain(g->pipeline, deadline);
    if (ta_pipeline_inflight(g->pipeline))
        ta_warn("%u batch(es) not acknowledged in time; they will be read again at the next start",
                ta_pipeline_inflight(g->pipeline));
    ta_ckpt_save(g->ckpt, g->cfg->agent.checkpoint_keep / 1000000000);
}

static void do_reload(ta_agent *a) {
    if (!a->config_path) return;
    char err[1024];
    ta_config *cfg;
    if (ta_config_load(a->config_path, &cfg, err, sizeof err) < 0) {
        ta_error("reload failed, keeping the running config: %s", err);
        return;
    }
    ta_info("reloading %s", a->config_path);
    gen_drain(a->g);
    gen *ng;
    if (gen_new(cfg, &ng, err, sizeof err) < 0) {
        ta_error("reload failed, keeping the running config: %s", err);
        ta_config_free(cfg);
        return; /* the old generation is drained but intact: it resumes */
    }
    /* Positions come from the checkpoint just saved by the old generation. */
    gen_free(a->g);
    a->g = ng;
    gen_attach(a, ng);
    metrics_apply(a, ng->cfg->agent.metrics_listen);
}

int ta_agent_run(ta_agent *a) {
    ta_agent_set_ready(true);
    while (!a->stop) {
        gen *g = a->g;
        if (a->reload) {
            a->reload = 0;
            ta_agent_set_ready(false);
            do_reload(a);
            ta_agent_set_ready(true);
            continue;
        }
        ta_pipeline_process_acks(g->pipeline);
        if (ta_ckpt_dirty(g->ckpt)) ta_ckpt_save(g->ckpt, g->cfg->agent.checkpoint_keep / 1000000000);
        bool more = false;
        for (uint32_t i = 0; i < g->ninputs; i++)
            if (ta_input_file.poll(g->inputs[i], g->cfg->agent.read_budget)) more = true;
        int64_t now = ta_mono_ns();
        if (ta_pipeline_deadline(g->pipeline) <= now) ta_pipeline_flush(g->pipeline);
        int64_t next = ta_pipeline_deadline(g->pipeline);
        bool accepting = ta_pipeline_accepting(g->pipeline);
        if (accepting) {
            for (uint32_t i = 0; i < g->ninputs; i++) {
                int64_t d = ta_input_file.deadline(g->inputs[i]);
                if (d < next) next = d;
            }
            if (more) next = now;
        } else if (next > now + 1000000000) next = now + 1000000000; /* back-pressure: wait for acks */
        /* An input that deferred its events (wake-up batching, in_file.c)
         * is woken by its deadline, not by every write it was told of. */
        for (uint32_t i = 0; i < g->ninputs; i++) {
            bool mute = ta_input_file.deferring(g->inputs[i]);
            if (mute != g->muted[i]) {
                ta_loop_mute(g->loop, ta_input_file.fd(g->inputs[i]), mute);
                g->muted[i] = mute;
            }
        }
        int64_t wait = next - now;
        int ms = wait <= 0 ? 0 : wait > 1000000000 ? 1000 : (int)((wait + 999999) / 1000000);
        ta_loop_wait(g->loop, ms);
    }
    ta_agent_set_ready(false);
    ta_info("stopping: delivering what is in flight, saving positions");
    gen_drain(a->g);
    return 0;
}

void ta_agent_request_stop(ta_agent *a) { a->stop = 1; }

void ta_agent_free(ta_agent *a) {
    if (!a) return;
    metrics_apply(a, NULL);
    gen_free(a->g);
    if (a->sigfd >= 0) close(a->sigfd);
    free(a->config_path);
    free(a);
}
