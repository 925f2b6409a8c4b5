/* test_walkers.c - unit tests for src/fs/walkers.c. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "fs/walkers.h"

#define ROOT 1
#define FILES 100 /* files in each directory of the walks below */

/* Subdirectory k of ROOT (ids 1000...). */
static uint64_t sub(unsigned k)
{
	return 1000 + k;
}

/*
 * A walker pid opens ROOT then its subdirectories 0..ndirs-1, reading each
 * listing; one that stats looks up every file of a listing given bare.
 * Counts the listings given bare into *bare and the probes into *probes.
 */
static void walk(struct walkers *ws, pid_t pid, unsigned ndirs, int stats, unsigned *bare,
		 unsigned *probes)
{
	*bare = *probes = 0;
	ck_assert_int_eq(walkers_open(ws, pid, ROOT, 0), WALK_PLUS);
	for (unsigned k = 0; k < ndirs; k++) {
		enum walk_listing how = walkers_open(ws, pid, sub(k), ROOT);
		int b = walkers_listed(ws, pid, sub(k), how, FILES);

		ck_assert_int_eq(b, how != WALK_PLUS);
		*probes += how == WALK_PROBE;
		*bare += b;
		for (unsigned f = 0; b && stats && f < FILES; f++)
			walkers_lookup(ws, pid, sub(k));
	}
}

START_TEST(test_lone_open_gets_attributes)
{
	struct walkers ws;

	walkers_init(&ws);
	/* `ls -l dir`: a process's first directory, or one it did not step into. */
	ck_assert_int_eq(walkers_open(&ws, 10, sub(0), ROOT), WALK_PLUS);
	ck_assert_int_eq(walkers_open(&ws, 10, sub(1), ROOT), WALK_PLUS);
	ck_assert_int_eq(walkers_listed(&ws, 10, sub(1), WALK_PLUS, FILES), 0);
	/* The kernel's own requests are no walker's. */
	ck_assert_int_eq(walkers_open(&ws, 0, ROOT, 0), WALK_PLUS);
	ck_assert_int_eq(walkers_open(&ws, 0, sub(0), ROOT), WALK_PLUS);
}
END_TEST

START_TEST(test_walker_by_name_goes_bare)
{
	struct walkers ws;
	unsigned bare, probes;

	walkers_init(&ws);
	walk(&ws, 20, 1000, 0, &bare, &probes);
	/* One probe, then every listing names only. */
	ck_assert_uint_eq(probes, 1);
	ck_assert_uint_eq(bare, 1000);
}
END_TEST

START_TEST(test_walker_that_stats_gets_attributes)
{
	struct walkers ws;
	unsigned bare, probes;

	walkers_init(&ws);
	walk(&ws, 30, 1000, 1, &bare, &probes);
	/* Probes at 0, 257 and 770: 256, then 512 listings apart. */
	ck_assert_uint_eq(probes, 3);
	ck_assert_uint_eq(bare, 3);
}
END_TEST

START_TEST(test_few_stats_stay_bare)
{
	struct walkers ws;

	walkers_init(&ws);
	/* `find -name x -ls`: a stat of one match in 100 files. */
	walkers_open(&ws, 40, ROOT, 0);
	for (unsigned k = 0; k < 10; k++) {
		enum walk_listing how = walkers_open(&ws, 40, sub(k), ROOT);

		ck_assert_int_eq(how, k == 0 ? WALK_PROBE : WALK_BARE);
		ck_assert_int_eq(walkers_listed(&ws, 40, sub(k), how, FILES), 1);
		walkers_lookup(&ws, 40, sub(k));
	}
	/* 13 of 100 (1 + 100/8) make one that stats. */
	for (unsigned f = 0; f < 12; f++)
		walkers_lookup(&ws, 40, sub(9));
	ck_assert_int_eq(walkers_open(&ws, 40, sub(10), ROOT), WALK_PLUS);
}
END_TEST

