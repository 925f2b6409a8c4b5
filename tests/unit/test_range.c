/* test_range.c - unit tests for src/util/range.c. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/range.h"

#define MAXR 8
#define END_OF_LIST  \
	{            \
		0, 0 \
	}

/* A list of ranges ends at the first {0, 0}. */
struct list {
	struct range r[MAXR];
};

static size_t list_len(const struct list *l)
{
	size_t n = 0;

	while (n < MAXR && l->r[n].end != 0)
		n++;
	return n;
}

/* Builds a set by adding each range of l in turn. */
static void build(struct rangeset *rs, const struct list *l)
{
	rangeset_init(rs);
	for (size_t i = 0; i < list_len(l); i++)
		ck_assert_int_eq(rangeset_add(rs, l->r[i].start, l->r[i].end), 0);
}

/* Asserts that rs holds exactly the ranges of want, in order, and is sane. */
static void expect(const struct rangeset *rs, const struct list *want, const char *what)
{
	size_t n = list_len(want);
	char got[256] = "";
	size_t off = 0;

	for (size_t i = 0; i < rs->n && off < sizeof(got) - 48; i++)
		off += (size_t)snprintf(got + off, sizeof(got) - off, "[%llu,%llu)",
					(unsigned long long)rs->v[i].start,
					(unsigned long long)rs->v[i].end);
	ck_assert_msg(rs->n == n, "%s: got %zu ranges %s, want %zu", what, rs->n, got, n);
	for (size_t i = 0; i < n; i++) {
		ck_assert_msg(rs->v[i].start == want->r[i].start && rs->v[i].end == want->r[i].end,
			      "%s: range %zu: got %s", what, i, got);
	}
	for (size_t i = 0; i < rs->n; i++) {
		ck_assert(rs->v[i].start < rs->v[i].end);
		if (i)
			ck_assert(rs->v[i - 1].end < rs->v[i].start);
	}
}

/* ---- add ---- */

static const struct add_case {
	const char *name;
	struct list adds; /* applied in order */
	struct list want;
} add_cases[] = {
	{"single", {{{10, 20}}}, {{{10, 20}}}},
	{"empty range is a no-op", {{{10, 10}, {20, 5}}}, {{END_OF_LIST}}},
	{"disjoint sorted", {{{0, 5}, {10, 15}}}, {{{0, 5}, {10, 15}}}},
	{"disjoint unsorted",
	 {{{10, 15}, {0, 5}, {30, 40}, {20, 25}}},
	 {{{0, 5}, {10, 15}, {20, 25}, {30, 40}}}},
	{"adjacent after", {{{0, 5}, {5, 10}}}, {{{0, 10}}}},
	{"adjacent before", {{{5, 10}, {0, 5}}}, {{{0, 10}}}},
	{"overlap left", {{{10, 20}, {5, 12}}}, {{{5, 20}}}},
	{"overlap right", {{{10, 20}, {15, 25}}}, {{{10, 25}}}},
	{"contained", {{{10, 20}, {12, 18}}}, {{{10, 20}}}},
	{"covering", {{{12, 18}, {10, 20}}}, {{{10, 20}}}},
	{"identical", {{{10, 20}, {10, 20}}}, {{{10, 20}}}},
	{"bridge two", {{{0, 5}, {10, 15}, {5, 10}}}, {{{0, 15}}}},
	{"swallow many", {{{0, 1}, {2, 3}, {4, 5}, {6, 7}, {8, 9}, {0, 9}}}, {{{0, 9}}}},
	{"merge middle keep ends",
	 {{{0, 1}, {3, 4}, {6, 7}, {9, 10}, {3, 7}}},
	 {{{0, 1}, {3, 7}, {9, 10}}}},
	{"touch both sides", {{{0, 5}, {8, 10}, {5, 8}}}, {{{0, 10}}}},
	{"huge offsets",
	 {{{UINT64_MAX - 10, UINT64_MAX}, {0, 1}}},
	 {{{0, 1}, {UINT64_MAX - 10, UINT64_MAX}}}},
};

START_TEST(test_add)
{
	const struct add_case *c = &add_cases[_i];
	struct rangeset rs;

	build(&rs, &c->adds);
	expect(&rs, &c->want, c->name);
	rangeset_release(&rs);
}
END_TEST

/* ---- remove and truncate ---- */

