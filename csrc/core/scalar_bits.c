/* SPDX-License-Identifier: MIT */
/* Integers at any bit offset and floats, read and written in place, for
 * BTF-typed values (the layout codec's scalars are rows in layout_codec.c). */
#include <string.h>
#include "scalar_bits.h"

static int whole(uint32_t bit, uint32_t nbits)
{
	return bit % 8 == 0 && (nbits == 8 || nbits == 16 || nbits == 32 || nbits == 64);
}

int64_t ebpfdsl_bits_get(const void *base, uint32_t bit, uint32_t nbits, int is_signed)
{
	const unsigned char *p = (const unsigned char *)base + bit / 8;
	uint64_t v = 0;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	if (nbits == 0 || nbits > 64)
		return 0;
	if (whole(bit, nbits)) {
		switch (nbits) {
		case 8: memcpy(&u8, p, 1); v = u8; break;
		case 16: memcpy(&u16, p, 2); v = u16; break;
		case 32: memcpy(&u32, p, 4); v = u32; break;
		default: memcpy(&v, p, 8); break;
		}
	} else {
		for (uint32_t k = 0; k < nbits; k++)
			if (p[(bit % 8 + k) / 8] & (1u << ((bit + k) % 8)))
				v |= (uint64_t)1 << k;
	}
	if (is_signed && nbits < 64 && (v >> (nbits - 1)) & 1)
		v |= ~(uint64_t)0 << nbits;
	return (int64_t)v;
}

void ebpfdsl_bits_set(void *base, uint32_t bit, uint32_t nbits, uint64_t v)
{
	unsigned char *p = (unsigned char *)base + bit / 8;
	uint8_t u8 = (uint8_t)v;
	uint16_t u16 = (uint16_t)v;
	uint32_t u32 = (uint32_t)v;
	if (nbits == 0 || nbits > 64)
		return;
	if (whole(bit, nbits)) {
		switch (nbits) {
		case 8: memcpy(p, &u8, 1); break;
		case 16: memcpy(p, &u16, 2); break;
		case 32: memcpy(p, &u32, 4); break;
		default: memcpy(p, &v, 8); break;
		}
		return;
	}
	for (uint32_t k = 0; k < nbits; k++) {
		unsigned char *byte = p + (bit % 8 + k) / 8, mask = (unsigned char)(1u << ((bit + k) % 8));
		*byte = (v >> k) & 1 ? (unsigned char)(*byte | mask) : (unsigned char)(*byte & ~mask);
	}
}

int ebpfdsl_bits_fit(int64_t v, uint32_t nbits, int is_signed, int64_t *lo, int64_t *hi)
{
	if (nbits >= 64 || nbits == 0) {
		*lo = INT64_MIN;
		*hi = INT64_MAX;
		return 1;
	}
	*lo = is_signed ? -((int64_t)1 << (nbits - 1)) : 0;
	*hi = is_signed ? ((int64_t)1 << (nbits - 1)) - 1 : (int64_t)(((uint64_t)1 << nbits) - 1);
	return v >= *lo && v <= *hi;
}

int ebpfdsl_float_get(const void *p, uint32_t size, double *v)
{
	float f;
	if (size == 8) {
		memcpy(v, p, 8);
	} else if (size == 4) {
		memcpy(&f, p, 4);
		*v = f;
	} else {
		return -1;
	}
	return 0;
}

int ebpfdsl_float_set(void *p, uint32_t size, double v)
{
	float f = (float)v;
	if (size == 8)
		memcpy(p, &v, 8);
	else if (size == 4)
		memcpy(p, &f, 4);
	else
		return -1;
	return 0;
}
