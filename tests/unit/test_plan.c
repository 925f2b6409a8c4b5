/*
 * test_plan.c - unit tests for src/sync/plan.c, the Synchronize planner's
 * decision table.
 *
 * Three layers: a hand-written case for every row of the table (state and
 * op, and together they must reach every row); an exhaustive walk over every
 * raw input, checking that exactly one row decides each and that no decision
 * loses data without a conflict; and the names and the conflict resolver.
 */
#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sync/plan.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Times: remote in 100 ns units, local in ns; T_R * 100 == T_L. */
#define T_R 17000000000000000LL
#define T_L (T_R * 100)

/* Local sides: kind, created, deleted, changed, sparse, mtime. */
#define L_ABSENT                          \
	{                                 \
		PSIDE_NONE, 0, 0, 0, 0, 0 \
	}
#define L_DELETED                           \
	{                                   \
		PSIDE_NONE, 0, 1, 0, 0, T_L \
	}
#define LF_CLEAN                            \
	{                                   \
		PSIDE_FILE, 0, 0, 0, 0, T_L \
	}
#define LF_SPARSE                           \
	{                                   \
		PSIDE_FILE, 0, 0, 0, 1, T_L \
	}
#define LF_CHANGED                          \
	{                                   \
		PSIDE_FILE, 0, 0, 1, 0, T_L \
	}
#define LF_CREATED                          \
	{                                   \
		PSIDE_FILE, 1, 0, 1, 0, T_L \
	} /* a creation bumps gen too */
#define LD_CLEAN                           \
	{                                  \
		PSIDE_DIR, 0, 0, 0, 0, T_L \
	}
#define LD_CHANGED                         \
	{                                  \
		PSIDE_DIR, 0, 0, 1, 0, T_L \
	}
#define LD_CREATED                         \
	{                                  \
		PSIDE_DIR, 1, 0, 1, 0, T_L \
	}
#define LD_SPARSE                          \
	{                                  \
		PSIDE_DIR, 0, 0, 0, 1, T_L \
	} /* meaningless for a dir: clean */

/* Bases: valid, kind, size, mtime, file id. */
#define B_NONE                         \
	{                              \
		0, PSIDE_NONE, 0, 0, 0 \
	}
#define B_FILE                              \
	{                                   \
		1, PSIDE_FILE, 100, T_R, 42 \
	}
#define B_DIR                            \
	{                                \
		1, PSIDE_DIR, 0, T_R, 43 \
	}

/* Remote sides: kind, size, mtime, file id.  "SAME" matches the base of that kind. */
#define R_NONE                      \
	{                           \
		PSIDE_NONE, 0, 0, 0 \
	}
#define RF_SAME                          \
	{                                \
		PSIDE_FILE, 100, T_R, 42 \
	}
#define RF_CHANGED                            \
	{                                     \
		PSIDE_FILE, 200, T_R + 10, 42 \
	}
#define RF_OTHER_ID                      \
	{                                \
		PSIDE_FILE, 100, T_R, 99 \
	} /* replaced, same size and time */
#define RD_SAME                       \
	{                             \
		PSIDE_DIR, 0, T_R, 43 \
	}
#define RD_CHANGED                         \
	{                                  \
		PSIDE_DIR, 0, T_R + 10, 43 \
	}

struct row_case {
	const char *what;
	struct plan_local l;
	struct plan_base b;
	struct plan_remote r;
	int state; /* expected */
	int op;	   /* expected */
};

#define C(what, l, b, r, st, op)                     \
	{                                            \
		what, l, b, r, PSTATE_##st, POP_##op \
	}