static const struct cut_case {
	const char *name;
	struct list start;
	uint64_t from, to; /* remove [from, to); truncate to from when to == 0 */
	struct list want;
} remove_cases[] = {
	{"empty set", {{END_OF_LIST}}, 0, 10, {{END_OF_LIST}}},
	{"empty range", {{{0, 10}}}, 5, 5, {{{0, 10}}}},
	{"all", {{{0, 10}}}, 0, 10, {{END_OF_LIST}}},
	{"more than all", {{{5, 10}}}, 0, 100, {{END_OF_LIST}}},
	{"split", {{{0, 10}}}, 3, 6, {{{0, 3}, {6, 10}}}},
	{"head", {{{0, 10}}}, 0, 4, {{{4, 10}}}},
	{"tail", {{{0, 10}}}, 6, 10, {{{0, 6}}}},
	{"gap only", {{{0, 5}, {10, 15}}}, 5, 10, {{{0, 5}, {10, 15}}}},
	{"across two", {{{0, 5}, {10, 15}}}, 3, 12, {{{0, 3}, {12, 15}}}},
	{"across many", {{{0, 5}, {10, 15}, {20, 25}, {30, 35}}}, 3, 32, {{{0, 3}, {32, 35}}}},
	{"whole middle", {{{0, 5}, {10, 15}, {20, 25}}}, 10, 15, {{{0, 5}, {20, 25}}}},
	{"before all", {{{10, 20}}}, 0, 10, {{{10, 20}}}},
	{"after all", {{{10, 20}}}, 20, 30, {{{10, 20}}}},
	{"split at top",
	 {{{0, UINT64_MAX}}},
	 1,
	 UINT64_MAX - 1,
	 {{{0, 1}, {UINT64_MAX - 1, UINT64_MAX}}}},
};

START_TEST(test_remove)
{
	const struct cut_case *c = &remove_cases[_i];
	struct rangeset rs;

	build(&rs, &c->start);
	ck_assert_int_eq(rangeset_remove(&rs, c->from, c->to), 0);
	expect(&rs, &c->want, c->name);
	rangeset_release(&rs);
}
END_TEST

static const struct cut_case truncate_cases[] = {
	{"to zero", {{{0, 5}, {10, 15}}}, 0, 0, {{END_OF_LIST}}},
	{"beyond", {{{0, 5}, {10, 15}}}, 100, 0, {{{0, 5}, {10, 15}}}},
	{"at end", {{{0, 5}, {10, 15}}}, 15, 0, {{{0, 5}, {10, 15}}}},
	{"inside last", {{{0, 5}, {10, 15}}}, 12, 0, {{{0, 5}, {10, 12}}}},
	{"at start of last", {{{0, 5}, {10, 15}}}, 10, 0, {{{0, 5}}}},
	{"in gap", {{{0, 5}, {10, 15}}}, 7, 0, {{{0, 5}}}},
	{"inside first", {{{0, 5}, {10, 15}}}, 1, 0, {{{0, 1}}}},
	{"empty set", {{END_OF_LIST}}, 5, 0, {{END_OF_LIST}}},
};

START_TEST(test_truncate)
{
	const struct cut_case *c = &truncate_cases[_i];
	struct rangeset rs;

	build(&rs, &c->start);
	rangeset_truncate(&rs, c->from);
	expect(&rs, &c->want, c->name);
	rangeset_release(&rs);
}
END_TEST

/* ---- queries ---- */

static const struct list query_set = {{{10, 20}, {30, 40}, {50, 60}}};

static const struct query_case {
	uint64_t start, end;
	bool contains, overlaps;
	struct list missing, present;
} query_cases[] = {
	{0, 0, true, false, {{END_OF_LIST}}, {{END_OF_LIST}}},
	{15, 15, true, false, {{END_OF_LIST}}, {{END_OF_LIST}}},
	{20, 10, true, false, {{END_OF_LIST}}, {{END_OF_LIST}}},
	{0, 10, false, false, {{{0, 10}}}, {{END_OF_LIST}}},
	{0, 11, false, true, {{{0, 10}}}, {{{10, 11}}}},
	{10, 20, true, true, {{END_OF_LIST}}, {{{10, 20}}}},
	{12, 18, true, true, {{END_OF_LIST}}, {{{12, 18}}}},
	{19, 20, true, true, {{END_OF_LIST}}, {{{19, 20}}}},
	{20, 30, false, false, {{{20, 30}}}, {{END_OF_LIST}}},
	{19, 21, false, true, {{{20, 21}}}, {{{19, 20}}}},
	{10, 40, false, true, {{{20, 30}}}, {{{10, 20}, {30, 40}}}},
	{5,
	 65,
	 false,
	 true,
	 {{{5, 10}, {20, 30}, {40, 50}, {60, 65}}},
	 {{{10, 20}, {30, 40}, {50, 60}}}},
	{35, 55, false, true, {{{40, 50}}}, {{{35, 40}, {50, 55}}}},
	{60, 100, false, false, {{{60, 100}}}, {{END_OF_LIST}}},
	{59, 100, false, true, {{{60, 100}}}, {{{59, 60}}}},
};

