/* SPDX-License-Identifier: MIT */
/* Integers of any width at any bit offset, and floats, in the bytes of a
 * value: what a BTF-typed value (ints, enums, bitfields) is made of. */
#ifndef EBPFDSL_SCALAR_BITS_H
#define EBPFDSL_SCALAR_BITS_H

#include <stdint.h>

/* The nbits-bit integer (1..64) at bit `bit` of base, sign-extended when
 * is_signed: whole bytes of 1, 2, 4 or 8 in host order, other widths bit
 * k of the field at bit (bit + k) % 8 of byte (bit + k) / 8, as x86 and
 * the little-endian BPF target lay bitfields out. */
int64_t ebpfdsl_bits_get(const void *base, uint32_t bit, uint32_t nbits, int is_signed);
/* Writes the low nbits bits of v there, the bytes' other bits kept. */
void ebpfdsl_bits_set(void *base, uint32_t bit, uint32_t nbits, uint64_t v);
/* Does v fit nbits bits of that sign? 64 bits take any value. lo and hi
 * get the bounds, for messages. */
int ebpfdsl_bits_fit(int64_t v, uint32_t nbits, int is_signed, int64_t *lo, int64_t *hi);
/* A float of size 4 or 8 at p: 0 with *v, or -1 for another size. */
int ebpfdsl_float_get(const void *p, uint32_t size, double *v);
int ebpfdsl_float_set(void *p, uint32_t size, double v);

#endif