START_TEST(test_lookups_elsewhere_do_not_count)
{
	struct walkers ws;

	walkers_init(&ws);
	walkers_open(&ws, 50, ROOT, 0);
	ck_assert_int_eq(walkers_open(&ws, 50, sub(0), ROOT), WALK_PROBE);
	ck_assert_int_eq(walkers_listed(&ws, 50, sub(0), WALK_PROBE, FILES), 1);
	/* Another process, or another directory, looks up files. */
	for (unsigned f = 0; f < FILES; f++) {
		walkers_lookup(&ws, 51, sub(0));
		walkers_lookup(&ws, 50, sub(7));
	}
	ck_assert_int_eq(walkers_open(&ws, 50, sub(1), ROOT), WALK_BARE);
}
END_TEST

START_TEST(test_big_probe_goes_with_attributes)
{
	struct walkers ws;
	enum walk_listing how;

	walkers_init(&ws);
	walkers_open(&ws, 60, ROOT, 0);
	how = walkers_open(&ws, 60, sub(0), ROOT);
	ck_assert_int_eq(how, WALK_PROBE);
	/* A probe of too many files is not made: the next directory probes. */
	ck_assert_int_eq(walkers_listed(&ws, 60, sub(0), how, WALKERS_PROBE_MAX + 1), 0);
	how = walkers_open(&ws, 60, sub(1), ROOT);
	ck_assert_int_eq(how, WALK_PROBE);
	ck_assert_int_eq(walkers_listed(&ws, 60, sub(1), how, 10), 1);
	/* Once known to walk by name, big listings go bare too. */
	how = walkers_open(&ws, 60, sub(2), ROOT);
	ck_assert_int_eq(how, WALK_BARE);
	ck_assert_int_eq(walkers_listed(&ws, 60, sub(2), how, 100000), 1);
}
END_TEST

START_TEST(test_deeper_steps_and_returns)
{
	struct walkers ws;

	walkers_init(&ws);
	/* ROOT/a/b/c, then back up to ROOT/a2: each a step into one opened lately. */
	walkers_open(&ws, 70, ROOT, 0);
	ck_assert_int_eq(walkers_open(&ws, 70, 2, ROOT), WALK_PROBE);
	walkers_listed(&ws, 70, 2, WALK_PROBE, 5);
	ck_assert_int_eq(walkers_open(&ws, 70, 3, 2), WALK_BARE);
	walkers_listed(&ws, 70, 3, WALK_BARE, 5);
	ck_assert_int_eq(walkers_open(&ws, 70, 4, 3), WALK_BARE);
	walkers_listed(&ws, 70, 4, WALK_BARE, 5);
	ck_assert_int_eq(walkers_open(&ws, 70, 5, ROOT), WALK_BARE);
	/* A directory far from the walk is a lone open. */
	ck_assert_int_eq(walkers_open(&ws, 70, 900, 800), WALK_PLUS);
}
END_TEST

START_TEST(test_least_recent_walker_is_forgotten)
{
	struct walkers ws;

	walkers_init(&ws);
	for (pid_t p = 100; p < 100 + WALKERS_MAX + 1; p++)
		walkers_open(&ws, p, ROOT, 0);
	/* 100 was forgotten to make room: its next open is its first. */
	ck_assert_int_eq(walkers_open(&ws, 100, sub(0), ROOT), WALK_PLUS);
	/* 102 is still known (101 went for 100). */
	ck_assert_int_eq(walkers_open(&ws, 102, sub(0), ROOT), WALK_PROBE);
}
END_TEST

static Suite *walkers_suite(void)
{
	Suite *s = suite_create("walkers");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_lone_open_gets_attributes);
	tcase_add_test(tc, test_walker_by_name_goes_bare);
	tcase_add_test(tc, test_walker_that_stats_gets_attributes);
	tcase_add_test(tc, test_few_stats_stay_bare);
	tcase_add_test(tc, test_lookups_elsewhere_do_not_count);
	tcase_add_test(tc, test_big_probe_goes_with_attributes);
	tcase_add_test(tc, test_deeper_steps_and_returns);
	tcase_add_test(tc, test_least_recent_walker_is_forgotten);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(walkers_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