static const struct row_case row_cases[] = {
	/* Deleted locally. */
	C("local delete, both gone", L_DELETED, B_FILE, R_NONE, Stable, FORGET),
	C("local delete of a never-synced item, nothing on server", L_DELETED, B_NONE, R_NONE,
	  Stable, FORGET),
	C("local delete, file unchanged on server", L_DELETED, B_FILE, RF_SAME,
	  DeletedOnClient_FileOnServer, DELETE_REMOTE),
	C("local delete, dir unchanged on server", L_DELETED, B_DIR, RD_SAME,
	  DeletedOnClient_DirOnServer, DELETE_REMOTE),
	C("local delete, file changed on server", L_DELETED, B_FILE, RF_CHANGED,
	  DeletedOnClient_FileChangedOnServer, CONFLICT),
	C("local delete, dir replaced by a file on server", L_DELETED, B_DIR, RF_SAME,
	  DeletedOnClient_FileChangedOnServer, CONFLICT),
	C("local delete, dir changed on server", L_DELETED, B_DIR, RD_CHANGED,
	  DeletedOnClient_DirChangedOnServer, CONFLICT),
	C("tombstone without base, new file on server", L_DELETED, B_NONE, RF_SAME,
	  NoClientCopy_FileOnServer, ADD_LOCAL),
	C("tombstone without base, new dir on server", L_DELETED, B_NONE, RD_SAME,
	  NoClientCopy_DirOnServer, ADD_LOCAL),

	/* Nothing cached. */
	C("nothing anywhere", L_ABSENT, B_NONE, R_NONE, Stable, NONE),
	C("new file on server", L_ABSENT, B_NONE, RF_SAME, NoClientCopy_FileOnServer, ADD_LOCAL),
	C("known file not cached, unchanged", L_ABSENT, B_FILE, RF_SAME, NoClientCopy_FileOnServer,
	  ADD_LOCAL),
	C("new dir on server", L_ABSENT, B_NONE, RD_SAME, NoClientCopy_DirOnServer, ADD_LOCAL),
	C("known file not cached, changed on server", L_ABSENT, B_FILE, RF_CHANGED,
	  NoClientCopy_FileChangedOnServer, ADD_LOCAL),
	C("known dir not cached, changed on server", L_ABSENT, B_DIR, RD_CHANGED,
	  NoClientCopy_DirChangedOnServer, ADD_LOCAL),
	C("known file not cached, deleted on server", L_ABSENT, B_FILE, R_NONE, FileDeletedOnServer,
	  DELETE_LOCAL),
	C("known dir not cached, deleted on server", L_ABSENT, B_DIR, R_NONE, DirDeletedOnServer,
	  DELETE_LOCAL),

	/* Created locally. */
	C("file created, no server copy", LF_CREATED, B_NONE, R_NONE,
	  FileCreatedOnClient_NoServerCopy, PUSH),
	C("file re-created, server copy deleted", LF_CREATED, B_FILE, R_NONE,
	  FileCreatedOnClient_DeletedOnServer, PUSH),
	C("file created, file created on server", LF_CREATED, B_NONE, RF_SAME,
	  FileCreatedOnClient_FileOnServer, CONFLICT),
	C("file re-created, file changed on server", LF_CREATED, B_FILE, RF_CHANGED,
	  FileCreatedOnClient_FileChangedOnServer, CONFLICT),
	C("file created, dir created on server", LF_CREATED, B_NONE, RD_SAME,
	  FileCreatedOnClient_DirOnServer, CONFLICT),
	C("file re-created, dir changed on server", LF_CREATED, B_DIR, RD_CHANGED,
	  FileCreatedOnClient_DirChangedOnServer, CONFLICT),
	C("dir created, no server copy", LD_CREATED, B_NONE, R_NONE,
	  DirCreatedOnClient_NoServerCopy, CREATE_REMOTE_DIR),
	C("dir re-created, server copy deleted", LD_CREATED, B_DIR, R_NONE,
	  DirCreatedOnClient_DeletedOnServer, CREATE_REMOTE_DIR),
	C("dir created on both sides", LD_CREATED, B_NONE, RD_SAME, DirCreatedOnClient_DirOnServer,
	  NONE),
	C("dir re-created, dir changed on server", LD_CREATED, B_DIR, RD_CHANGED,
	  DirCreatedOnClient_DirChangedOnServer, NONE),
	C("dir created, file created on server", LD_CREATED, B_NONE, RF_SAME,
	  DirCreatedOnClient_FileOnServer, CONFLICT),
	C("dir re-created, file changed on server", LD_CREATED, B_FILE, RF_CHANGED,
	  DirCreatedOnClient_FileChangedOnServer, CONFLICT),

	/* Local items the server never had, and not recorded as creations. */
	C("changed file, no base, no server copy", LF_CHANGED, B_NONE, R_NONE,
	  FileOnClient_NoServerCopy, PUSH),
	C("clean file, no base, no server copy", LF_CLEAN, B_NONE, R_NONE,
	  FileOnClient_NoServerCopy, PUSH),
	C("clean dir, no base, no server copy", LD_CLEAN, B_NONE, R_NONE, DirOnClient_NoServerCopy,
	  CREATE_REMOTE_DIR),

	/* Changed locally. */
	C("file changed locally only", LF_CHANGED, B_FILE, RF_SAME, FileChangedOnClient, PUSH),
	C("file changed on both sides", LF_CHANGED, B_FILE, RF_CHANGED,
	  FileChangedOnClient_ChangedOnServer, CONFLICT),
	C("file changed locally, deleted on server", LF_CHANGED, B_FILE, R_NONE,
	  FileChangedOnClient_DeletedOnServer, CONFLICT),
	C("file changed locally, dir in its place on server", LF_CHANGED, B_NONE, RD_SAME,
	  FileChangedOnClient_DirOnServer, CONFLICT),
	C("file changed locally, file replaced by a dir on server", LF_CHANGED, B_FILE, RD_SAME,
	  FileChangedOnClient_DirChangedOnServer, CONFLICT),
	C("dir attributes changed locally only", LD_CHANGED, B_DIR, RD_SAME, DirChangedOnClient,
	  PUSH),
	C("dir changed on both sides", LD_CHANGED, B_DIR, RD_CHANGED,
	  DirChangedOnClient_ChangedOnServer, CONFLICT),
	C("dir changed locally, deleted on server", LD_CHANGED, B_DIR, R_NONE,
	  DirChangedOnClient_DeletedOnServer, CONFLICT),
	C("dir changed locally, file unchanged on server", LD_CHANGED, B_FILE, RF_SAME,
	  DirChangedOnClient_FileOnServer, CONFLICT),
	C("dir changed locally, file changed on server", LD_CHANGED, B_FILE, RF_CHANGED,
	  DirChangedOnClient_FileChangedOnServer, CONFLICT),

	/* Sparse and clean. */
	C("sparse file, server unchanged", LF_SPARSE, B_FILE, RF_SAME, Stable, FILL),
	C("sparse file, changed on server", LF_SPARSE, B_FILE, RF_CHANGED,
	  FileSparseOnClient_ChangedOnServer, PULL),
	C("sparse file, deleted on server", LF_SPARSE, B_FILE, R_NONE,
	  FileSparseOnClient_DeletedOnServer, DELETE_LOCAL),
	C("sparse file, dir on server", LF_SPARSE, B_NONE, RD_SAME, FileSparseOnClient_DirOnServer,
	  PULL),
	C("sparse file, replaced by a dir on server", LF_SPARSE, B_FILE, RD_SAME,
	  FileSparseOnClient_DirChangedOnServer, PULL),
	C("sparse file, no base, no server copy", LF_SPARSE, B_NONE, R_NONE,
	  FileOnClient_NoServerCopy, PUSH),

	/* Clean and full. */
	C("file unchanged on both sides", LF_CLEAN, B_FILE, RF_SAME, Stable, NONE),
	C("file changed on server only", LF_CLEAN, B_FILE, RF_CHANGED, FileChangedOnServer, PULL),
	C("file only its id changed on server", LF_CLEAN, B_FILE, RF_OTHER_ID, FileChangedOnServer,
	  PULL),
	C("file deleted on server", LF_CLEAN, B_FILE, R_NONE, FileDeletedOnServer, DELETE_LOCAL),
	C("clean file, replaced by a dir on server", LF_CLEAN, B_FILE, RD_SAME,
	  FileOnClient_DirOnServer, PULL),
	C("dir unchanged on both sides", LD_CLEAN, B_DIR, RD_SAME, Stable, NONE),
	C("sparse flag on a dir is ignored", LD_SPARSE, B_DIR, RD_SAME, Stable, NONE),
	C("dir changed on server only", LD_CLEAN, B_DIR, RD_CHANGED, DirChangedOnServer, PULL),
	C("dir deleted on server", LD_CLEAN, B_DIR, R_NONE, DirDeletedOnServer, DELETE_LOCAL),
	C("clean dir, file on server with no base", LD_CLEAN, B_NONE, RF_SAME,
	  DirOnClient_FileOnServer, CONFLICT),
	C("clean dir, replaced by a file on server", LD_CLEAN, B_DIR, RF_SAME,
	  DirOnClient_FileChangedOnServer, CONFLICT),
};

