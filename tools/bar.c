/*
 * bar.c - see bar.h.
 *
 * The line is a row of fields, each one ASCII string but the path:
 *
 *   bar  pct  count  (item rate)  bytes  (byte rate)  failed  conflicts  path
 *
 * Fitting: the path is elastic and goes last, shortened from the left; it is
 * shown only when at least PATH_MIN columns (or the whole path) are left for
 * it.  When the rest does not fit either, fields are dropped in drop_order,
 * least useful first, until it does.  The count and the failed and conflict
 * counts are never dropped; if even they do not fit (a width under 20 or
 * twenty-digit counts) the line ends after the last of them that fits whole,
 * and a count alone wider than the line is cut at the width (it is ASCII).
 *
 * Columns of the path: one per character, two for East Asian wide ones (a
 * short table, not all of Unicode: enough that CJK and common emoji names do
 * not overflow the line).  Combining marks count one, which only leaves a
 * column unused.  Every control character and every byte that starts no valid
 * UTF-8 sequence is shown as '?', so a file name can neither break the line
 * nor send the terminal an escape sequence.
 */
#include "bar.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util/util.h"

#define DEFAULT_WIDTH 80
#define CELLS_MIN 5	  /* cells inside the brackets, at any width */
#define CELLS_MAX 30	  /* ... and at most, however wide */
#define PATH_MIN 10	  /* columns a shortened path needs to be worth showing */
#define RATE_MIN_SECS 1.0 /* no rates before this: they would be noise */
#define FIELD_MAX 48	  /* bytes of an ASCII field, with its NUL */
#define ELLIPSIS "..."

enum field { F_BAR, F_PCT, F_COUNT, F_IRATE, F_BYTES, F_BRATE, F_FAILED, F_CONFLICTS, F_PATH, F_N };

/* Dropped in this order until the line fits; the rest always stays. */
static const enum field drop_order[] = {F_PATH, F_IRATE, F_BRATE, F_BAR, F_BYTES, F_PCT};

/* A line being written: bytes bounded by the buffer, columns by the width. */
struct line {
	char *p;    /* the caller's buffer */
	size_t len; /* bytes written, without the NUL */
	size_t cap; /* bytes that may be written, without the NUL */
	int cols;   /* columns written */
	int width;  /* columns that may be written */
	bool full;  /* a piece did not fit: nothing more is written */
};

/*
 * Appends the n bytes of s, which take cols columns, whole or not at all.
 * Returns false (and writes nothing from then on) if they do not fit.
 */
static bool put(struct line *l, const char *s, size_t n, int cols)
{
	if (l->full || n > l->cap - l->len || cols > l->width - l->cols) {
		l->full = true;
		return false;
	}
	memcpy(l->p + l->len, s, n);
	l->len += n;
	l->cols += cols;
	return true;
}

/* Appends the ASCII string s, cut to what fits; a cut stops the line. */
static void put_ascii(struct line *l, const char *s)
{
	size_t n = strlen(s);
	size_t room = l->cap - l->len;

	if (l->full)
		return;
	if ((size_t)(l->width - l->cols) < room)
		room = (size_t)(l->width - l->cols);
	if (n > room) {
		while (room && s[room - 1] == ' ')
			room--; /* no space at the end of a cut */
		put(l, s, room, (int)room);
		l->full = true;
		return;
	}
	put(l, s, n, (int)n);
}

/*
 * Decodes the UTF-8 character at s, n > 0 bytes long.  Returns its length in
 * bytes with *cp set to it, or 1 with *cp = -1 when s[0] starts no valid
 * character (a stray continuation byte, a truncated, overlong or surrogate
 * sequence, or one beyond U+10FFFF).
 */
static size_t utf8_next(const unsigned char *s, size_t n, long *cp)
{
	size_t len;
	long c, min;

	*cp = -1;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2, c = s[0] & 0x1f, min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3, c = s[0] & 0x0f, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4, c = s[0] & 0x07, min = 0x10000;
	} else {
		return 1;
	}
	if (len > n)
		return 1;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 1;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 1;
	*cp = c;
	return len;
}

/* True for what a terminal must not be sent from a file name. */
static bool unprintable(long cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp < 0xa0);
}

/* East Asian wide and fullwidth ranges, after Markus Kuhn's wcwidth, and emoji. */
static const struct {
	long first, last;
} wide[] = {
	{0x1100, 0x115f},   {0x2329, 0x232a},	{0x2e80, 0x303e},   {0x3040, 0xa4cf},
	{0xac00, 0xd7a3},   {0xf900, 0xfaff},	{0xfe10, 0xfe19},   {0xfe30, 0xfe6f},
	{0xff00, 0xff60},   {0xffe0, 0xffe6},	{0x1f300, 0x1f64f}, {0x1f680, 0x1f6ff},
	{0x1f900, 0x1f9ff}, {0x20000, 0x2fffd}, {0x30000, 0x3fffd},
};

/* Columns that character cp (-1: an invalid byte) takes once shown. */
static int char_cols(long cp)
{
	for (size_t i = 0; i < ARRAY_SIZE(wide); i++)
		if (cp >= wide[i].first && cp <= wide[i].last)
			return 2;
	return 1;
}

/* Columns the whole of path takes once shown. */
static int path_cols(const char *path)
{
	const unsigned char *s = (const unsigned char *)path;
	size_t n = strlen(path);
	int cols = 0;
	long cp;

	while (n) {
		size_t len = utf8_next(s, n, &cp);
		cols += char_cols(cp);
		s += len;
		n -= len;
	}
	return cols;
}

