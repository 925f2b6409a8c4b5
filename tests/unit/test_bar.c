/*
 * test_bar.c - unit tests for tools/bar.c, the progress line of `ofsync sync`.
 *
 * Columns are counted with the C library's mbstowcs() and wcswidth() in
 * C.UTF-8, not with bar.c's own counting: they also fail on invalid UTF-8
 * and on control characters, which the line must never contain.
 */
#include <check.h>
#include <locale.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "../../tools/bar.h"

#define MIB (1024 * 1024)
#define BUFLEN 4096

/* Display columns of line as a terminal shows it; -1 if not printable UTF-8. */
static int columns(const char *line)
{
	wchar_t w[BUFLEN];
	size_t n = mbstowcs(w, line, BUFLEN);

	if (n == (size_t)-1 || n == BUFLEN)
		return -1;
	return wcswidth(w, n);
}

/* Renders b at width into a large buffer and checks what holds for every line. */
static const char *render(const struct bar *b, int width)
{
	static char out[BUFLEN];
	int cols, max = width <= 0 ? 80 : width;

	memset(out, 'X', sizeof(out));
	cols = bar_render(b, width, out, sizeof(out));
	ck_assert_msg(memchr(out, '\0', sizeof(out)) != NULL, "width %d: no NUL", width);
	ck_assert_msg(columns(out) >= 0, "width %d: not printable UTF-8: '%s'", width, out);
	ck_assert_msg(columns(out) <= max, "width %d: %d columns: '%s'", width, columns(out), out);
	ck_assert_msg(cols == columns(out), "width %d: returned %d, shows %d: '%s'", width, cols,
		      columns(out), out);
	return out;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && !strcmp(s + n - t, tail);
}

/* ---- whole lines, as the user sees them ---- */