static void check_decision(const char *what, int got_state, int got_op, int state, int op)
{
	ck_assert_msg(got_state == state && got_op == op, "%s: got %s/%s, want %s/%s", what,
		      plan_state_name(got_state), plan_op_name(got_op), plan_state_name(state),
		      plan_op_name(op));
}

START_TEST(test_row)
{
	const struct row_case *c = &row_cases[_i];
	struct plan_decision d = {-1, -1};

	plan_decide(&c->l, &c->b, &c->r, &d);
	check_decision(c->what, d.state, d.op, c->state, c->op);
}
END_TEST

/* The hand-written cases reach every row of the table. */
START_TEST(test_cases_cover_every_row)
{
	size_t n, i;
	const struct plan_row *rows = plan_rows(&n);
	int *hit = calloc(n, sizeof(*hit));

	ck_assert_ptr_nonnull(hit);
	for (i = 0; i < ARRAY_LEN(row_cases); i++) {
		const struct row_case *c = &row_cases[i];
		int m = plan_match(&c->l, &c->b, &c->r);

		ck_assert_msg(m >= 0, "%s: no row", c->what);
		hit[m] = 1;
	}
	for (i = 0; i < n; i++)
		ck_assert_msg(hit[i], "row %zu (%s/%s) has no hand-written case", i,
			      plan_state_name(rows[i].state), plan_op_name(rows[i].op));
	free(hit);
}
END_TEST

