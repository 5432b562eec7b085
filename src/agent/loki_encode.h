/* loki_encode.h — records to a Loki push request body: streams keyed by a
 * small label set, entries of each stream sorted by time, timestamps as
 * strings of unix ns, high-cardinality fields as structured metadata.
 * JSON (optionally gzip'd) or protobuf PushRequest in a snappy block. */
#ifndef TRAILD_LOKI_ENCODE_H
#define TRAILD_LOKI_ENCODE_H

#include "pipeline.h"

/* Fields that must never become labels (one stream per request would be
 * created): they belong in the line or in structured metadata. */
extern const char *const ta_loki_high_cardinality[];

typedef struct ta_loki_enc {
    const char *const *labels;      /* label sources: "category", "input", "level", or a static
                                     * label / field name ("service", "host", "http.request.method") */
    uint32_t nlabels;
    const ta_label *static_labels;  /* added to every stream */
    uint32_t nstatic;
    const char *const *meta;        /* structured metadata: field names (request_id, trace_id, ...) */
    uint32_t nmeta;
    bool json_line;                 /* line = ta_render_json of the record; else the raw line */
} ta_loki_enc;

/* One entry to encode (records of several batches go into one request). */
typedef struct ta_loki_item {
    const ta_batch *b;
    const ta_record *rec;
} ta_loki_item;

/* "service.name" -> "service_name": Loki label names are [a-zA-Z_][a-zA-Z0-9_]*.
 * Writes at most cap-1 bytes. */
void ta_loki_label_name(const char *src, char *out, size_t cap);
/* Checks a label/metadata configuration: NULL if fine, else why not. */
const char *ta_loki_check_labels(const ta_loki_enc *e, char *msg, size_t msglen);

/* Appends the uncompressed body for items[0..n). The caller compresses. */
void ta_loki_encode_json(const ta_loki_enc *e, const ta_loki_item *items, size_t n, ta_buf *out);
void ta_loki_encode_proto(const ta_loki_enc *e, const ta_loki_item *items, size_t n, ta_buf *out);

/* gzip (RFC 1952) / snappy block compression of in into out (replaced). 0 or -1.
 * A ta_gzipper keeps its compressor between calls (one per output thread:
 * not thread-safe); ta_gzip allocates one per call. Levels 1..12 as in
 * libdeflate; 1 and 2 use ISA-L's igzip level 1 where it is installed. */
typedef struct ta_gzipper ta_gzipper;
ta_gzipper *ta_gzipper_new(int level); /* NULL on failure */
void ta_gzipper_free(ta_gzipper *g);
int ta_gzipper_compress(ta_gzipper *g, const char *in, size_t n, ta_buf *out);
int ta_gzip(const char *in, size_t n, ta_buf *out, int level);
int ta_snappy(const char *in, size_t n, ta_buf *out);

#endif
