/* config.c — YAML (libyaml document API, which keeps line:column marks) to
 * config structs through option tables. Every error names the place and
 * what would be valid. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "arena.h"

static const ta_option agent_options[] = {
    {"state_dir", TA_OPT_STR, "/var/lib/traild", offsetof(ta_agent_cfg, state_dir),
     "directory of the checkpoint file (positions.ckpt); must be writable", NULL, false},
    {"shutdown_timeout", TA_OPT_DURATION, "10s", offsetof(ta_agent_cfg, shutdown_timeout),
     "on SIGTERM/reload, how long outputs may take to deliver what is in flight", NULL, false},
    {"checkpoint_keep", TA_OPT_DURATION, "168h", offsetof(ta_agent_cfg, checkpoint_keep),
     "forget positions of files not seen for this long", NULL, false},
    {"log_level", TA_OPT_ENUM, "info", offsetof(ta_agent_cfg, log_level), "traild's own log level",
     "debug|info|warning|error", false},
    {"metrics_listen", TA_OPT_STR, "127.0.0.1:9180", offsetof(ta_agent_cfg, metrics_listen),
     "IPv4 address:port for /metrics (Prometheus text) and /ready; `off` disables; a reload (SIGHUP) moves it", NULL, false},
    TA_OPTIONS_END,
};

static const ta_option pipeline_options[] = {
    {"batch_max_records", TA_OPT_INT, "4096", offsetof(ta_agent_cfg, batch_max_records),
     "a batch is sent when it has this many entries", NULL, false},
    {"batch_max_bytes", TA_OPT_SIZE, "1MiB", offsetof(ta_agent_cfg, batch_max_bytes),
     "... or this many bytes of lines", NULL, false},
    {"batch_max_wait", TA_OPT_DURATION, "1s", offsetof(ta_agent_cfg, batch_max_wait),
     "... or its first entry waited this long (Promtail's batchwait and Fluent Bit's Flush are 1s too; "
     "shorter ships sooner and costs a checkpoint save and an output request per batch)",
     NULL, false},
    {"max_inflight_batches", TA_OPT_INT, "4", offsetof(ta_agent_cfg, max_inflight),
     "batches sent but not yet acknowledged by every output; reading pauses at this (bounded memory)", NULL,
     false},
    {"read_budget", TA_OPT_SIZE, "4MiB", offsetof(ta_agent_cfg, read_budget),
     "bytes read per input per loop turn (fairness between inputs)", NULL, false},
    TA_OPTIONS_END,
};

/* Keys every input has besides its type's options. */
typedef struct input_common {
    const char *name, *type, *category;
    ta_labels labels;
} input_common;
static const ta_option input_options[] = {
    {"name", TA_OPT_STR, NULL, offsetof(input_common, name),
     "unique name (letters, digits, _ . -); keys positions and metrics", NULL, true},
    {"type", TA_OPT_STR, "file", offsetof(input_common, type), "input type", NULL, false},
    {"category", TA_OPT_STR, "app", offsetof(input_common, category),
     "app, access, or any name; drives retention and routing downstream", NULL, false},
    {"labels", TA_OPT_MAP, NULL, offsetof(input_common, labels),
     "static labels (service, host, ...) attached to every entry", NULL, false},
    {"parser", TA_OPT_STR, "none", 0,
     "parser name, or a mapping {type: <parser>, <options>}; none = raw lines", NULL, false},
    {"processors", TA_OPT_STRLIST, NULL, 0, "list of processors (mappings with `type`) run on every entry of this input", NULL, false},
    TA_OPTIONS_END,
};

typedef struct output_common {
    const char *name, *type;
} output_common;
static const ta_option output_options[] = {
    {"name", TA_OPT_STR, NULL, offsetof(output_common, name), "unique name; keys metrics (default: the type)",
     NULL, false},
    {"type", TA_OPT_STR, NULL, offsetof(output_common, type), "output type", NULL, true},
    {"processors", TA_OPT_STRLIST, NULL, 0, "list of processors (mappings with `type`) run for this output only", NULL, false},
    TA_OPTIONS_END,
};

