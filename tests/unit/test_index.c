/*
 * test_index.c - unit tests for the listing queries of src/cache/index.c
 * (index_list, index_subdirs_after), on a real SQLite index in a temporary
 * directory.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache/index.h"

static char dir[] = "/tmp/ofsync-test-index-XXXXXX";
static struct index *ix;
static uint64_t share, root;

static void setup(void)
{
	char path[256];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/index.db", dir);
	ck_assert_int_eq(index_open(path, &ix), 0);
	ck_assert_int_eq(index_share(ix, "//srv/share", &share, &root), 0);
}

static void teardown(void)
{
	char cmd[300];

	index_close(ix);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(dir, "/tmp/ofsync-test-index-XXXXXX");
}

/* Inserts name below parent; returns its id. */
static uint64_t add(uint64_t parent, const char *name, int type, int64_t size, int64_t mtime,
		    uint32_t mode, int64_t listed)
{
	struct index_item it;

	index_item_init(&it);
	it.share = share;
	it.parent = parent;
	it.name = strdup(name);
	it.type = type;
	it.size = size;
	it.mtime = mtime;
	it.mode = mode;
	it.listed = listed;
	ck_assert_int_eq(rangeset_add(&it.present, 0, 10), 0);
	ck_assert_int_eq(index_insert(ix, &it), 0);
	uint64_t id = it.id;
	index_item_release(&it);
	return id;
}

struct seen {
	char names[8][32];
	struct index_item it[8];
	size_t n;
	size_t stop_after; /* 0: never */
};

static int collect(void *arg, const struct index_item *it)
{
	struct seen *s = arg;

	ck_assert_uint_lt(s->n, 8);
	snprintf(s->names[s->n], sizeof(s->names[s->n]), "%s", it->name);
	s->it[s->n] = *it;
	s->it[s->n].name = s->names[s->n];
	s->n++;
	return s->stop_after && s->n == s->stop_after ? 7 : 0;
}

START_TEST(list_gives_what_a_stat_shows_in_name_order)
{
	uint64_t b = add(root, "b.txt", ITEM_FILE, 1234, 5000000000LL, 0640, 0);
	uint64_t a = add(root, "a", ITEM_DIR, 0, 7000000000LL, 0750, 42);
	struct seen s = {0};

	add(a, "inner", ITEM_FILE, 1, 1, 0644, 0); /* another directory's */
	ck_assert_int_eq(index_list(ix, root, collect, &s), 0);
	ck_assert_uint_eq(s.n, 2);
	ck_assert_str_eq(s.names[0], "a");
	ck_assert_uint_eq(s.it[0].id, a);
	ck_assert_int_eq(s.it[0].type, ITEM_DIR);
	ck_assert_int_eq(s.it[0].mtime, 7000000000LL);
	ck_assert_uint_eq(s.it[0].mode, 0750);
	ck_assert_uint_eq(s.it[0].parent, root);
	ck_assert_str_eq(s.names[1], "b.txt");
	ck_assert_uint_eq(s.it[1].id, b);
	ck_assert_int_eq(s.it[1].type, ITEM_FILE);
	ck_assert_int_eq(s.it[1].size, 1234);
	ck_assert_int_eq(s.it[1].mtime, 5000000000LL);
	ck_assert_uint_eq(s.it[1].mode, 0640);
	/* Only the listing's fields: the ranges are not read. */
	ck_assert_uint_eq(s.it[1].present.n, 0);
}
END_TEST

START_TEST(list_stops_when_told_and_lists_an_empty_directory)
{
	struct seen s = {.stop_after = 2};

	add(root, "x", ITEM_FILE, 0, 0, 0644, 0);
	add(root, "y", ITEM_FILE, 0, 0, 0644, 0);
	add(root, "z", ITEM_FILE, 0, 0, 0644, 0);
	ck_assert_int_eq(index_list(ix, root, collect, &s), 7);
	ck_assert_uint_eq(s.n, 2);
	s = (struct seen){0};
	ck_assert_int_eq(index_list(ix, root + 1000, collect, &s), 0);
	ck_assert_uint_eq(s.n, 0);
}
END_TEST

/* index_subdirs_after(parent, after, max) gives exactly the ids want[0..n). */
static void expect_subdirs(uint64_t parent, uint64_t after, size_t max, const uint64_t *want,
			   size_t nwant)
{
	struct index_subdir sub[4];
	size_t n = 99;

	ck_assert_uint_le(max, 4);
	ck_assert_int_eq(index_subdirs_after(ix, parent, after, sub, max, &n), 0);
	ck_assert_uint_eq(n, nwant);
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_eq(sub[i].id, want[i]);
}

START_TEST(subdirs_after_skip_files_and_follow_name_order)
{
	uint64_t d1 = add(root, "d1", ITEM_DIR, 0, 0, 0755, 11);
	uint64_t f = add(root, "d1.5", ITEM_FILE, 0, 0, 0644, 0);
	uint64_t d2 = add(root, "d2", ITEM_DIR, 0, 0, 0755, 0);
	uint64_t d3 = add(root, "d3", ITEM_DIR, 0, 0, 0755, 33);
	uint64_t d4 = add(root, "d4", ITEM_DIR, 0, 0, 0755, 0);
	struct index_subdir sub[1];
	size_t n;

	expect_subdirs(root, 0, 2, (uint64_t[]){d1, d2}, 2);	  /* the first ones, at most 2 */
	expect_subdirs(root, d1, 4, (uint64_t[]){d2, d3, d4}, 3); /* the file between skipped */
	expect_subdirs(root, f, 1, (uint64_t[]){d2}, 1);	  /* after a file, by its name */
	expect_subdirs(root, d4, 4, NULL, 0);			  /* after the last one */
	expect_subdirs(d1, 0, 4, NULL, 0);			  /* no subdirectories */
	/* Each comes with its listing time. */
	ck_assert_int_eq(index_subdirs_after(ix, root, d2, sub, 1, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(sub[0].id, d3);
	ck_assert_int_eq(sub[0].listed, 33);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("index");
	TCase *tc = tcase_create("listing");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, list_gives_what_a_stat_shows_in_name_order);
	tcase_add_test(tc, list_stops_when_told_and_lists_an_empty_directory);
	tcase_add_test(tc, subdirs_after_skip_files_and_follow_name_order);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
