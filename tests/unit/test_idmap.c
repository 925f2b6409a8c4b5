/* test_idmap.c - unit tests for src/util/idmap.c. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "util/idmap.h"

/* One step of a table-driven case: op on id with arg, expecting want. */
enum op { ADD, SUB, DEL, GET };
struct step {
	enum op op;
	uint64_t id;
	uint64_t arg;
	uint32_t want; /* ADD: the value after; SUB/DEL/GET: the returned value */
};

#define MAXSTEPS 8
static const struct {
	const char *name;
	struct step s[MAXSTEPS];
	size_t n; /* keys left at the end */
} cases[] = {
	{"absent", {{GET, 5, 0, 0}, {SUB, 5, 1, 0}, {DEL, 5, 0, 0}}, 0},
	{"add and get", {{ADD, 5, 1, 1}, {ADD, 5, 2, 3}, {GET, 5, 0, 3}, {GET, 6, 0, 0}}, 1},
	{"sub to zero removes",
	 {{ADD, 7, 3, 3}, {SUB, 7, 2, 1}, {SUB, 7, 1, 0}, {GET, 7, 0, 0}},
	 0},
	{"sub below zero removes", {{ADD, 7, 3, 3}, {SUB, 7, 10, 0}, {GET, 7, 0, 0}}, 0},
	{"del", {{ADD, 9, 4, 4}, {ADD, 10, 1, 1}, {DEL, 9, 0, 4}, {GET, 10, 0, 1}}, 1},
	{"saturates",
	 {{ADD, 1, UINT32_MAX - 1, UINT32_MAX - 1},
	  {ADD, 1, 5, UINT32_MAX},
	  {SUB, 1, 7, UINT32_MAX},
	  {GET, 1, 0, UINT32_MAX}},
	 1},
	{"huge ids",
	 {{ADD, UINT64_MAX, 1, 1}, {ADD, 1ull << 63, 2, 2}, {GET, UINT64_MAX, 0, 1}},
	 2},
};

START_TEST(test_steps)
{
	struct idmap m = IDMAP_INIT;

	for (size_t i = 0; i < MAXSTEPS && cases[_i].s[i].id; i++) {
		const struct step *s = &cases[_i].s[i];
		uint32_t got = 0;

		switch (s->op) {
		case ADD:
			ck_assert_int_eq(idmap_add(&m, s->id, (uint32_t)s->arg), 0);
			got = idmap_get(&m, s->id);
			break;
		case SUB:
			got = idmap_sub(&m, s->id, s->arg);
			break;
		case DEL:
			got = idmap_del(&m, s->id);
			break;
		case GET:
			got = idmap_get(&m, s->id);
			break;
		}
		ck_assert_msg(got == s->want, "%s, step %zu: got %u, want %u", cases[_i].name, i,
			      got, s->want);
	}
	ck_assert_uint_eq(m.n, cases[_i].n);
	idmap_release(&m);
}
END_TEST

START_TEST(test_zero_id_refused)
{
	struct idmap m = IDMAP_INIT;

	ck_assert_int_lt(idmap_add(&m, 0, 1), 0);
	ck_assert_uint_eq(idmap_get(&m, 0), 0);
	ck_assert_uint_eq(m.n, 0);
	idmap_release(&m);
}
END_TEST

/*
 * Random adds and subtractions against a plain array, across growth and
 * shrinking: every id keeps its value, removed ids are gone.
 */
START_TEST(test_random_against_model)
{
	enum { IDS = 20000 };
	struct idmap m = IDMAP_INIT;
	uint32_t *model = calloc(IDS, sizeof(*model));
	size_t live = 0, peak_cap = 0;

	ck_assert_ptr_nonnull(model);
	srandom(6);
	for (int round = 0; round < 400000; round++) {
		/* Mostly dense ids, as row ids are, some far apart. */
		size_t k = (size_t)random() % IDS;
		uint64_t id = k % 7 == 0 ? (uint64_t)k << 40 | 1 : (uint64_t)k + 1;
		/* Adds win early, subtractions late: the map grows, then empties. */
		int add = (random() % 400000) > round;

		if (add) {
			uint32_t d = (uint32_t)(random() % 3) + 1;
			ck_assert_int_eq(idmap_add(&m, id, d), 0);
			live += model[k] == 0;
			model[k] += d;
		} else if (model[k]) {
			uint32_t d = (uint32_t)(random() % 3) + 1;
			uint32_t left = model[k] > d ? model[k] - d : 0;
			ck_assert_uint_eq(idmap_sub(&m, id, d), left);
			live -= left == 0;
			model[k] = left;
		}
		ck_assert_uint_eq(m.n, live);
		if (m.cap > peak_cap)
			peak_cap = m.cap;
	}
	for (size_t k = 0; k < IDS; k++) {
		uint64_t id = k % 7 == 0 ? (uint64_t)k << 40 | 1 : (uint64_t)k + 1;
		ck_assert_uint_eq(idmap_get(&m, id), model[k]);
	}
	/* Never fuller than 3/4; given back when mostly empty. */
	ck_assert(m.n * 4 <= m.cap * 3);
	ck_assert(peak_cap >= 16384);
	for (size_t k = 0; k < IDS; k++) {
		uint64_t id = k % 7 == 0 ? (uint64_t)k << 40 | 1 : (uint64_t)k + 1;
		if (model[k])
			ck_assert_uint_eq(idmap_del(&m, id), model[k]);
	}
	ck_assert_uint_eq(m.n, 0);
	ck_assert_uint_lt(m.cap, peak_cap);
	ck_assert_uint_eq(idmap_bytes(&m), m.cap * 12);
	idmap_release(&m);
	free(model);
}
END_TEST

static Suite *idmap_suite(void)
{
	Suite *s = suite_create("idmap");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_steps, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_zero_id_refused);
	tcase_add_test(tc, test_random_against_model);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(idmap_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