typedef struct loader {
    yaml_document_t doc;
    const char *name;
    char *err;
    size_t errlen;
    ta_arena *arena;
} loader;

__attribute__((format(printf, 3, 4))) static int fail(loader *L, yaml_node_t *n, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n)
        snprintf(L->err, L->errlen, "%s:%zu:%zu: %s", L->name, n->start_mark.line + 1, n->start_mark.column + 1,
                 msg);
    else snprintf(L->err, L->errlen, "%s: %s", L->name, msg);
    return -EINVAL;
}

static yaml_node_t *node(loader *L, int i) { return yaml_document_get_node(&L->doc, i); }
static const char *scalar(yaml_node_t *n) {
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

int ta_parse_size(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v < 0) return -EINVAL;
    while (*end == ' ') end++;
    static const struct { const char *u; double m; } units[] = {
        {"", 1}, {"B", 1}, {"K", 1024}, {"KB", 1000}, {"KiB", 1024}, {"M", 1048576}, {"MB", 1e6},
        {"MiB", 1048576}, {"G", 1073741824.0}, {"GB", 1e9}, {"GiB", 1073741824.0},
    };
    for (size_t i = 0; i < sizeof units / sizeof *units; i++)
        if (strcmp(end, units[i].u) == 0) {
            if (v * units[i].m >= 9e18) return -EINVAL;
            *out = (uint64_t)(v * units[i].m);
            return 0;
        }
    return -EINVAL;
}

int ta_parse_duration(const char *s, int64_t *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v < 0) return -EINVAL;
    static const struct { const char *u; double m; } units[] = {
        {"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}, {"d", 86400e9},
    };
    if (*end == 0 && v == 0) {
        *out = 0;
        return 0;
    }
    for (size_t i = 0; i < sizeof units / sizeof *units; i++)
        if (strcmp(end, units[i].u) == 0) {
            if (v * units[i].m >= 9e18) return -EINVAL;
            *out = (int64_t)(v * units[i].m);
            return 0;
        }
    return -EINVAL;
}

static int parse_bool(const char *s, bool *b) {
    static const char *yes[] = {"true", "yes", "on", "1"}, *no[] = {"false", "no", "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) return *b = true, 0;
        if (strcasecmp(s, no[i]) == 0) return *b = false, 0;
    }
    return -EINVAL;
}

static int parse_enum(const char *choices, const char *s) {
    int idx = 0;
    size_t sl = strlen(s);
    for (const char *p = choices; *p; idx++) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == sl && strncmp(p, s, n) == 0) return idx;
        p = bar ? bar + 1 : p + n;
    }
    return -1;
}

static const char *dup(loader *L, const char *s) { return ta_arena_strndup(L->arena, s, strlen(s)); }

