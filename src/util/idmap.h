/*
 * idmap.h - a compact map from nonzero 64-bit ids to 32-bit counts.
 *
 * For per-inode bookkeeping that must scale to millions of items in a few
 * bytes each: the kernel's lookup counts of a mount, the items whose kernel
 * pages went stale.  Open addressing with linear probing over two parallel
 * arrays (keys, values: 12 bytes a slot), a power-of-two number of slots
 * kept between 1/8 and 3/4 full, deletion by backward shift (no
 * tombstones).  Not thread safe: the owner locks.  Pure logic, no I/O:
 * unit-tested in tests/unit/test_idmap.c.
 */
#ifndef OFSYNC_IDMAP_H
#define OFSYNC_IDMAP_H

#include <stddef.h>
#include <stdint.h>

struct idmap {
	uint64_t *keys; /* 0: an empty slot */
	uint32_t *vals; /* the value of keys[i]; never 0 for a key in use */
	size_t cap;	/* slots, 0 or a power of two */
	size_t n;	/* keys in use */
};

#define IDMAP_INIT               \
	{                        \
		NULL, NULL, 0, 0 \
	}

void idmap_init(struct idmap *m);
/* Frees the arrays; the map is empty and reusable afterwards. */
void idmap_release(struct idmap *m);

/* The value of id, 0 when id is absent. */
uint32_t idmap_get(const struct idmap *m, uint64_t id);
/*
 * Adds delta (> 0) to the value of id (0 when absent), saturating at
 * UINT32_MAX.  id must not be 0.  Returns 0, or -ENOMEM with the map
 * unchanged.
 */
int idmap_add(struct idmap *m, uint64_t id, uint32_t delta);
/*
 * Subtracts delta from the value of id; id goes when its value reaches 0
 * (or would go below).  A saturated value stays (its true count is
 * unknown).  Returns the value left, 0 when id is gone or was absent.
 */
uint32_t idmap_sub(struct idmap *m, uint64_t id, uint64_t delta);
/* Removes id.  Returns its value, 0 when it was absent. */
uint32_t idmap_del(struct idmap *m, uint64_t id);
/* Bytes the arrays take. */
size_t idmap_bytes(const struct idmap *m);

#endif
