/*
 * idmap.c - a compact map from ids to counts; see idmap.h.
 */
#include "util/idmap.h"

#include <errno.h>
#include <stdlib.h>

#define IDMAP_MIN_CAP 1024

void idmap_init(struct idmap *m)
{
	m->keys = NULL;
	m->vals = NULL;
	m->cap = 0;
	m->n = 0;
}

void idmap_release(struct idmap *m)
{
	free(m->keys);
	free(m->vals);
	idmap_init(m);
}

static size_t home(uint64_t id, size_t cap)
{
	/* Fibonacci hashing: row ids are dense, the top bits spread them. */
	return (size_t)((id * 0x9e3779b97f4a7c15ull) >> 32) & (cap - 1);
}

/* The slot of id, or of the empty slot where it would go.  cap > 0. */
static size_t find_slot(const struct idmap *m, uint64_t id)
{
	size_t i = home(id, m->cap);

	while (m->keys[i] != 0 && m->keys[i] != id)
		i = (i + 1) & (m->cap - 1);
	return i;
}

/* Moves every key into arrays of cap slots.  0 or -ENOMEM (map unchanged). */
static int resize(struct idmap *m, size_t cap)
{
	struct idmap to = {NULL, NULL, cap, m->n};

	to.keys = calloc(cap, sizeof(*to.keys));
	to.vals = malloc(cap * sizeof(*to.vals));
	if (!to.keys || !to.vals) {
		free(to.keys);
		free(to.vals);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (m->keys[i] != 0) {
			size_t j = find_slot(&to, m->keys[i]);
			to.keys[j] = m->keys[i];
			to.vals[j] = m->vals[i];
		}
	}
	free(m->keys);
	free(m->vals);
	*m = to;
	return 0;
}

uint32_t idmap_get(const struct idmap *m, uint64_t id)
{
	size_t i;

	if (m->n == 0 || id == 0)
		return 0;
	i = find_slot(m, id);
	return m->keys[i] == id ? m->vals[i] : 0;
}

int idmap_add(struct idmap *m, uint64_t id, uint32_t delta)
{
	size_t i;
	int rc;

	if (id == 0 || delta == 0)
		return id == 0 ? -EINVAL : 0;
	if ((m->n + 1) * 4 > m->cap * 3) {
		rc = resize(m, m->cap ? m->cap * 2 : IDMAP_MIN_CAP);
		/* Fuller than 3/4 is only slower; one slot must stay empty. */
		if (rc < 0 && m->n + 2 > m->cap)
			return rc;
	}
	i = find_slot(m, id);
	if (m->keys[i] == id) {
		m->vals[i] = m->vals[i] > UINT32_MAX - delta ? UINT32_MAX : m->vals[i] + delta;
		return 0;
	}
	m->keys[i] = id;
	m->vals[i] = delta;
	m->n++;
	return 0;
}

/* Empties slot i, shifting back the keys of its probe run that hash before it. */
static void remove_slot(struct idmap *m, size_t i)
{
	size_t mask = m->cap - 1, j = i;

	for (;;) {
		j = (j + 1) & mask;
		if (m->keys[j] == 0)
			break;
		/* The key at j may fill the hole at i if its home is not in (i, j]. */
		size_t h = home(m->keys[j], m->cap);
		if (((j - h) & mask) >= ((j - i) & mask)) {
			m->keys[i] = m->keys[j];
			m->vals[i] = m->vals[j];
			i = j;
		}
	}
	m->keys[i] = 0;
	m->n--;
	/* Give memory back once mostly empty (a failed shrink only costs room). */
	if (m->cap > IDMAP_MIN_CAP && m->n * 8 < m->cap)
		resize(m, m->cap / 2);
}

uint32_t idmap_sub(struct idmap *m, uint64_t id, uint64_t delta)
{
	size_t i;
	uint32_t v;

	if (m->n == 0 || id == 0)
		return 0;
	i = find_slot(m, id);
	if (m->keys[i] != id)
		return 0;
	v = m->vals[i];
	if (v == UINT32_MAX)
		return v;
	if (delta < v) {
		m->vals[i] = v - (uint32_t)delta;
		return m->vals[i];
	}
	remove_slot(m, i);
	return 0;
}

uint32_t idmap_del(struct idmap *m, uint64_t id)
{
	size_t i;
	uint32_t v;

	if (m->n == 0 || id == 0)
		return 0;
	i = find_slot(m, id);
	if (m->keys[i] != id)
		return 0;
	v = m->vals[i];
	remove_slot(m, i);
	return v;
}

size_t idmap_bytes(const struct idmap *m)
{
	return m->cap * (sizeof(*m->keys) + sizeof(*m->vals));
}
