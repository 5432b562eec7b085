/* fileid.c — see fileid.h. FNV-1a 64: the input is ≤ 1 KiB, read once per
 * file (and a few times while a new file is still shorter than that). */
#include "fileid.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

uint64_t ta_hash64(const void *p, size_t n) {
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static int fingerprint(int fd, uint32_t len, uint64_t *fp, uint32_t *got) {
    unsigned char buf[TA_FP_BYTES];
    size_t n = 0;
    while (n < len) {
        ssize_t r = pread(fd, buf + n, len - n, (off_t)n);
        if (r < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    *got = (uint32_t)n;
    *fp = n ? ta_hash64(buf, n) : 0;
    return 0;
}

int ta_file_identify(int fd, ta_file_id *id, uint64_t *size) {
    struct stat st;
    if (fstat(fd, &st) < 0) return -errno;
    id->dev = (uint64_t)st.st_dev;
    id->ino = (uint64_t)st.st_ino;
    if (size) *size = (uint64_t)st.st_size;
    uint32_t want = st.st_size < TA_FP_BYTES ? (uint32_t)st.st_size : TA_FP_BYTES;
    return fingerprint(fd, want, &id->fp, &id->fp_len);
}

bool ta_file_id_matches(const ta_file_id *known, int fd) {
    struct stat st;
    if (fstat(fd, &st) < 0) return false;
    if ((uint64_t)st.st_dev != known->dev || (uint64_t)st.st_ino != known->ino) return false;
    uint64_t fp = 0;
    uint32_t got = 0;
    if (fingerprint(fd, known->fp_len, &fp, &got) < 0) return false;
    return got == known->fp_len && fp == known->fp;
}