/* Sets one option from a scalar text (a default, or a YAML value). */
static int set_scalar(loader *L, yaml_node_t *n, const ta_option *o, void *conf, const char *s, const char *ctx) {
    char *dst = (char *)conf + o->offset;
    switch (o->type) {
    case TA_OPT_STR: *(const char **)dst = dup(L, s); return 0;
    case TA_OPT_INT: {
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (end == s || *end || errno) return fail(L, n, "%s%s: expected an integer, got '%s'", ctx, o->key, s);
        *(int64_t *)dst = v;
        return 0;
    }
    case TA_OPT_BOOL:
        if (parse_bool(s, (bool *)dst) < 0) return fail(L, n, "%s%s: expected true or false, got '%s'", ctx, o->key, s);
        return 0;
    case TA_OPT_SIZE:
        if (ta_parse_size(s, (uint64_t *)dst) < 0)
            return fail(L, n, "%s%s: expected a size like 512, 64KiB or 1MB, got '%s'", ctx, o->key, s);
        return 0;
    case TA_OPT_DURATION:
        if (ta_parse_duration(s, (int64_t *)dst) < 0)
            return fail(L, n, "%s%s: expected a duration like 250ms, 5s or 1m, got '%s'", ctx, o->key, s);
        return 0;
    case TA_OPT_ENUM: {
        int i = parse_enum(o->choices, s);
        if (i < 0) return fail(L, n, "%s%s: expected one of %s, got '%s'", ctx, o->key, o->choices, s);
        *(int *)dst = i;
        return 0;
    }
    case TA_OPT_STRLIST: { /* a single string, or (defaults) comma-separated */
        ta_strlist *l = (ta_strlist *)dst;
        size_t cnt = 1;
        for (const char *p = s; *p; p++) cnt += n == NULL && *p == ',';
        l->v = ta_arena_alloc(L->arena, cnt * sizeof *l->v);
        l->n = 0;
        if (n) {
            l->v[l->n++] = dup(L, s);
            return 0;
        }
        for (const char *p = s; *p;) {
            const char *c = strchr(p, ',');
            size_t len = c ? (size_t)(c - p) : strlen(p);
            l->v[l->n++] = ta_arena_strndup(L->arena, p, len);
            p += len + (c != NULL);
        }
        return 0;
    }
    case TA_OPT_MAP: return fail(L, n, "%s%s: expected a mapping of names to values", ctx, o->key);
    }
    return -EINVAL;
}

static int set_node(loader *L, yaml_node_t *v, const ta_option *o, void *conf, const char *ctx) {
    char *dst = (char *)conf + o->offset;
    if (o->type == TA_OPT_STRLIST && v->type == YAML_SEQUENCE_NODE) {
        ta_strlist *l = (ta_strlist *)dst;
        size_t cnt = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
        l->v = ta_arena_alloc(L->arena, (cnt ? cnt : 1) * sizeof *l->v);
        l->n = 0;
        for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
            yaml_node_t *e = node(L, *it);
            if (!scalar(e)) return fail(L, e, "%s%s: expected a list of strings", ctx, o->key);
            l->v[l->n++] = dup(L, scalar(e));
        }
        return 0;
    }
    if (o->type == TA_OPT_MAP) {
        if (v->type != YAML_MAPPING_NODE) return fail(L, v, "%s%s: expected a mapping of names to values", ctx, o->key);
        ta_labels *m = (ta_labels *)dst;
        size_t cnt = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
        m->v = ta_arena_alloc(L->arena, (cnt ? cnt : 1) * sizeof *m->v);
        m->n = 0;
        for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
            yaml_node_t *k = node(L, p->key), *val = node(L, p->value);
            if (!scalar(k) || !scalar(val)) return fail(L, val, "%s%s: values must be plain strings", ctx, o->key);
            m->v[m->n].name = dup(L, scalar(k));
            m->v[m->n++].value = dup(L, scalar(val));
        }
        return 0;
    }
    if (!scalar(v)) return fail(L, v, "%s%s: expected a single value", ctx, o->key);
    return set_scalar(L, v, o, conf, scalar(v), ctx);
}

static const ta_option *find_opt(const ta_option *t, const char *key) {
    for (; t && t->key; t++)
        if (strcmp(t->key, key) == 0) return t;
    return NULL;
}

static void known_keys(char *out, size_t cap, const ta_option *a, const ta_option *b) {
    size_t len = 0;
    out[0] = 0;
    for (int pass = 0; pass < 2; pass++)
        for (const ta_option *t = pass ? b : a; t && t->key; t++) {
            int n = snprintf(out + len, cap - len, "%s%s", len ? ", " : "", t->key);
            if (n < 0 || (size_t)n >= cap - len) return;
            len += (size_t)n;
        }
}

static int apply_defaults(loader *L, const ta_option *t, void *conf) {
    for (; t && t->key; t++)
        if (t->def && t->offset != 0 + (size_t)-1 && strcmp(t->key, "parser") && strcmp(t->key, "processors")) {
            int r = set_scalar(L, NULL, t, conf, t->def, "default of ");
            if (r) return r;
        }
    return 0;
}