/*
 * Every raw input with valid kinds: local kind x created x deleted x changed
 * x sparse, base valid x base kind, remote kind x which attribute differs.
 */
#define N_LKIND 3
#define N_FLAGS 16
#define N_BASE 4 /* invalid, or valid of kind NONE / FILE / DIR */
#define N_RKIND 3
#define N_DIFF 4 /* same as the base, other size, other mtime, other file id */
#define N_INPUTS (N_LKIND * N_FLAGS * N_BASE * N_RKIND * N_DIFF)

static void make_input(int idx, struct plan_local *l, struct plan_base *b, struct plan_remote *r)
{
	int lkind = idx % N_LKIND, flags = idx / N_LKIND % N_FLAGS;
	int base = idx / (N_LKIND * N_FLAGS) % N_BASE;
	int rkind = idx / (N_LKIND * N_FLAGS * N_BASE) % N_RKIND;
	int diff = idx / (N_LKIND * N_FLAGS * N_BASE * N_RKIND);

	*l = (struct plan_local){lkind,		flags & 1,     !!(flags & 2),
				 !!(flags & 4), !!(flags & 8), T_L};
	*b = (struct plan_base){base > 0, base > 0 ? base - 1 : PSIDE_NONE, 100, T_R, 42};
	*r = (struct plan_remote){rkind, 100, T_R, 42};
	if (diff == 1)
		r->size++;
	else if (diff == 2)
		r->mtime++;
	else if (diff == 3)
		r->file_id++;
}