static const struct line_case {
	const char *name;
	struct bar b;
	int width;
	const char *want;
} line_cases[] = {
	{"known total, rates, path",
	 {250, 1000, 0, 0, 3 * MIB, "docs/report.odt", 5.0},
	 80,
	 "[##........]  25% 250/1000 (50/s) 3.0 MiB (614.4 KiB/s) docs/report.odt"},
	{"unknown total", {7, 0, 0, 0, 0, NULL, 0.0}, 80, "7 items 0 B"},
	{"one item", {1, 0, 0, 0, 1, "", 0.0}, 80, "1 item 1 B"},
	{"nothing yet", {0, 0, 0, 0, 0, NULL, 0.0}, 80, "0 items 0 B"},
	{"known total, nothing done",
	 {0, 10, 0, 0, 0, NULL, 0.0},
	 80,
	 "[..........]   0% 0/10 0 B"},
	{"done", {10, 10, 0, 0, 0, NULL, 0.0}, 80, "[##########] 100% 10/10 0 B"},
	{"one short of done",
	 {9999, 10000, 0, 0, 0, NULL, 0.0},
	 80,
	 "[#########.]  99% 9999/10000 0 B"},
	{"a hair short of a huge total",
	 {UINT64_MAX - 1, UINT64_MAX, 0, 0, 0, NULL, 0.0},
	 80,
	 "[#########.]  99% 18446744073709551614/18446744073709551615 0 B"},
	{"total exceeded",
	 {5003, 5000, 0, 0, 0, NULL, 0.0},
	 80,
	 "[##########] 100% 5003/5003+ 0 B"},
	{"failed and a conflict",
	 {10, 10, 2, 1, 2048, "x", 0.0},
	 80,
	 "[##########] 100% 10/10 2.0 KiB 2 failed 1 conflict x"},
	{"conflicts", {3, 0, 0, 3, 0, NULL, 0.0}, 80, "3 items 0 B 3 conflicts"},
	{"slow rate", {1, 0, 0, 0, 0, NULL, 2.0}, 80, "1 item (0.5/s) 0 B (0 B/s)"},
	{"rates from one second",
	 {3, 0, 0, 0, 3 * MIB, NULL, 1.0},
	 80,
	 "3 items (3.0/s) 3.0 MiB (3.0 MiB/s)"},
	{"no rates before", {3, 0, 0, 0, 3 * MIB, NULL, 0.99}, 80, "3 items 3.0 MiB"},
	{"negative elapsed", {3, 0, 0, 0, 0, NULL, -5.0}, 80, "3 items 0 B"},
	{"negative bytes", {3, 0, 0, 0, -4096, NULL, 10.0}, 80, "3 items (0.3/s) 0 B (0 B/s)"},
	{"path shortened from the left",
	 {1, 2, 0, 0, 0, "some/very/long/directory/name/file.txt", 0.0},
	 40,
	 "[##...]  50% 1/2 0 B ...ry/name/file.txt"},
	{"path dropped before the rates",
	 {250, 1000, 0, 0, 3 * MIB, "docs/report.odt", 5.0},
	 60,
	 "[#......]  25% 250/1000 (50/s) 3.0 MiB (614.4 KiB/s)"},
	{"width 20, known total",
	 {250, 1000, 0, 0, 3 * MIB, "docs/report.odt", 5.0},
	 20,
	 "25% 250/1000 3.0 MiB"},
	{"width 20, unknown total",
	 {250, 0, 0, 0, 3 * MIB, "docs/report.odt", 5.0},
	 20,
	 "250 items 3.0 MiB"},
	{"width 20 keeps failures",
	 {1234, 5000, 3, 1, 3 * MIB, "docs/report.odt", 5.0},
	 20,
	 "1234/5000 3 failed"},
	{"width 0 is 80",
	 {250, 1000, 0, 0, 3 * MIB, "docs/report.odt", 5.0},
	 0,
	 "[##........]  25% 250/1000 (50/s) 3.0 MiB (614.4 KiB/s) docs/report.odt"},
	{"negative width is 80",
	 {250, 1000, 0, 0, 3 * MIB, "docs/report.odt", 5.0},
	 -1,
	 "[##........]  25% 250/1000 (50/s) 3.0 MiB (614.4 KiB/s) docs/report.odt"},
	{"control characters and bad UTF-8",
	 {0, 0, 0, 0, 0,
	  "a\nb\x1b[31mc\xff\xc3"
	  "d\xc2\x9b\xc0\xaf\xed\xa0\x80\xe2\x82",
	  0.0},
	 80,
	 "0 items 0 B a?b?[31mc??d????????"},
};

START_TEST(test_line)
{
	const struct line_case *c = &line_cases[_i];
	const char *got = render(&c->b, c->width);

	ck_assert_msg(!strcmp(got, c->want), "%s:\n got '%s'\nwant '%s'", c->name, got, c->want);
}
END_TEST

/* ---- every width ---- */

static const struct bar sweep_bars[] = {
	{1234, 5000, 3, 1, 12900000, "photos/2023/Ferien in Köln/IMG_0042.JPG", 22.0},
	{1234, 5000, 0, 0, 12900000, "写真/東京/夏休み/家族旅行の写真ファイル.jpg", 22.0},
	{5, 0, 0, 0, 100, "emoji/😀😀😀😀😀/🎉🎉🎉.txt", 0.0},
	{5003, 5000, 0, 7, 1, "éééééééééééééééééééééééééééééééééééééééé", 3.0},
	{UINT64_MAX, UINT64_MAX - 1, UINT64_MAX, UINT64_MAX, INT64_MAX, "a\tb\x1b\xff", 1e-300},
	{UINT64_MAX - 1, UINT64_MAX, 0, 0, INT64_MAX, NULL, 1.5},
	{0, 1, 0, 0, INT64_MIN, "/", INFINITY},
	{0, 0, 0, 0, 0, "", NAN},
};