START_TEST(test_query)
{
	const struct query_case *c = &query_cases[_i];
	struct rangeset rs, out = RANGESET_INIT;
	char name[64];

	build(&rs, &query_set);
	ck_assert_msg(rangeset_contains(&rs, c->start, c->end) == c->contains,
		      "contains [%llu,%llu)", (unsigned long long)c->start,
		      (unsigned long long)c->end);
	ck_assert_msg(rangeset_overlaps(&rs, c->start, c->end) == c->overlaps,
		      "overlaps [%llu,%llu)", (unsigned long long)c->start,
		      (unsigned long long)c->end);
	snprintf(name, sizeof(name), "missing [%llu,%llu)", (unsigned long long)c->start,
		 (unsigned long long)c->end);
	ck_assert_int_eq(rangeset_missing(&rs, c->start, c->end, &out), 0);
	expect(&out, &c->missing, name);
	snprintf(name, sizeof(name), "intersect [%llu,%llu)", (unsigned long long)c->start,
		 (unsigned long long)c->end);
	ck_assert_int_eq(rangeset_intersect(&rs, c->start, c->end, &out), 0);
	expect(&out, &c->present, name);
	rangeset_release(&out);
	rangeset_release(&rs);
}
END_TEST

START_TEST(test_query_empty_set)
{
	struct rangeset rs = RANGESET_INIT, out = RANGESET_INIT;
	const struct list all = {{{3, 9}}};
	const struct list none = {{END_OF_LIST}};

	ck_assert(!rangeset_contains(&rs, 0, 1));
	ck_assert(rangeset_contains(&rs, 1, 1));
	ck_assert(!rangeset_overlaps(&rs, 0, UINT64_MAX));
	ck_assert_uint_eq(rangeset_total(&rs), 0);
	ck_assert_int_eq(rangeset_missing(&rs, 3, 9, &out), 0);
	expect(&out, &all, "missing of empty");
	ck_assert_int_eq(rangeset_intersect(&rs, 3, 9, &out), 0);
	expect(&out, &none, "intersect of empty");
	rangeset_release(&out);
}
END_TEST

START_TEST(test_out_is_cleared)
{
	struct rangeset rs, out;
	const struct list set = {{{10, 20}}};
	const struct list junk = {{{100, 200}, {300, 400}}};
	const struct list want = {{{0, 10}}};

	build(&rs, &set);
	build(&out, &junk);
	ck_assert_int_eq(rangeset_missing(&rs, 0, 15, &out), 0);
	expect(&out, &want, "missing clears out");
	rangeset_release(&out);
	build(&out, &junk);
	ck_assert_int_eq(rangeset_intersect(&rs, 0, 5, &out), 0);
	ck_assert_uint_eq(out.n, 0);
	rangeset_release(&out);
	rangeset_release(&rs);
}
END_TEST

START_TEST(test_total)
{
	struct rangeset rs;
	const struct list set = {{{0, 10}, {20, 25}, {100, 101}}};

	build(&rs, &set);
	ck_assert_uint_eq(rangeset_total(&rs), 16);
	rangeset_clear(&rs);
	ck_assert_uint_eq(rangeset_total(&rs), 0);
	ck_assert_int_eq(rangeset_add(&rs, 0, UINT64_MAX), 0);
	ck_assert_uint_eq(rangeset_total(&rs), UINT64_MAX);
	rangeset_release(&rs);
}
END_TEST