/* Exactly one row accepts each input, plan_match finds it, and no row is dead. */
START_TEST(test_rows_partition_inputs)
{
	size_t n, i;
	const struct plan_row *rows = plan_rows(&n);
	int *hit = calloc(n, sizeof(*hit));
	int idx;

	ck_assert_ptr_nonnull(hit);
	for (idx = 0; idx < N_INPUTS; idx++) {
		struct plan_local l;
		struct plan_base b;
		struct plan_remote r;
		struct plan_key k;
		int matches = 0, first = -1;

		make_input(idx, &l, &b, &r);
		plan_classify(&l, &b, &r, &k);
		for (i = 0; i < n; i++) {
			if (plan_row_match(&rows[i], &k)) {
				if (first < 0)
					first = (int)i;
				matches++;
			}
		}
		ck_assert_msg(matches == 1, "input %d (key %d/%d/%d/%d) matches %d rows", idx,
			      k.lclass, k.lkind, k.rclass, k.rkind, matches);
		ck_assert_int_eq(plan_match(&l, &b, &r), first);
		hit[first] = 1;
	}
	for (i = 0; i < n; i++)
		ck_assert_msg(hit[i], "row %zu (%s/%s) is never reached", i,
			      plan_state_name(rows[i].state), plan_op_name(rows[i].op));
	free(hit);
}
END_TEST

/*
 * Safety over every input: a side that changed is never overwritten or
 * deleted except through CONFLICT.
 */
START_TEST(test_no_silent_loss)
{
	int idx;

	for (idx = 0; idx < N_INPUTS; idx++) {
		struct plan_local l;
		struct plan_base b;
		struct plan_remote r;
		struct plan_key k;
		struct plan_decision d;
		int local_dirty, remote_dirty;

		make_input(idx, &l, &b, &r);
		plan_classify(&l, &b, &r, &k);
		plan_decide(&l, &b, &r, &d);
		ck_assert_ptr_nonnull(plan_state_name(d.state));
		ck_assert_ptr_nonnull(plan_op_name(d.op));

		local_dirty = k.lclass == PL_CREATED || k.lclass == PL_CHANGED;
		remote_dirty = k.rclass == PR_CHANGED || k.rclass == PR_NEW;
		if (local_dirty)
			ck_assert_msg(
				d.op != POP_PULL && d.op != POP_DELETE_LOCAL && d.op != POP_FILL,
				"input %d: local change dropped by %s", idx, plan_op_name(d.op));
		if (remote_dirty)
			ck_assert_msg(d.op != POP_PUSH && d.op != POP_DELETE_REMOTE &&
					      d.op != POP_CREATE_REMOTE_DIR,
				      "input %d: server change overwritten by %s", idx,
				      plan_op_name(d.op));
		if (d.op == POP_DELETE_REMOTE)
			ck_assert_int_eq(k.rclass, PR_SAME);
		if (d.op == POP_FORGET)
			ck_assert_int_eq(k.lclass, PL_DELETED);
		if (d.op == POP_FILL)
			ck_assert(k.lclass == PL_SPARSE && k.rclass == PR_SAME);
		if (k.lclass == PL_SPARSE || (k.lclass == PL_CLEAN && k.lkind == PSIDE_FILE))
			ck_assert_msg(d.op != POP_CONFLICT, "input %d: clean file in conflict",
				      idx);
	}
}
END_TEST

START_TEST(test_classify)
{
	struct plan_local l = LF_CREATED;
	struct plan_base b = B_FILE;
	struct plan_remote r = RF_SAME;
	struct plan_key k;

	plan_classify(&l, &b, &r, &k); /* created wins over changed */
	ck_assert_int_eq(k.lclass, PL_CREATED);
	ck_assert_int_eq(k.lkind, PSIDE_FILE);
	ck_assert_int_eq(k.rclass, PR_SAME);

	l = (struct plan_local){PSIDE_FILE, 1, 1, 1, 1, T_L}; /* a tombstone wins over all */
	plan_classify(&l, &b, &r, &k);
	ck_assert_int_eq(k.lclass, PL_DELETED);
	ck_assert_int_eq(k.lkind, PSIDE_NONE);

	l = (struct plan_local){PSIDE_FILE, 0, 0, 1, 1, T_L}; /* changed wins over sparse */
	plan_classify(&l, &b, &r, &k);
	ck_assert_int_eq(k.lclass, PL_CHANGED);

	l = (struct plan_local){PSIDE_NONE, 1, 0, 1, 0, T_L}; /* no kind: nothing cached */
	plan_classify(&l, &b, &r, &k);
	ck_assert_int_eq(k.lclass, PL_ABSENT);

	r = (struct plan_remote)R_NONE; /* gone: rkind is what the base had */
	b = (struct plan_base)B_DIR;
	plan_classify(&l, &b, &r, &k);
	ck_assert_int_eq(k.rclass, PR_GONE);
	ck_assert_int_eq(k.rkind, PSIDE_DIR);

	b = (struct plan_base)B_NONE;
	plan_classify(&l, &b, &r, &k);
	ck_assert_int_eq(k.rclass, PR_ABSENT);
	ck_assert_int_eq(k.rkind, PSIDE_NONE);

	r = (struct plan_remote)RD_SAME;
	plan_classify(&l, &b, &r, &k);
	ck_assert_int_eq(k.rclass, PR_NEW);
	ck_assert_int_eq(k.rkind, PSIDE_DIR);

	/* A change of kind alone is a change. */
	b = (struct plan_base){1, PSIDE_FILE, 0, T_R, 43};
	plan_classify(&l, &b, &r, &k);
	ck_assert_int_eq(k.rclass, PR_CHANGED);
}
END_TEST