/* The count field always shows, whole, when the width has room for it. */
START_TEST(test_every_width)
{
	const struct bar *b = &sweep_bars[_i];
	char count[64];

	if (!b->items_total)
		snprintf(count, sizeof(count), "%llu item%s", (unsigned long long)b->items_done,
			 b->items_done == 1 ? "" : "s");
	else if (b->items_done > b->items_total)
		snprintf(count, sizeof(count), "%llu/%llu+", (unsigned long long)b->items_done,
			 (unsigned long long)b->items_done);
	else
		snprintf(count, sizeof(count), "%llu/%llu", (unsigned long long)b->items_done,
			 (unsigned long long)b->items_total);
	for (int width = -2; width <= 300; width++) {
		const char *got = render(b, width);
		ck_assert_msg(strchr(got, '\0') != got, "width %d: empty", width);
		if (width <= 0 || width >= (int)strlen(count))
			ck_assert_msg(strstr(got, count), "width %d: no '%s' in '%s'", width, count,
				      got);
		ck_assert_msg(got[0] != ' ' && !ends_with(got, " "), "width %d: '%s'", width, got);
	}
}
END_TEST

/* ---- the path ---- */

static const char *const paths[] = {
	"some/very/long/directory/name/file.txt",
	"éééééééééééééééééééééééééééééééééééééééé",
	"写真/東京/夏休み/家族旅行の写真ファイル.jpg",
	"emoji/😀😀😀😀😀/🎉🎉🎉.txt",
	"mixé/日本/😀/a/ü/b/漢字/c.txt",
};

/*
 * Whatever the width: the path shows whole, or "..." and the end of it, cut
 * between characters, using all the room there is but a wide character's
 * second column; or not at all when under 10 columns are left.
 */
START_TEST(test_path_tail)
{
	const char *path = paths[_i];
	struct bar b = {1, 0, 0, 0, 0, path, 0.0}; /* "1 item 0 B " before it */
	const int head = 11;

	for (int width = 1; width <= 200; width++) {
		const char *got = render(&b, width);
		const char *shown = got + head;
		int cols = columns(got);
		if (width - head < 10 && width - head < columns(path)) {
			ck_assert_msg(!strcmp(got, "1 item 0 B") || width < head,
				      "width %d: path in '%s'", width, got);
			continue;
		}
		ck_assert_msg(!strncmp(got, "1 item 0 B ", head), "width %d: '%s'", width, got);
		if (columns(path) <= width - head) {
			ck_assert_str_eq(shown, path);
			continue;
		}
		ck_assert_msg(!strncmp(shown, "...", 3), "width %d: '%s'", width, got);
		ck_assert_msg(ends_with(path, shown + 3), "width %d: '%s' is no tail of '%s'",
			      width, shown + 3, path);
		ck_assert_msg(cols == width || cols == width - 1, "width %d: only %d columns: '%s'",
			      width, cols, got);
	}
}
END_TEST

/* ---- the bar and percentage over a whole run, and past its total ---- */

START_TEST(test_never_past_full)
{
	const uint64_t totals[] = {1, 3, 7, 10, 99, 1000, UINT64_MAX};

	for (size_t t = 0; t < sizeof(totals) / sizeof(totals[0]); t++) {
		uint64_t total = totals[t];
		int last_pct = -1, last_hashes = -1;
		for (uint64_t step = 0; step <= 300; step++) {
			/* Past the total from step 150 on, but for the largest. */
			uint64_t done = total == UINT64_MAX ?
						(step < 150 ? total / 150 * step : total) :
						step * total / 150;
			struct bar b = {done, total, 0, 0, 0, NULL, 0.0};
			const char *got = render(&b, 80);
			const char *open = strchr(got, '['), *close = strchr(got, ']');
			int pct, hashes = 0;
			char want[64];

			ck_assert_msg(open == got && close == got + 11, "'%s'", got);
			for (const char *p = open + 1; p < close; p++) {
				ck_assert_msg(*p == '#' || *p == '.', "'%s'", got);
				hashes += *p == '#';
			}
			ck_assert_int_eq(sscanf(close + 1, "%d%%", &pct), 1);
			ck_assert_msg(pct >= 0 && pct <= 100, "'%s'", got);
			ck_assert_msg((pct == 100) == (done >= total), "'%s'", got);
			ck_assert_msg((hashes == 10) == (done >= total), "'%s'", got);
			ck_assert_msg(pct >= last_pct && hashes >= last_hashes, "went back: '%s'",
				      got);
			last_pct = pct;
			last_hashes = hashes;
			if (done > total)
				snprintf(want, sizeof(want), " %llu/%llu+ ",
					 (unsigned long long)done, (unsigned long long)done);
			else
				snprintf(want, sizeof(want), " %llu/%llu ",
					 (unsigned long long)done, (unsigned long long)total);
			ck_assert_msg(strstr(got, want), "no '%s' in '%s'", want, got);
		}
	}
}
END_TEST

