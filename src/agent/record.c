/* record.c — field helpers on a record. Field arrays live in the batch
 * arena; growing one copies it (old storage is reclaimed with the arena). */
#include <string.h>

#include "pipeline.h"

ta_field *ta_record_add_owned(ta_record *r, ta_arena *a, const char *key, size_t key_len, const char *val,
                              size_t len, ta_kind kind) {
    if (r->nfields == r->fields_cap) {
        uint32_t cap = r->fields_cap ? r->fields_cap * 2 : 16;
        ta_field *nf = ta_arena_alloc(a, cap * sizeof *nf);
        if (r->nfields) memcpy(nf, r->fields, r->nfields * sizeof *nf);
        r->fields = nf;
        r->fields_cap = cap;
    }
    ta_field *f = &r->fields[r->nfields++];
    f->key = key;
    r->key_bloom |= ta_key_bit(key, key_len);
    f->val = val;
    f->val_len = (uint32_t)len;
    f->kind = (uint8_t)kind;
    f->plain = 0;
    f->key_len = 0;
    return f;
}

ta_field *ta_record_add(ta_record *r, ta_arena *a, const char *key, const char *val,
                        size_t len, ta_kind kind) {
    size_t kl = strlen(key);
    if (!val) len = 0;
    return ta_record_add_owned(r, a, ta_arena_strndup(a, key, kl), kl, ta_arena_strndup(a, val ? val : "", len), len,
                               kind);
}

ta_field *ta_record_get(const ta_record *r, const char *key) {
    if (!ta_record_may_have(r, key, strlen(key))) return NULL;
    for (uint32_t i = 0; i < r->nfields; i++)
        if (strcmp(r->fields[i].key, key) == 0) return &r->fields[i];
    return NULL;
}

ta_field *ta_record_set(ta_record *r, ta_arena *a, const char *key, const char *val,
                        size_t len, ta_kind kind) {
    ta_field *f = ta_record_get(r, key);
    if (!f) return ta_record_add(r, a, key, val, len, kind);
    f->val = ta_arena_strndup(a, val ? val : "", val ? len : 0);
    f->val_len = val ? (uint32_t)len : 0;
    f->kind = (uint8_t)kind;
    f->plain = 0;
    f->key_len = 0;
    return f;
}

bool ta_record_del(ta_record *r, const char *key) {
    for (uint32_t i = 0; i < r->nfields; i++) {
        if (strcmp(r->fields[i].key, key) == 0) {
            memmove(&r->fields[i], &r->fields[i + 1], (r->nfields - i - 1) * sizeof *r->fields);
            r->nfields--;
            return true;
        }
    }
    return false;
}

void ta_record_rename(ta_record *r, ta_field *f, const char *key) {
    f->key = key;
    r->key_bloom |= ta_key_bit(key, strlen(key));
}