START_TEST(test_copy_clear_release)
{
	struct rangeset a, b = RANGESET_INIT;
	const struct list set = {{{0, 10}, {20, 25}}};
	const struct list none = {{END_OF_LIST}};

	build(&a, &set);
	ck_assert_int_eq(rangeset_add(&b, 1000, 2000), 0);
	ck_assert_int_eq(rangeset_copy(&b, &a), 0);
	expect(&b, &set, "copy");
	/* The copy is independent of the original. */
	ck_assert_int_eq(rangeset_remove(&a, 0, 100), 0);
	expect(&b, &set, "copy after changing the source");
	ck_assert_int_eq(rangeset_copy(&b, &a), 0);
	expect(&b, &none, "copy of empty");
	ck_assert_int_eq(rangeset_copy(&b, &b), 0);
	rangeset_clear(&a);
	expect(&a, &none, "clear");
	ck_assert_int_eq(rangeset_add(&a, 5, 6), 0);
	rangeset_release(&a);
	ck_assert_ptr_null(a.v);
	ck_assert_uint_eq(a.n, 0);
	/* Reusable after release. */
	ck_assert_int_eq(rangeset_add(&a, 5, 6), 0);
	ck_assert_uint_eq(a.n, 1);
	rangeset_release(&a);
	rangeset_release(&b);
}
END_TEST

/* ---- encode / decode ---- */

START_TEST(test_codec_round_trip)
{
	struct rangeset rs = RANGESET_INIT, back = RANGESET_INIT;
	void *buf;
	size_t len;

	/* Empty set: NULL, 0, and it decodes back to empty. */
	ck_assert_int_eq(rangeset_encode(&rs, &buf, &len), 0);
	ck_assert_ptr_null(buf);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(rangeset_add(&back, 1, 2), 0);
	ck_assert_int_eq(rangeset_decode(&back, NULL, 0), 0);
	ck_assert_uint_eq(back.n, 0);

	for (uint64_t i = 0; i < 100; i++)
		ck_assert_int_eq(rangeset_add(&rs, i * 1000 + i, i * 1000 + 500), 0);
	ck_assert_int_eq(rangeset_add(&rs, UINT64_MAX - 1, UINT64_MAX), 0);
	ck_assert_int_eq(rangeset_encode(&rs, &buf, &len), 0);
	ck_assert_uint_eq(len, rs.n * 16);
	ck_assert_int_eq(rangeset_decode(&back, buf, len), 0);
	ck_assert_uint_eq(back.n, rs.n);
	ck_assert_mem_eq(back.v, rs.v, rs.n * sizeof(*rs.v));
	free(buf);
	rangeset_release(&back);
	rangeset_release(&rs);
}
END_TEST

START_TEST(test_codec_little_endian)
{
	struct rangeset rs = RANGESET_INIT;
	static const unsigned char want[16] = {0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
					       0x09, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01};
	void *buf;
	size_t len;

	ck_assert_int_eq(rangeset_add(&rs, 0x0102030405060708ULL, 0x0102030405060709ULL), 0);
	ck_assert_int_eq(rangeset_encode(&rs, &buf, &len), 0);
	ck_assert_uint_eq(len, 16);
	ck_assert_mem_eq(buf, want, 16);
	free(buf);
	rangeset_release(&rs);
}
END_TEST

static void put64(unsigned char *p, uint64_t x)
{
	for (int b = 0; b < 8; b++)
		p[b] = (unsigned char)(x >> (8 * b));
}

static const struct bad_case {
	const char *name;
	size_t len;	   /* bytes of the buffer to pass */
	uint64_t words[6]; /* start, end pairs */
} bad_decode_cases[] = {
	{"length 1", 1, {0, 1}},
	{"length 15", 15, {0, 1}},
	{"length 17", 17, {0, 1, 5, 6}},
	{"empty range", 16, {5, 5}},
	{"reversed range", 16, {6, 5}},
	{"unsorted", 32, {10, 20, 0, 5}},
	{"overlapping", 32, {0, 10, 5, 15}},
	{"adjacent", 32, {0, 10, 10, 15}},
	{"duplicate", 32, {0, 10, 0, 10}},
	{"bad third", 48, {0, 1, 3, 4, 4, 9}},
};