/* Fills conf_a (table a) and conf_b (table b) from mapping m. Keys in
 * `skip` are handled by the caller. */
static int fill(loader *L, yaml_node_t *m, const ta_option *a, void *conf_a, const ta_option *b, void *conf_b,
                const char *ctx, const char *const *skip) {
    int r;
    if ((r = apply_defaults(L, a, conf_a)) || (r = apply_defaults(L, b, conf_b))) return r;
    if (m->type != YAML_MAPPING_NODE) return fail(L, m, "%sexpected a mapping (key: value)", ctx);
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(L, p->key), *v = node(L, p->value);
        const char *key = scalar(k);
        if (!key) return fail(L, k, "%skeys must be plain strings", ctx);
        bool skipped = false;
        for (const char *const *s = skip; s && *s; s++) skipped |= strcmp(*s, key) == 0;
        if (skipped) continue;
        const ta_option *o = find_opt(a, key);
        void *conf = conf_a;
        if (!o) {
            o = find_opt(b, key);
            conf = conf_b;
        }
        if (!o) {
            char kk[512];
            known_keys(kk, sizeof kk, a, b);
            return fail(L, k, "%sunknown key '%s' (known: %s)", ctx, key, kk);
        }
        if ((r = set_node(L, v, o, conf, ctx))) return r;
    }
    for (int pass = 0; pass < 2; pass++)
        for (const ta_option *t = pass ? b : a; t && t->key; t++) {
            if (!t->required) continue;
            bool found = false;
            for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++)
                found |= scalar(node(L, p->key)) && strcmp(scalar(node(L, p->key)), t->key) == 0;
            if (!found) return fail(L, m, "%smissing required key '%s' (%s)", ctx, t->key, t->help);
        }
    return 0;
}

static yaml_node_t *get(loader *L, yaml_node_t *m, const char *key) {
    if (!m || m->type != YAML_MAPPING_NODE) return NULL;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++)
        if (scalar(node(L, p->key)) && strcmp(scalar(node(L, p->key)), key) == 0) return node(L, p->value);
    return NULL;
}

static bool valid_name(const char *s) {
    if (!*s) return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("_.-", *s)) return false;
    return true;
}

static void *new_conf(loader *L, size_t size) {
    void *p = ta_arena_alloc(L->arena, size ? size : 1);
    memset(p, 0, size ? size : 1);
    return p;
}

static int load_parser(loader *L, yaml_node_t *v, ta_plugin_cfg *out, const char *ctx) {
    const char *tname = scalar(v);
    yaml_node_t *map = NULL;
    if (!tname) {
        map = v;
        tname = scalar(get(L, v, "type"));
        if (!tname) return fail(L, v, "%sparser: expected a name or a mapping with 'type'", ctx);
    }
    if (strcmp(tname, "none") == 0) return 0;
    const ta_parser_type *t = ta_parser_type_find(tname);
    if (!t) {
        char names[256] = "none";
        for (const ta_parser_type *const *p = ta_parser_types(); *p; p++)
            snprintf(names + strlen(names), sizeof names - strlen(names), ", %s", (*p)->name);
        return fail(L, v, "%sunknown parser '%s' (known: %s)", ctx, tname, names);
    }
    out->type = t;
    out->conf = new_conf(L, t->conf_size);
    char c2[160];
    snprintf(c2, sizeof c2, "%sparser %s: ", ctx, tname);
    static const char *const skip[] = {"type", NULL};
    if (map) return fill(L, map, t->options, out->conf, NULL, NULL, c2, skip);
    return apply_defaults(L, t->options, out->conf);
}