/*
 * Appends path in at most avail columns: whole if it fits, else "..." and as
 * many whole characters of its end as fit.  avail >= PATH_MIN when the path
 * is longer than avail.
 */
static void put_path(struct line *l, const char *path, int avail)
{
	const unsigned char *s = (const unsigned char *)path;
	size_t n = strlen(path);
	int cols = path_cols(path);
	long cp;

	if (cols > avail) {
		put(l, ELLIPSIS, strlen(ELLIPSIS), (int)strlen(ELLIPSIS));
		while (n && cols > avail - (int)strlen(ELLIPSIS)) {
			size_t len = utf8_next(s, n, &cp);
			cols -= char_cols(cp);
			s += len;
			n -= len;
		}
	}
	while (n) {
		size_t len = utf8_next(s, n, &cp);
		if (cp < 0 || unprintable(cp))
			put(l, "?", 1, 1);
		else
			put(l, (const char *)s, len, char_cols(cp));
		s += len;
		n -= len;
	}
}

/* Field i of f as shown: the percentage is right-aligned only after the bar. */
static const char *shown(char f[][FIELD_MAX], const bool *on, int i)
{
	return i == F_PCT && !on[F_BAR] ? f[i] + strspn(f[i], " ") : f[i];
}

/* Percentage done of a known total: 100 only once done reaches it. */
static unsigned percent(uint64_t done, uint64_t total)
{
	double p;

	if (done >= total)
		return 100;
	p = (double)done * 100.0 / (double)total;
	return p >= 99.0 ? 99 : (unsigned)p;
}

/* Writes "[###.....]" of cells cells, full only once done reaches total. */
static void fill_bar(char *buf, int cells, uint64_t done, uint64_t total)
{
	int filled = cells;

	if (done < total) {
		double f = (double)done * cells / (double)total;
		filled = f >= cells - 1 ? cells - 1 : (int)f;
	}
	buf[0] = '[';
	memset(buf + 1, '#', (size_t)filled);
	memset(buf + 1 + filled, '.', (size_t)(cells - filled));
	buf[cells + 1] = ']';
	buf[cells + 2] = '\0';
}

int bar_render(const struct bar *b, int width, char *out, size_t outlen)
{
	char f[F_N][FIELD_MAX] = {{0}};
	char num[24]; /* a human_bytes() string */
	bool on[F_N];
	unsigned long long done = b->items_done, total = b->items_total;
	uint64_t bytes = b->bytes > 0 ? (uint64_t)b->bytes : 0;
	struct line l = {out, 0, outlen ? outlen - 1 : 0, 0, 0, false};
	const char *path = b->current ? b->current : "";
	int pcols = path_cols(path);
	int cells, need;
	size_t k;

	if (!outlen)
		return 0;
	if (width <= 0)
		width = DEFAULT_WIDTH;
	l.width = width;
	cells = width / 8 < CELLS_MIN ? CELLS_MIN : width / 8 > CELLS_MAX ? CELLS_MAX : width / 8;

	if (total) {
		fill_bar(f[F_BAR], cells, done, total);
		snprintf(f[F_PCT], FIELD_MAX, "%3u%%", percent(done, total));
		if (done > total)
			snprintf(f[F_COUNT], FIELD_MAX, "%llu/%llu+", done, done);
		else
			snprintf(f[F_COUNT], FIELD_MAX, "%llu/%llu", done, total);
	} else {
		snprintf(f[F_COUNT], FIELD_MAX, "%llu item%s", done, done == 1 ? "" : "s");
	}
	snprintf(f[F_BYTES], FIELD_MAX, "%s", human_bytes(bytes, num, sizeof(num)));
	if (isfinite(b->elapsed) && b->elapsed >= RATE_MIN_SECS) {
		double ir = (double)done / b->elapsed;
		snprintf(f[F_IRATE], FIELD_MAX, ir < 9.95 ? "(%.1f/s)" : "(%.0f/s)", ir);
		human_bytes((uint64_t)((double)bytes / b->elapsed), num, sizeof(num));
		snprintf(f[F_BRATE], FIELD_MAX, "(%s/s)", num);
	}
	if (b->failed)
		snprintf(f[F_FAILED], FIELD_MAX, "%llu failed", (unsigned long long)b->failed);
	if (b->conflicts)
		snprintf(f[F_CONFLICTS], FIELD_MAX, "%llu conflict%s",
			 (unsigned long long)b->conflicts, b->conflicts == 1 ? "" : "s");
	for (int i = 0; i < F_N; i++)
		on[i] = i == F_PATH ? pcols > 0 : f[i][0] != '\0';

	/* Drop fields until the rest and a useful piece of the path fit. */
	for (k = 0;; k++) {
		need = -1; /* no separator before the first field */
		for (int i = 0; i < F_PATH; i++)
			if (on[i])
				need += 1 + (int)strlen(shown(f, on, i));
		if (on[F_PATH])
			need += 1 + (pcols < PATH_MIN ? pcols : PATH_MIN);
		if (need <= width || k == ARRAY_SIZE(drop_order))
			break;
		on[drop_order[k]] = false;
	}

	for (int i = 0; i < F_N && !l.full; i++) {
		const char *s = shown(f, on, i);
		if (!on[i])
			continue;
		if (l.cols && i != F_PATH && 1 + (int)strlen(s) > width - l.cols)
			break; /* too narrow even for the counts: no half words */
		if (l.cols)
			put_ascii(&l, " ");
		if (i == F_PATH)
			put_path(&l, path, width - l.cols);
		else
			put_ascii(&l, s); /* cut only if it is the count alone */
	}
	out[l.len] = '\0';
	return l.cols;
}