/* Kinds outside the enum match no row and give Stable / NONE. */
START_TEST(test_invalid_kind)
{
	struct plan_local l = {7, 0, 0, 0, 0, T_L};
	struct plan_base b = B_FILE;
	struct plan_remote r = RF_SAME;
	struct plan_decision d = {-1, -1};

	ck_assert_int_eq(plan_match(&l, &b, &r), -1);
	plan_decide(&l, &b, &r, &d);
	check_decision("local kind 7", d.state, d.op, PSTATE_Stable, POP_NONE);

	l = (struct plan_local)LF_CLEAN;
	r.kind = -3;
	ck_assert_int_eq(plan_match(&l, &b, &r), -1);
	plan_decide(&l, &b, &r, &d);
	check_decision("remote kind -3", d.state, d.op, PSTATE_Stable, POP_NONE);
}
END_TEST

static const struct {
	int state;
	const char *name;
} picked_names[] = {
	{0, "Stable"},
	{1, "FileOnClient_DirOnServer"},
	{12, "FileChangedOnClient_ChangedOnServer"},
	{15, "FileChangedOnClient_DeletedOnServer"},
	{16, "FileSparseOnClient_ChangedOnServer"},
	{21, "DirCreatedOnClient_DirOnServer"},
	{30, "NoClientCopy_FileOnServer"},
	{36, "DeletedOnClient_FileChangedOnServer"},
	{38, "FileSparseOnClient"},
	{39, "FileChangedOnClient"},
	{44, "FileChangedOnServer"},
	{46, "FileDeletedOnServer"},
	{49, "DirDeletedOnServer"},
	{53, "FileReplacedAndDeletedOnClient_DirChangedOnServer"},
};

START_TEST(test_state_name_picked)
{
	ck_assert_str_eq(plan_state_name(picked_names[_i].state), picked_names[_i].name);
}
END_TEST

START_TEST(test_state_values)
{
	/* The enum's values are Windows'. */
	ck_assert_int_eq(PSTATE_Stable, 0);
	ck_assert_int_eq(PSTATE_FileCreatedOnClient_FileOnServer, 9);
	ck_assert_int_eq(PSTATE_FileChangedOnClient_ChangedOnServer, 12);
	ck_assert_int_eq(PSTATE_DirCreatedOnClient_DirOnServer, 21);
	ck_assert_int_eq(PSTATE_NoClientCopy_FileOnServer, 30);
	ck_assert_int_eq(PSTATE_DeletedOnClient_FileChangedOnServer, 36);
	ck_assert_int_eq(PSTATE_FileChangedOnClient, 39);
	ck_assert_int_eq(PSTATE_FileChangedOnServer, 44);
	ck_assert_int_eq(PSTATE_DirChangedOnServer, 47);
	ck_assert_int_eq(PSTATE_NUMSTATES, 54);
}
END_TEST