static int load_procs(loader *L, yaml_node_t *v, ta_plugin_cfg **out, uint32_t *n, const char *ctx) {
    if (!v) return 0;
    if (v->type != YAML_SEQUENCE_NODE) return fail(L, v, "%sprocessors: expected a list", ctx);
    size_t cnt = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    *out = ta_arena_alloc(L->arena, (cnt ? cnt : 1) * sizeof **out);
    *n = 0;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *e = node(L, *it);
        const char *tname = scalar(get(L, e, "type"));
        if (!tname) return fail(L, e, "%sprocessors[%u]: expected a mapping with 'type'", ctx, *n);
        const ta_processor_type *t = ta_processor_type_find(tname);
        if (!t) {
            char names[256] = "";
            for (const ta_processor_type *const *p = ta_processor_types(); *p; p++)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", *names ? ", " : "", (*p)->name);
            return fail(L, get(L, e, "type"), "%sunknown processor '%s' (known: %s)", ctx, tname, names);
        }
        char c2[160];
        snprintf(c2, sizeof c2, "%sprocessors[%u] (%s): ", ctx, *n, tname);
        ta_plugin_cfg *pc = &(*out)[(*n)++];
        pc->type = t;
        pc->conf = new_conf(L, t->conf_size);
        static const char *const skip[] = {"type", NULL};
        int r = fill(L, e, t->options, pc->conf, NULL, NULL, c2, skip);
        if (r) return r;
        /* Validate now (regexes, field names) so --check-config catches it. */
        ta_processor *tmp = NULL;
        char perr[256] = "";
        if (t->create(pc->conf, &tmp, perr, sizeof perr) < 0) return fail(L, e, "%s%s", c2, perr);
        if (tmp) t->destroy(tmp);
    }
    return 0;
}

static int load_input(loader *L, yaml_node_t *m, ta_input_cfg *ic, uint32_t idx) {
    char ctx[96];
    snprintf(ctx, sizeof ctx, "inputs[%u]: ", idx);
    input_common com = {0};
    const char *tname = scalar(get(L, m, "type"));
    if (m->type == YAML_MAPPING_NODE && tname && strcmp(tname, "file") != 0)
        return fail(L, get(L, m, "type"), "%sunknown input type '%s' (known: file)", ctx, tname);
    ic->type = &ta_input_file;
    ic->conf = new_conf(L, ic->type->conf_size);
    static const char *const skip[] = {"parser", "processors", NULL};
    int r = fill(L, m, input_options, &com, ic->type->options, ic->conf, ctx, skip);
    if (r) return r;
    if (!valid_name(com.name)) return fail(L, get(L, m, "name"), "%sname '%s': use letters, digits, _ . -", ctx, com.name);
    snprintf(ctx, sizeof ctx, "input %s: ", com.name);
    ic->info.name = com.name;
    ic->info.type = com.type;
    ic->info.category = com.category;
    ic->info.labels = com.labels.v;
    ic->info.nlabels = com.labels.n;
    yaml_node_t *pv = get(L, m, "parser");
    if (pv && (r = load_parser(L, pv, &ic->parser, ctx))) return r;
    if ((r = load_procs(L, get(L, m, "processors"), &ic->procs, &ic->nprocs, ctx))) return r;
    /* Let the type validate what only it understands (regexes). */
    char e2[256] = "";
    if (ic->type->validate && ic->type->validate(ic->conf, e2, sizeof e2) < 0) return fail(L, m, "%s%s", ctx, e2);
    return 0;
}

