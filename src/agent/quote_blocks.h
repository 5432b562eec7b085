/* quote_blocks.h — JSON-escapes the quotes and backslashes of plain ASCII
 * text 16 bytes at a time without a branch per quote (a JSON line shipped
 * inside a JSON body has a quote every ~10 bytes). */
#ifndef TRAILD_QUOTE_BLOCKS_H
#define TRAILD_QUOTE_BLOCKS_H
#include <stddef.h>

/* Escapes whole 16-byte blocks of s[0..n) into o while they hold only
 * printable ASCII (any '"' or '\\' gets its backslash); stops at the first
 * block with a control byte or a byte >= 0x80, or when fewer than 16 bytes
 * are left. *used = input bytes consumed; returns output bytes written.
 * o needs room for 2 * n + 16 bytes. Returns 0 (used 0) on CPUs without
 * SSSE3: the caller's general loop does everything then. */
size_t ta_quote_blocks(const char *s, size_t n, char *o, size_t *used);

#endif
