/* walkers.c - listings with attributes or names only, by walker (see walkers.h). */
#include "fs/walkers.h"

#include <string.h>

void walkers_init(struct walkers *ws)
{
	memset(ws, 0, sizeof(*ws));
}

static struct walker *find(struct walkers *ws, pid_t pid)
{
	for (unsigned i = 0; i < WALKERS_MAX; i++)
		if (ws->w[i].pid == pid)
			return &ws->w[i];
	return NULL;
}

/* A fresh slot for pid: a free one, else the least recently used. */
static struct walker *take(struct walkers *ws, pid_t pid)
{
	struct walker *w = &ws->w[0];

	for (unsigned i = 1; i < WALKERS_MAX && w->pid; i++)
		if (!ws->w[i].pid || ws->w[i].used < w->used)
			w = &ws->w[i];
	memset(w, 0, sizeof(*w));
	w->pid = pid;
	w->plus_after = WALKERS_PLUS_FIRST;
	return w;
}

/* The slot of dir among w's recent directories, or -1. */
static int recent_slot(const struct walker *w, uint64_t dir)
{
	for (unsigned i = 0; i < WALKERS_RECENT; i++)
		if (w->recent[i] == dir)
			return (int)i;
	return -1;
}

/* Makes dir w's most recent directory, in place of its least recent. */
static void recent_touch(struct walker *w, uint64_t dir, uint64_t now)
{
	int i = recent_slot(w, dir);

	if (i < 0) {
		i = 0;
		for (unsigned k = 1; k < WALKERS_RECENT; k++)
			if (w->recent_used[k] < w->recent_used[i])
				i = (int)k;
		w->recent[i] = dir;
	}
	w->recent_used[i] = now;
}

/* Enough lookups of the watched listing's files to call its walker one that stats. */
static int stats_seen(const struct walker *w)
{
	return w->hits >= 1 + w->files / 8;
}

enum walk_listing walkers_open(struct walkers *ws, pid_t pid, uint64_t dir, uint64_t parent)
{
	struct walker *w;
	int step;

	if (pid <= 0)
		return WALK_PLUS;
	w = find(ws, pid);
	if (!w)
		w = take(ws, pid);
	/*
	 * A walker steps into a subdirectory of one it opened lately; the
	 * directories it steps out of stay recent (the walk comes back to
	 * them), so a walk of any width or of depth up to WALKERS_RECENT
	 * goes on stepping.
	 */
	w->used = ++ws->clock;
	step = parent && recent_slot(w, parent) >= 0;
	if (step)
		recent_touch(w, parent, w->used);
	recent_touch(w, dir, w->used);
	if (!step)
		return WALK_PLUS;
	if (w->watched && !stats_seen(w)) {
		/* Its last bare listing drew no stats: a walker by name. */
		w->plus_after = WALKERS_PLUS_FIRST;
		return WALK_BARE;
	}
	w->watched = 0;
	if (w->plus_left) {
		w->plus_left--;
		return WALK_PLUS;
	}
	return WALK_PROBE;
}

int walkers_listed(struct walkers *ws, pid_t pid, uint64_t dir, enum walk_listing how, size_t files)
{
	struct walker *w = pid > 0 ? find(ws, pid) : NULL;

	if (how == WALK_PLUS || !w || (how == WALK_PROBE && files > WALKERS_PROBE_MAX))
		return 0;
	w->watched = dir;
	w->hits = 0;
	w->files = files > UINT32_MAX ? UINT32_MAX : (unsigned)files;
	return 1;
}

void walkers_lookup(struct walkers *ws, pid_t pid, uint64_t dir)
{
	struct walker *w = pid > 0 ? find(ws, pid) : NULL;

	if (!w || !w->watched || w->watched != dir)
		return;
	w->hits++;
	if (!stats_seen(w))
		return;
	/* A walker that stats: attributes for a while, longer each time. */
	w->watched = 0;
	w->plus_left = w->plus_after;
	w->plus_after = w->plus_after * 2 > WALKERS_PLUS_MAX ? WALKERS_PLUS_MAX : w->plus_after * 2;
}