/* Every state has a distinct, identifier-like name; other values have none. */
START_TEST(test_state_name_all)
{
	int s, t;
	const char *p;

	for (s = 0; s < PSTATE_NUMSTATES; s++) {
		const char *name = plan_state_name(s);

		ck_assert_msg(name != NULL && name[0] != '\0', "state %d has no name", s);
		for (p = name; *p; p++)
			ck_assert_msg(isalpha((unsigned char)*p) || *p == '_', "state %d: %s", s,
				      name);
		for (t = 0; t < s; t++)
			ck_assert_str_ne(name, plan_state_name(t));
	}
	ck_assert_ptr_null(plan_state_name(-1));
	ck_assert_ptr_null(plan_state_name(PSTATE_NUMSTATES));
	ck_assert_ptr_null(plan_state_name(INT_MAX));
	ck_assert_ptr_null(plan_state_name(INT_MIN));
}
END_TEST

START_TEST(test_op_name)
{
	int op;

	for (op = 0; op < POP_NUMOPS; op++)
		ck_assert_ptr_nonnull(plan_op_name(op));
	ck_assert_str_eq(plan_op_name(POP_NONE), "NONE");
	ck_assert_str_eq(plan_op_name(POP_CREATE_REMOTE_DIR), "CREATE_REMOTE_DIR");
	ck_assert_str_eq(plan_op_name(POP_CONFLICT), "CONFLICT");
	ck_assert_ptr_null(plan_op_name(-1));
	ck_assert_ptr_null(plan_op_name(POP_NUMOPS));
}
END_TEST

struct resolve_case {
	const char *what;
	int keep;
	struct plan_local l;
	struct plan_remote r;
	int want; /* PKEEP_LOCAL, PKEEP_REMOTE or -EINVAL */
};

/* A local modification / delete at local ns t; a remote one at 100 ns t. */
#define LMOD(t)                             \
	{                                   \
		PSIDE_FILE, 0, 0, 1, 0, (t) \
	}
#define LDEL(t)                             \
	{                                   \
		PSIDE_NONE, 0, 1, 0, 0, (t) \
	}
#define RMOD(t)                          \
	{                                \
		PSIDE_FILE, 200, (t), 42 \
	}
#define RDEL                        \
	{                           \
		PSIDE_NONE, 0, 0, 0 \
	}

static const struct resolve_case resolve_cases[] = {
	/* Both modified. */
	{"modify/modify, KEEPLOCAL", PKEEP_LOCAL, LMOD(T_L), RMOD(T_R + 1), PKEEP_LOCAL},
	{"modify/modify, KEEPREMOTE", PKEEP_REMOTE, LMOD(T_L + 100), RMOD(T_R), PKEEP_REMOTE},
	{"modify/modify, KEEPLATEST, local later", PKEEP_LATEST, LMOD(T_L + 100), RMOD(T_R),
	 PKEEP_LOCAL},
	{"modify/modify, KEEPLATEST, remote later", PKEEP_LATEST, LMOD(T_L), RMOD(T_R + 1),
	 PKEEP_REMOTE},
	{"modify/modify, KEEPLATEST, local later within one 100 ns tick", PKEEP_LATEST,
	 LMOD(T_L + 1), RMOD(T_R), PKEEP_LOCAL},
	{"modify/modify, KEEPLATEST, local 1 ns earlier", PKEEP_LATEST, LMOD(T_L - 1), RMOD(T_R),
	 PKEEP_REMOTE},
	{"modify/modify, KEEPLATEST, tie keeps local", PKEEP_LATEST, LMOD(T_L), RMOD(T_R),
	 PKEEP_LOCAL},
	{"modify/modify, KEEPLATEST, before 1970, local later", PKEEP_LATEST, LMOD(-150), RMOD(-2),
	 PKEEP_LOCAL},
	{"modify/modify, KEEPLATEST, before 1970, remote later", PKEEP_LATEST, LMOD(-250), RMOD(-2),
	 PKEEP_REMOTE},
	{"modify/modify, KEEPLATEST, far-future remote does not overflow", PKEEP_LATEST,
	 LMOD(INT64_MAX), RMOD(INT64_MAX / 50), PKEEP_REMOTE},

	/* Local delete, remote modify. */
	{"delete/modify, KEEPLOCAL", PKEEP_LOCAL, LDEL(T_L), RMOD(T_R + 1), PKEEP_LOCAL},
	{"delete/modify, KEEPREMOTE", PKEEP_REMOTE, LDEL(T_L + 100), RMOD(T_R), PKEEP_REMOTE},
	{"delete/modify, KEEPLATEST, delete later", PKEEP_LATEST, LDEL(T_L + 100), RMOD(T_R),
	 PKEEP_LOCAL},
	{"delete/modify, KEEPLATEST, modify later", PKEEP_LATEST, LDEL(T_L), RMOD(T_R + 1),
	 PKEEP_REMOTE},
	{"delete/modify, KEEPLATEST, tie keeps the content", PKEEP_LATEST, LDEL(T_L), RMOD(T_R),
	 PKEEP_REMOTE},

	/* Local modify, remote delete: the delete's time is unknown. */
	{"modify/delete, KEEPLOCAL", PKEEP_LOCAL, LMOD(T_L), RDEL, PKEEP_LOCAL},
	{"modify/delete, KEEPREMOTE", PKEEP_REMOTE, LMOD(T_L), RDEL, PKEEP_REMOTE},
	{"modify/delete, KEEPLATEST keeps the local change", PKEEP_LATEST, LMOD(T_L), RDEL,
	 PKEEP_LOCAL},
	{"modify/delete, KEEPLATEST, even a very old change", PKEEP_LATEST, LMOD(0), RDEL,
	 PKEEP_LOCAL},

	/* Not a rule. */
	{"keep 0", 0, LMOD(T_L), RMOD(T_R), -EINVAL},
	{"keep 4", 4, LMOD(T_L), RMOD(T_R), -EINVAL},
	{"keep -1", -1, LMOD(T_L), RMOD(T_R), -EINVAL},
};

