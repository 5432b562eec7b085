/* fileid.h — file identity: (device, inode) plus a hash of the first
 * TA_FP_BYTES bytes. Inode alone breaks on inode reuse; a first-line
 * fingerprint alone breaks on files with identical headers; together they
 * hold. Files shorter than TA_FP_BYTES are fingerprinted on what they have
 * and re-fingerprinted as they grow. */
#ifndef TRAILD_FILEID_H
#define TRAILD_FILEID_H
#include "pipeline.h"

uint64_t ta_hash64(const void *p, size_t n);
/* fstat + fingerprint of an open file. *size gets its size. 0 or -errno. */
int ta_file_identify(int fd, ta_file_id *id, uint64_t *size);
/* True when the open file fd is the file `known` describes: same device and
 * inode, and its first known->fp_len bytes hash to known->fp. */
bool ta_file_id_matches(const ta_file_id *known, int fd);

#endif
