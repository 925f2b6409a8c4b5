/*
 * range.h - sets of byte ranges.
 *
 * A rangeset is a sorted array of disjoint, non-adjacent half-open ranges
 * [start, end).  The cache uses two per file: the ranges present in the
 * sparse cache file, and the ranges written locally and not yet on the
 * server (dirty).  Pure logic, no I/O: unit-tested in tests/unit/test_range.c.
 */
#ifndef OFSYNC_RANGE_H
#define OFSYNC_RANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct range {
	uint64_t start; /* first byte in the range */
	uint64_t end;	/* one past the last byte; end > start */
};

struct rangeset {
	struct range *v; /* sorted by start, disjoint, never adjacent */
	size_t n;	 /* ranges in use */
	size_t cap;	 /* ranges allocated */
};

#define RANGESET_INIT      \
	{                  \
		NULL, 0, 0 \
	}

void rangeset_init(struct rangeset *rs);
/* Frees the array; the set is empty and reusable afterwards. */
void rangeset_release(struct rangeset *rs);
void rangeset_clear(struct rangeset *rs);
/* Replaces dst with a copy of src.  Returns 0 or -ENOMEM (dst unchanged). */
int rangeset_copy(struct rangeset *dst, const struct rangeset *src);

/*
 * Adds [start, end), merging with overlapping and adjacent ranges.  An empty
 * range (start >= end) is a no-op.  Returns 0 or -ENOMEM (set unchanged).
 */
int rangeset_add(struct rangeset *rs, uint64_t start, uint64_t end);
/* Removes [start, end), splitting a range when needed.  0 or -ENOMEM. */
int rangeset_remove(struct rangeset *rs, uint64_t start, uint64_t end);
/* Removes everything at or beyond size (a truncate).  Never fails. */
void rangeset_truncate(struct rangeset *rs, uint64_t size);

/* True when every byte of [start, end) is in the set; true for an empty range. */
bool rangeset_contains(const struct rangeset *rs, uint64_t start, uint64_t end);
/* True when some byte of [start, end) is in the set. */
bool rangeset_overlaps(const struct rangeset *rs, uint64_t start, uint64_t end);
/* Number of bytes in the set. */
uint64_t rangeset_total(const struct rangeset *rs);
/*
 * Fills out (cleared first) with the parts of [start, end) that are NOT in
 * rs, in order.  Returns 0 or -ENOMEM.
 */
int rangeset_missing(const struct rangeset *rs, uint64_t start, uint64_t end, struct rangeset *out);
/*
 * Fills out (cleared first) with the parts of [start, end) that ARE in rs.
 * Returns 0 or -ENOMEM.
 */
int rangeset_intersect(const struct rangeset *rs, uint64_t start, uint64_t end,
		       struct rangeset *out);

/*
 * Serialization for the index: 16 bytes a range, start then end, each a
 * little-endian uint64.  encode returns a malloc'd buffer (NULL with *len 0
 * for an empty set) or -ENOMEM.  decode replaces rs and returns -EINVAL for
 * a buffer that is not a valid set (length not a multiple of 16, empty,
 * unsorted, overlapping or adjacent ranges); rs is then unchanged.
 */
int rangeset_encode(const struct rangeset *rs, void **buf, size_t *len);
int rangeset_decode(struct rangeset *rs, const void *buf, size_t len);

#endif