static int load_output(loader *L, yaml_node_t *m, ta_output_cfg *oc, uint32_t idx) {
    char ctx[96];
    snprintf(ctx, sizeof ctx, "outputs[%u]: ", idx);
    if (m->type != YAML_MAPPING_NODE) return fail(L, m, "%sexpected a mapping with 'type'", ctx);
    const char *tname = scalar(get(L, m, "type"));
    if (!tname) return fail(L, m, "%smissing required key 'type'", ctx);
    oc->type = ta_output_type_find(tname);
    if (!oc->type) {
        char names[256] = "";
        for (const ta_output_type *const *p = ta_output_types(); *p; p++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", *names ? ", " : "", (*p)->name);
        return fail(L, get(L, m, "type"), "%sunknown output type '%s' (known: %s)", ctx, tname, names);
    }
    output_common com = {0};
    oc->conf = new_conf(L, oc->type->conf_size);
    static const char *const skip[] = {"processors", NULL};
    int r = fill(L, m, output_options, &com, oc->type->options, oc->conf, ctx, skip);
    if (r) return r;
    oc->name = com.name ? com.name : oc->type->name;
    if (!valid_name(oc->name)) return fail(L, m, "%sname '%s': use letters, digits, _ . -", ctx, oc->name);
    snprintf(ctx, sizeof ctx, "output %s: ", oc->name);
    char e2[512] = "";
    if (oc->type->validate && oc->type->validate(oc->conf, e2, sizeof e2) < 0) return fail(L, m, "%s%s", ctx, e2);
    return load_procs(L, get(L, m, "processors"), &oc->procs, &oc->nprocs, ctx);
}

static int load_root(loader *L, ta_config *c) {
    yaml_node_t *root = yaml_document_get_root_node(&L->doc);
    if (!root) return fail(L, NULL, "empty configuration: it needs at least 'inputs' and 'outputs'");
    static const char *const skip[] = {"inputs", "outputs", "pipeline", NULL};
    int r = fill(L, root, agent_options, &c->agent, NULL, NULL, "", skip);
    if (r) return r;
    yaml_node_t *pl = get(L, root, "pipeline");
    if (pl) r = fill(L, pl, pipeline_options, &c->agent, NULL, NULL, "pipeline: ", NULL);
    else r = apply_defaults(L, pipeline_options, &c->agent);
    if (r) return r;
    if (c->agent.batch_max_records < 1 || c->agent.max_inflight < 1)
        return fail(L, pl, "pipeline: batch_max_records and max_inflight_batches must be at least 1");
    yaml_node_t *ins = get(L, root, "inputs"), *outs = get(L, root, "outputs");
    if (!ins || ins->type != YAML_SEQUENCE_NODE || ins->data.sequence.items.top == ins->data.sequence.items.start)
        return fail(L, ins ? ins : root, "'inputs' must be a non-empty list of inputs");
    if (!outs || outs->type != YAML_SEQUENCE_NODE || outs->data.sequence.items.top == outs->data.sequence.items.start)
        return fail(L, outs ? outs : root, "'outputs' must be a non-empty list of outputs");
    size_t ni = (size_t)(ins->data.sequence.items.top - ins->data.sequence.items.start);
    size_t no = (size_t)(outs->data.sequence.items.top - outs->data.sequence.items.start);
    c->inputs = new_conf(L, ni * sizeof *c->inputs);
    c->outputs = new_conf(L, no * sizeof *c->outputs);
    for (size_t i = 0; i < ni; i++) {
        yaml_node_t *m = node(L, ins->data.sequence.items.start[i]);
        if ((r = load_input(L, m, &c->inputs[i], (uint32_t)i))) return r;
        for (uint32_t k = 0; k < i; k++)
            if (strcmp(c->inputs[k].info.name, c->inputs[i].info.name) == 0)
                return fail(L, m, "inputs[%zu]: name '%s' is already used by inputs[%u]", i, c->inputs[i].info.name, k);
        c->ninputs++;
    }
    for (size_t i = 0; i < no; i++) {
        yaml_node_t *m = node(L, outs->data.sequence.items.start[i]);
        if ((r = load_output(L, m, &c->outputs[i], (uint32_t)i))) return r;
        for (uint32_t k = 0; k < i; k++)
            if (strcmp(c->outputs[k].name, c->outputs[i].name) == 0)
                return fail(L, m, "outputs[%zu]: name '%s' is already used by outputs[%u]; set distinct names", i,
                            c->outputs[i].name, k);
        c->noutputs++;
    }
    return 0;
}

int ta_config_parse(const char *text, size_t len, const char *name, ta_config **out, char *err, size_t errlen) {
    loader L = {.name = name, .err = err, .errlen = errlen};
    yaml_parser_t p;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    if (!yaml_parser_load(&p, &L.doc)) {
        snprintf(err, errlen, "%s:%zu:%zu: YAML syntax error: %s%s%s", name, p.problem_mark.line + 1,
                 p.problem_mark.column + 1, p.problem ? p.problem : "?", p.context ? " " : "", p.context ? p.context : "");
        yaml_parser_delete(&p);
        return -EINVAL;
    }
    yaml_parser_delete(&p);
    ta_config *c = calloc(1, sizeof *c);
    if (!c) abort();
    c->arena = L.arena = ta_arena_new();
    int r = load_root(&L, c);
    yaml_document_delete(&L.doc);
    if (r) {
        ta_config_free(c);
        return r;
    }
    *out = c;
    return 0;
}

int ta_config_load(const char *path, ta_config **out, char *err, size_t errlen) {
    FILE *f = fopen(path, "re");
    if (!f) {
        snprintf(err, errlen, "cannot open config %s: %s", path, strerror(errno));
        return -errno;
    }
    char *text = NULL;
    size_t cap = 0, len = 0;
    for (;;) {
        if (cap - len < 4096) {
            cap = cap ? cap * 2 : 8192;
            text = realloc(text, cap);
            if (!text) abort();
        }
        size_t n = fread(text + len, 1, cap - len, f);
        if (!n) break;
        len += n;
    }
    fclose(f);
    int r = ta_config_parse(text, len, path, out, err, errlen);
    free(text);
    return r;
}

void ta_config_free(ta_config *c) {
    if (!c) return;
    ta_arena_free(c->arena);
    free(c);
}

static const char *type_name(ta_opt_type t) {
    static const char *n[] = {"string", "integer", "bool", "size", "duration", "enum", "list of strings", "mapping"};
    return n[t];
}

/* Markdown table cells: '|' must be escaped. */
static void cell(FILE *f, const char *s) {
    for (; s && *s; s++) {
        if (*s == '|') fputc('\\', f);
        fputc(*s, f);
    }
}

static void print_table(FILE *f, const ta_option *t) {
    fprintf(f, "| key | type | default | description |\n|---|---|---|---|\n");
    for (; t && t->key; t++) {
        fprintf(f, "| `%s` | %s", t->key, type_name(t->type));
        if (t->choices) {
            fputs(": ", f);
            cell(f, t->choices);
        }
        fputs(" | ", f);
        if (t->required) fputs("**required**", f);
        else if (t->def) {
            fputc('`', f);
            cell(f, t->def);
            fputc('`', f);
        } else fputs("—", f);
        fputs(" | ", f);
        cell(f, t->help);
        fputs(" |\n", f);
    }
    fputc('\n', f);
}

void ta_config_print_options(FILE *f) {
    fprintf(f, "## Top level\n\n");
    print_table(f, agent_options);
    fprintf(f, "## `pipeline:`\n\n");
    print_table(f, pipeline_options);
    fprintf(f, "## `inputs:` (a list) — keys of every input\n\n");
    print_table(f, input_options);
    fprintf(f, "### input type `%s` — %s\n\n", ta_input_file.name, ta_input_file.help);
    print_table(f, ta_input_file.options);
    fprintf(f, "## Parsers (`parser:`)\n\n");
    for (const ta_parser_type *const *p = ta_parser_types(); *p; p++) {
        fprintf(f, "### parser `%s` — %s\n\n", (*p)->name, (*p)->help);
        print_table(f, (*p)->options);
    }
    fprintf(f, "## Processors (`processors:`, a list of mappings with `type`)\n\n");
    for (const ta_processor_type *const *p = ta_processor_types(); *p; p++) {
        fprintf(f, "### processor `%s` — %s\n\n", (*p)->name, (*p)->help);
        print_table(f, (*p)->options);
    }
    fprintf(f, "## `outputs:` (a list) — keys of every output\n\n");
    print_table(f, output_options);
    for (const ta_output_type *const *p = ta_output_types(); *p; p++) {
        fprintf(f, "### output type `%s` — %s\n\n", (*p)->name, (*p)->help);
        print_table(f, (*p)->options);
    }
}