START_TEST(test_decode_malformed)
{
	const struct bad_case *c = &bad_decode_cases[_i];
	unsigned char buf[48];
	struct rangeset rs = RANGESET_INIT;
	const struct list keep = {{{100, 200}}};

	for (int w = 0; w < 6; w++)
		put64(buf + 8 * w, c->words[w]);
	ck_assert_int_eq(rangeset_add(&rs, 100, 200), 0);
	ck_assert_msg(rangeset_decode(&rs, buf, c->len) == -EINVAL, "%s accepted", c->name);
	expect(&rs, &keep, c->name); /* unchanged */
	rangeset_release(&rs);
}
END_TEST

/* ---- against a model ---- */

#define MODEL 200

static void check_model(const struct rangeset *rs, const bool *bits)
{
	struct rangeset model = RANGESET_INIT;

	for (uint64_t b = 0; b < MODEL; b++)
		if (bits[b])
			ck_assert_int_eq(rangeset_add(&model, b, b + 1), 0);
	ck_assert_uint_eq(rs->n, model.n);
	if (model.n)
		ck_assert_mem_eq(rs->v, model.v, model.n * sizeof(*model.v));
	rangeset_release(&model);
}

/* Random adds, removes and truncates compared with a byte map. */
START_TEST(test_random_against_model)
{
	struct rangeset rs = RANGESET_INIT, out = RANGESET_INIT;
	bool bits[MODEL] = {false};
	unsigned seed = 12345;

	for (int step = 0; step < 3000; step++) {
		uint64_t a = (uint64_t)rand_r(&seed) % MODEL;
		uint64_t b = a + (uint64_t)rand_r(&seed) % 20;
		int op = rand_r(&seed) % 10;
		bool all = true, any = false;
		uint64_t total = 0, present = 0;

		if (b > MODEL)
			b = MODEL;
		if (op < 5) {
			ck_assert_int_eq(rangeset_add(&rs, a, b), 0);
			for (uint64_t x = a; x < b; x++)
				bits[x] = true;
		} else if (op < 9) {
			ck_assert_int_eq(rangeset_remove(&rs, a, b), 0);
			for (uint64_t x = a; x < b; x++)
				bits[x] = false;
		} else {
			rangeset_truncate(&rs, b);
			for (uint64_t x = b; x < MODEL; x++)
				bits[x] = false;
		}
		check_model(&rs, bits);
		for (uint64_t x = a; x < b; x++) {
			all = all && bits[x];
			any = any || bits[x];
			present += bits[x];
		}
		ck_assert(rangeset_contains(&rs, a, b) == all);
		ck_assert(rangeset_overlaps(&rs, a, b) == any);
		ck_assert_int_eq(rangeset_missing(&rs, a, b, &out), 0);
		ck_assert_uint_eq(rangeset_total(&out), (b - a) - present);
		for (size_t k = 0; k < out.n; k++)
			for (uint64_t x = out.v[k].start; x < out.v[k].end; x++)
				ck_assert(!bits[x]);
		ck_assert_int_eq(rangeset_intersect(&rs, a, b, &out), 0);
		ck_assert_uint_eq(rangeset_total(&out), present);
		for (size_t k = 0; k < out.n; k++)
			for (uint64_t x = out.v[k].start; x < out.v[k].end; x++)
				ck_assert(bits[x]);
		for (uint64_t x = 0; x < MODEL; x++)
			total += bits[x];
		ck_assert_uint_eq(rangeset_total(&rs), total);
	}
	rangeset_release(&out);
	rangeset_release(&rs);
}
END_TEST

static Suite *range_suite(void)
{
	Suite *s = suite_create("range");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_add, 0, sizeof(add_cases) / sizeof(add_cases[0]));
	tcase_add_loop_test(tc, test_remove, 0, sizeof(remove_cases) / sizeof(remove_cases[0]));
	tcase_add_loop_test(tc, test_truncate, 0,
			    sizeof(truncate_cases) / sizeof(truncate_cases[0]));
	tcase_add_loop_test(tc, test_query, 0, sizeof(query_cases) / sizeof(query_cases[0]));
	tcase_add_test(tc, test_query_empty_set);
	tcase_add_test(tc, test_out_is_cleared);
	tcase_add_test(tc, test_total);
	tcase_add_test(tc, test_copy_clear_release);
	tcase_add_test(tc, test_codec_round_trip);
	tcase_add_test(tc, test_codec_little_endian);
	tcase_add_loop_test(tc, test_decode_malformed, 0,
			    sizeof(bad_decode_cases) / sizeof(bad_decode_cases[0]));
	tcase_add_test(tc, test_random_against_model);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(range_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