/* ---- rates ---- */

static const double no_rate_elapsed[] = {0.0, -0.0, 1e-9,     0.5,	-1.0,
					 NAN, -NAN, INFINITY, -INFINITY};

START_TEST(test_no_rate)
{
	struct bar b = {1000, 2000, 0, 0, 5 * MIB, "f", no_rate_elapsed[_i]};
	const char *got = render(&b, 200);

	ck_assert_msg(!strstr(got, "/s") && !strstr(got, "nan") && !strstr(got, "inf"),
		      "elapsed %g: '%s'", no_rate_elapsed[_i], got);
	ck_assert_str_eq(got, "[############.............]  50% 1000/2000 5.0 MiB f");
}
END_TEST

/* ---- the caller's buffer ---- */

START_TEST(test_small_buffer)
{
	struct bar b = {1234, 5000, 3, 1, 12900000, "写真/Köln/😀/file.txt", 22.0};
	char full[BUFLEN], out[BUFLEN];
	int want = bar_render(&b, 120, full, sizeof(full));

	ck_assert_uint_le(strlen(full) + 1, BAR_BUFLEN(120));
	for (size_t len = 1; len <= strlen(full) + 1; len++) {
		int cols;
		memset(out, 'X', sizeof(out));
		cols = bar_render(&b, 120, out, len);
		ck_assert_msg(out[len] == 'X', "outlen %zu: wrote past it", len);
		ck_assert_msg(strlen(out) < len, "outlen %zu: no NUL", len);
		ck_assert_msg(!strncmp(out, full, strlen(out)), "outlen %zu: '%s'", len, out);
		ck_assert_msg(columns(out) == cols, "outlen %zu: '%s' not whole characters", len,
			      out);
		ck_assert_int_le(cols, want);
	}
	ck_assert_str_eq(out, full);
	memset(out, 'X', sizeof(out));
	ck_assert_int_eq(bar_render(&b, 120, out, 0), 0);
	ck_assert_int_eq(out[0], 'X');
}
END_TEST

static Suite *bar_suite(void)
{
	Suite *s = suite_create("bar");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_line, 0, sizeof(line_cases) / sizeof(line_cases[0]));
	tcase_add_loop_test(tc, test_every_width, 0, sizeof(sweep_bars) / sizeof(sweep_bars[0]));
	tcase_add_loop_test(tc, test_path_tail, 0, sizeof(paths) / sizeof(paths[0]));
	tcase_add_test(tc, test_never_past_full);
	tcase_add_loop_test(tc, test_no_rate, 0,
			    sizeof(no_rate_elapsed) / sizeof(no_rate_elapsed[0]));
	tcase_add_test(tc, test_small_buffer);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	if (!setlocale(LC_CTYPE, "C.UTF-8")) {
		fprintf(stderr, "test_bar: no C.UTF-8 locale to count columns with\n");
		return EXIT_FAILURE;
	}
	sr = srunner_create(bar_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
