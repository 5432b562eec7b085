/* fuzz_store_open.c — the store reopening damaged files. A small valid
 * store (two categories, sealed blocks in a closed and an active segment,
 * a WAL with unsealed entries) is built once; each input then damages one
 * of its files (byte 0 picks the file; bit 7 set: replace the whole file
 * with the rest of the input, else XOR the rest into it at the offset in
 * bytes 1-2). Opening it — as the writer (recovery) and read-only — then
 * reading everything and listing labels must never crash, hang or leak. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"

static char tmpl[256], work[256];
static char *files[16];
static uint8_t *contents[16];
static size_t sizes[16];
static int nfiles;

static void build_template(void) {
    snprintf(tmpl, sizeof tmpl, "/tmp/fuzz-store-tmpl-%d", (int)getpid());
    snprintf(work, sizeof work, "/tmp/fuzz-store-work-%d", (int)getpid());
    trail_store_config c = {.dir = tmpl, .flags = TRAIL_STORE_NO_FSYNC | TRAIL_STORE_NO_BACKGROUND,
                            .block_bytes = 512, .head_bytes = 1024, .segment_bytes = 2048};
    trail_store *s;
    if (trail_store_open(&c, &s, NULL, 0)) abort();
    for (int i = 0; i < 60; i++) {
        char line[96], rid[16];
        snprintf(rid, sizeof rid, "r%d", i / 3);
        snprintf(line, sizeof line, "{\"message\":\"entry %d word%d\",\"request_id\":\"%s\"}", i, i % 7, rid);
        trail_store_label l[1] = {{"service", i % 2 ? "api" : "worker"}};
        trail_store_entry e = {.category = i % 3 ? "app" : "access", .labels = l, .nlabels = 1,
                               .ts_ns = 1800000000000000000LL + i * 1000, .line = line,
                               .line_len = (uint32_t)strlen(line)};
        trail_store_append(s, &e, 1, NULL);
    }
    trail_store_sync(s);
    /* no close: the WAL keeps an unsealed tail, as after a crash */
    const char *cats[2] = {"app", "access"};
    for (int k = 0; k < 2; k++) {
        char d[300];
        snprintf(d, sizeof d, "%s/%s", tmpl, cats[k]);
        DIR *x = opendir(d);
        struct dirent *de;
        while (x && (de = readdir(x)) && nfiles < 16) {
            if (de->d_name[0] == '.') continue;
            char *p = NULL;
            if (asprintf(&p, "%s/%s", cats[k], de->d_name) < 0) abort();
            char full[600];
            snprintf(full, sizeof full, "%s/%s", tmpl, p);
            FILE *f = fopen(full, "rb");
            if (!f) continue;
            fseek(f, 0, SEEK_END);
            sizes[nfiles] = (size_t)ftell(f);
            fseek(f, 0, SEEK_SET);
            contents[nfiles] = malloc(sizes[nfiles] + 1);
            if (fread(contents[nfiles], 1, sizes[nfiles], f) != sizes[nfiles]) abort();
            fclose(f);
            files[nfiles++] = p;
        }
        if (x) closedir(x);
    }
    /* the files were copied while the WAL still had an unsealed tail
     * (close seals it, which is fine for the template dir itself) */
    trail_store_close(s);
}

static void write_file(const char *rel, const uint8_t *p, size_t n) {
    char full[600];
    snprintf(full, sizeof full, "%s/%s", work, rel);
    FILE *f = fopen(full, "wb");
    if (!f) abort();
    if (n && fwrite(p, 1, n, f) != n) abort();
    fclose(f);
}

static void read_all(trail_store *s, bool backward) {
    trail_store_key k = {TRAIL_STORE_KEY_REQUEST_ID, "r4", 2};
    for (int pass = 0; pass < 2; pass++) {
        trail_store_query q = {.backward = backward, .keys = pass ? &k : NULL, .nkeys = pass ? 1 : 0};
        trail_store_iter *it;
        if (trail_store_iter_open(s, &q, &it)) continue;
        const trail_store_entry *e;
        int n = 0;
        while (trail_store_iter_next(it, &e) == 1 && n++ < 100000) {
            volatile size_t sum = e->line_len + e->nlabels;
            (void)sum;
        }
        trail_store_iter_close(it);
    }
    char **v;
    size_t n;
    if (trail_store_label_values(s, "service", 0, 0, &v, &n) == 0) trail_store_strings_free(v, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!nfiles) build_template();
    if (size < 3 || !nfiles) return 0;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s/app %s/access", work, work, work);
    if (system(cmd) != 0) abort();
    int which = (data[0] & 0x7f) % nfiles;
    for (int i = 0; i < nfiles; i++) {
        if (i != which) {
            write_file(files[i], contents[i], sizes[i]);
            continue;
        }
        if (data[0] & 0x80) {
            write_file(files[i], data + 1, size - 1);
        } else {
            uint8_t *m = malloc(sizes[i] + 1);
            memcpy(m, contents[i], sizes[i]);
            size_t off = sizes[i] ? ((size_t)data[1] | (size_t)data[2] << 8) % sizes[i] : 0;
            for (size_t j = 3; j < size && sizes[i]; j++) m[(off + j - 3) % sizes[i]] ^= data[j];
            write_file(files[i], m, sizes[i]);
            free(m);
        }
    }
    trail_store_config ro = {.dir = work, .flags = TRAIL_STORE_READONLY};
    trail_store *s;
    if (trail_store_open(&ro, &s, NULL, 0) == 0) {
        read_all(s, false);
        trail_store_close(s);
    }
    trail_store_config rw = {.dir = work, .flags = TRAIL_STORE_NO_FSYNC | TRAIL_STORE_NO_BACKGROUND};
    if (trail_store_open(&rw, &s, NULL, 0) == 0) {
        read_all(s, true);
        trail_store_close(s);
    }
    return 0;
}