START_TEST(test_resolve)
{
	const struct resolve_case *c = &resolve_cases[_i];
	int got = plan_resolve(c->keep, &c->l, &c->r);

	ck_assert_msg(got == c->want, "%s: got %d, want %d", c->what, got, c->want);
}
END_TEST

/* The resolver applies to what the table calls a conflict, in both directions. */
START_TEST(test_resolve_table_conflicts)
{
	struct plan_local l = LF_CHANGED;
	struct plan_base b = B_FILE;
	struct plan_remote r = RF_CHANGED;
	struct plan_decision d;

	plan_decide(&l, &b, &r, &d);
	ck_assert_int_eq(d.op, POP_CONFLICT);
	ck_assert_int_eq(plan_resolve(PKEEP_LATEST, &l, &r), PKEEP_REMOTE); /* T_R + 10 later */
	l.mtime = T_L + 2000;
	ck_assert_int_eq(plan_resolve(PKEEP_LATEST, &l, &r), PKEEP_LOCAL);

	r = (struct plan_remote)R_NONE;
	plan_decide(&l, &b, &r, &d);
	ck_assert_int_eq(d.state, PSTATE_FileChangedOnClient_DeletedOnServer);
	ck_assert_int_eq(plan_resolve(PKEEP_LATEST, &l, &r), PKEEP_LOCAL);
}
END_TEST

static Suite *plan_suite(void)
{
	Suite *s = suite_create("plan");
	TCase *tc = tcase_create("table");
	TCase *tn = tcase_create("names");
	TCase *tr = tcase_create("resolve");

	tcase_add_loop_test(tc, test_row, 0, ARRAY_LEN(row_cases));
	tcase_add_test(tc, test_cases_cover_every_row);
	tcase_add_test(tc, test_rows_partition_inputs);
	tcase_add_test(tc, test_no_silent_loss);
	tcase_add_test(tc, test_classify);
	tcase_add_test(tc, test_invalid_kind);
	suite_add_tcase(s, tc);

	tcase_add_loop_test(tn, test_state_name_picked, 0, ARRAY_LEN(picked_names));
	tcase_add_test(tn, test_state_values);
	tcase_add_test(tn, test_state_name_all);
	tcase_add_test(tn, test_op_name);
	suite_add_tcase(s, tn);

	tcase_add_loop_test(tr, test_resolve, 0, ARRAY_LEN(resolve_cases));
	tcase_add_test(tr, test_resolve_table_conflicts);
	suite_add_tcase(s, tr);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(plan_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
