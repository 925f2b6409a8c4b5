/*
 * range.c - sets of byte ranges; see range.h.
 *
 * The set is a sorted array, so every lookup is a binary search and every
 * change is one memmove.  Each mutating function first works out which
 * slots [i, j) of the array it touches and makes sure the array is large
 * enough, and only then writes: a failed allocation leaves the set exactly
 * as it was.
 */
#include "util/range.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define RANGE_WIRE_SIZE 16 /* bytes per range in the encoded form */

void rangeset_init(struct rangeset *rs)
{
	rs->v = NULL;
	rs->n = 0;
	rs->cap = 0;
}

void rangeset_release(struct rangeset *rs)
{
	free(rs->v);
	rangeset_init(rs);
}

void rangeset_clear(struct rangeset *rs)
{
	rs->n = 0;
}

/* Makes room for at least need ranges.  Returns 0 or -ENOMEM (set unchanged). */
static int rangeset_reserve(struct rangeset *rs, size_t need)
{
	struct range *v;
	size_t cap;

	if (need <= rs->cap)
		return 0;
	cap = rs->cap ? rs->cap : 4;
	while (cap < need) {
		if (cap > SIZE_MAX / 2)
			return -ENOMEM;
		cap *= 2;
	}
	if (cap > SIZE_MAX / sizeof(*v))
		return -ENOMEM;
	v = realloc(rs->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	rs->v = v;
	rs->cap = cap;
	return 0;
}

int rangeset_copy(struct rangeset *dst, const struct rangeset *src)
{
	int rc;

	if (dst == src)
		return 0;
	rc = rangeset_reserve(dst, src->n);
	if (rc < 0)
		return rc;
	if (src->n)
		memcpy(dst->v, src->v, src->n * sizeof(*src->v));
	dst->n = src->n;
	return 0;
}

/* Index of the first range whose end is >= off (n when there is none). */
static size_t first_end_ge(const struct rangeset *rs, uint64_t off)
{
	size_t lo = 0, hi = rs->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (rs->v[mid].end >= off)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Index of the first range whose start is > off (n when there is none). */
static size_t first_start_gt(const struct rangeset *rs, uint64_t off)
{
	size_t lo = 0, hi = rs->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (rs->v[mid].start > off)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/*
 * Replaces the ranges at [i, j) with the k ranges in repl (k may differ from
 * j - i).  The caller has reserved room for n - (j - i) + k ranges.
 */
static void splice(struct rangeset *rs, size_t i, size_t j, const struct range *repl, size_t k)
{
	size_t tail = rs->n - j;

	if (k != j - i && tail)
		memmove(&rs->v[i + k], &rs->v[j], tail * sizeof(*rs->v));
	if (k)
		memcpy(&rs->v[i], repl, k * sizeof(*repl));
	rs->n = i + k + tail;
}

int rangeset_add(struct rangeset *rs, uint64_t start, uint64_t end)
{
	struct range r = {start, end};
	size_t i, j;
	int rc;

	if (start >= end)
		return 0;
	/* [i, j): every range that overlaps or touches [start, end). */
	i = first_end_ge(rs, start);
	j = first_start_gt(rs, end);
	if (i == j) {
		rc = rangeset_reserve(rs, rs->n + 1);
		if (rc < 0)
			return rc;
	} else {
		if (rs->v[i].start < r.start)
			r.start = rs->v[i].start;
		if (rs->v[j - 1].end > r.end)
			r.end = rs->v[j - 1].end;
	}
	splice(rs, i, j, &r, 1);
	return 0;
}

int rangeset_remove(struct rangeset *rs, uint64_t start, uint64_t end)
{
	struct range keep[2];
	size_t i, j, k = 0;
	int rc;

	if (start >= end)
		return 0;
	/* [i, j): every range that shares at least one byte with [start, end). */
	i = first_end_ge(rs, start + 1);
	j = first_start_gt(rs, end - 1);
	if (i >= j)
		return 0;
	if (rs->v[i].start < start)
		keep[k++] = (struct range){rs->v[i].start, start};
	if (rs->v[j - 1].end > end)
		keep[k++] = (struct range){end, rs->v[j - 1].end};
	if (k > j - i) {
		/* Splitting one range in two. */
		rc = rangeset_reserve(rs, rs->n + 1);
		if (rc < 0)
			return rc;
	}
	splice(rs, i, j, keep, k);
	return 0;
}

void rangeset_truncate(struct rangeset *rs, uint64_t size)
{
	size_t i;

	if (size == 0) {
		rs->n = 0;
		return;
	}
	/* Ranges from i on start at or beyond size. */
	i = first_start_gt(rs, size - 1);
	rs->n = i;
	if (i && rs->v[i - 1].end > size)
		rs->v[i - 1].end = size;
}

bool rangeset_contains(const struct rangeset *rs, uint64_t start, uint64_t end)
{
	size_t i;

	if (start >= end)
		return true;
	/* The last range starting at or before start is the only candidate. */
	i = first_start_gt(rs, start);
	if (i == 0)
		return false;
	return rs->v[i - 1].end >= end;
}

bool rangeset_overlaps(const struct rangeset *rs, uint64_t start, uint64_t end)
{
	size_t i;

	if (start >= end)
		return false;
	i = first_end_ge(rs, start + 1);
	return i < rs->n && rs->v[i].start < end;
}

uint64_t rangeset_total(const struct rangeset *rs)
{
	uint64_t total = 0;

	for (size_t i = 0; i < rs->n; i++)
		total += rs->v[i].end - rs->v[i].start;
	return total;
}

/* Appends r to out; out's ranges stay sorted because callers go in order. */
static int append(struct rangeset *out, uint64_t start, uint64_t end)
{
	int rc = rangeset_reserve(out, out->n + 1);

	if (rc < 0)
		return rc;
	out->v[out->n++] = (struct range){start, end};
	return 0;
}

int rangeset_missing(const struct rangeset *rs, uint64_t start, uint64_t end, struct rangeset *out)
{
	uint64_t pos = start;
	int rc;

	rangeset_clear(out);
	if (start >= end)
		return 0;
	for (size_t i = first_end_ge(rs, start + 1); i < rs->n && rs->v[i].start < end; i++) {
		if (rs->v[i].start > pos) {
			rc = append(out, pos, rs->v[i].start);
			if (rc < 0)
				goto fail;
		}
		pos = rs->v[i].end;
	}
	if (pos < end) {
		rc = append(out, pos, end);
		if (rc < 0)
			goto fail;
	}
	return 0;
fail:
	rangeset_clear(out);
	return rc;
}

int rangeset_intersect(const struct rangeset *rs, uint64_t start, uint64_t end,
		       struct rangeset *out)
{
	int rc;

	rangeset_clear(out);
	if (start >= end)
		return 0;
	for (size_t i = first_end_ge(rs, start + 1); i < rs->n && rs->v[i].start < end; i++) {
		uint64_t s = rs->v[i].start > start ? rs->v[i].start : start;
		uint64_t e = rs->v[i].end < end ? rs->v[i].end : end;

		rc = append(out, s, e);
		if (rc < 0) {
			rangeset_clear(out);
			return rc;
		}
	}
	return 0;
}

static void put_le64(unsigned char *p, uint64_t x)
{
	for (int b = 0; b < 8; b++)
		p[b] = (unsigned char)(x >> (8 * b));
}

static uint64_t get_le64(const unsigned char *p)
{
	uint64_t x = 0;

	for (int b = 7; b >= 0; b--)
		x = (x << 8) | p[b];
	return x;
}

int rangeset_encode(const struct rangeset *rs, void **buf, size_t *len)
{
	unsigned char *p;

	*buf = NULL;
	*len = 0;
	if (rs->n == 0)
		return 0;
	if (rs->n > SIZE_MAX / RANGE_WIRE_SIZE)
		return -ENOMEM;
	p = malloc(rs->n * RANGE_WIRE_SIZE);
	if (!p)
		return -ENOMEM;
	for (size_t i = 0; i < rs->n; i++) {
		put_le64(p + i * RANGE_WIRE_SIZE, rs->v[i].start);
		put_le64(p + i * RANGE_WIRE_SIZE + 8, rs->v[i].end);
	}
	*buf = p;
	*len = rs->n * RANGE_WIRE_SIZE;
	return 0;
}

/*
 * Decodes into a fresh array and swaps it in only once every range has been
 * checked, so that a bad buffer leaves rs untouched.  A zero length decodes
 * to the empty set (what encode produces for it).
 */
int rangeset_decode(struct rangeset *rs, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	struct rangeset tmp = RANGESET_INIT;
	size_t n = len / RANGE_WIRE_SIZE;
	int rc;

	if (len % RANGE_WIRE_SIZE)
		return -EINVAL;
	if (n == 0) {
		rangeset_clear(rs);
		return 0;
	}
	rc = rangeset_reserve(&tmp, n);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		struct range r = {get_le64(p + i * RANGE_WIRE_SIZE),
				  get_le64(p + i * RANGE_WIRE_SIZE + 8)};

		/* Each range non-empty, and strictly after the previous with a gap. */
		if (r.start >= r.end || (i > 0 && r.start <= tmp.v[i - 1].end)) {
			rangeset_release(&tmp);
			return -EINVAL;
		}
		tmp.v[i] = r;
	}
	tmp.n = n;
	rangeset_release(rs);
	*rs = tmp;
	return 0;
}
