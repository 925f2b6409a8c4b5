/*
 * walkers.h - whether a directory walker is given its listings with
 * attributes (READDIRPLUS entries) or names only.
 *
 * A READDIRPLUS entry with attributes makes the kernel build a dentry and
 * an inode for the name there and then; that costs the walker more than
 * the listing itself, and `find`, `ls -R` and `du --inodes`-like walkers
 * that go by d_type never look at them.  An entry without attributes (node
 * id 0) is a bare name: a walker that then stats it pays one LOOKUP round
 * trip instead.  So each process walking the mount is watched: a listing
 * given bare is a probe, and lookups of its files during the walk show a
 * walker that stats (ls -l, du, rsync, cp), which then gets attributes for
 * its next listings, for longer after each probe that shows it again.  A
 * process that is not walking (its first directory, or one outside what it
 * opened lately) always gets attributes: a lone `ls -l` never pays for a
 * probe.
 *
 * Pure logic, no I/O and no locking (the owner locks): unit-tested in
 * tests/unit/test_walkers.c.
 */
#ifndef OFSYNC_WALKERS_H
#define OFSYNC_WALKERS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define WALKERS_MAX 8	       /* processes watched at once (least recent goes) */
#define WALKERS_RECENT 16      /* directories a walker opened lately, to tell a step */
#define WALKERS_PLUS_FIRST 256 /* listings with attributes after a probe shows stats */
#define WALKERS_PLUS_MAX 4096  /* ... doubling each time, up to this */
#define WALKERS_PROBE_MAX 1024 /* a probe listing has at most this many files */

enum walk_listing {
	WALK_PLUS,  /* with attributes */
	WALK_PROBE, /* names only, to see whether the walker stats them */
	WALK_BARE,  /* names only: the walker's last bare listing drew no stats */
};

struct walker {
	pid_t pid;     /* 0: a free slot */
	uint64_t used; /* walkers->clock at its last opendir */
	/* The directories it opened, or stepped out of, most lately: */
	uint64_t recent[WALKERS_RECENT];
	uint64_t recent_used[WALKERS_RECENT]; /* walkers->clock then */
	uint64_t watched;		      /* its last listing given bare, 0 for none */
	unsigned hits;			      /* lookups of files in watched since */
	unsigned files;			      /* files in that listing */
	unsigned plus_left;		      /* listings still to give with attributes */
	unsigned plus_after;		      /* plus_left after the next probe that shows stats */
};

struct walkers {
	struct walker w[WALKERS_MAX];
	uint64_t clock;
};

void walkers_init(struct walkers *ws);

/*
 * Process pid opened the directory dir in parent: how its listing is to be
 * given.  pid 0 (the kernel itself) is no walker.
 */
enum walk_listing walkers_open(struct walkers *ws, pid_t pid, uint64_t dir, uint64_t parent);

/*
 * The listing of dir, of `files` files (not directories), is being given
 * to pid as decided by walkers_open (how); also for a listing the kernel
 * keeps, bare, from before (files 0 when unknown).  Returns 1 when the
 * files are to go bare, 0 when with attributes (a probe of more than
 * WALKERS_PROBE_MAX files, whose stats would cost too much).
 */
int walkers_listed(struct walkers *ws, pid_t pid, uint64_t dir, enum walk_listing how,
		   size_t files);

/* Process pid looked up a file (not a directory) in dir. */
void walkers_lookup(struct walkers *ws, pid_t pid, uint64_t dir);

#endif
