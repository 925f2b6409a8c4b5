/*
 * test_flags.c - the Synchronize flags: Windows values, names, and the
 * combinations refused before anything happens.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ofsync.h"

/* The values of OFFLINEFILES_SYNC_CONTROL_FLAG_* and _CR_* in Windows' cscobj.h. */
START_TEST(test_windows_values)
{
	ck_assert_uint_eq(OFSYNC_FILLSPARSE, 0x1);
	ck_assert_uint_eq(OFSYNC_SYNCIN, 0x2);
	ck_assert_uint_eq(OFSYNC_SYNCOUT, 0x4);
	ck_assert_uint_eq(OFSYNC_PINNEWFILES, 0x8);
	ck_assert_uint_eq(OFSYNC_PINLINKTARGETS, 0x10);
	ck_assert_uint_eq(OFSYNC_PINFORUSER, 0x20);
	ck_assert_uint_eq(OFSYNC_PINFORUSER_POLICY, 0x40);
	ck_assert_uint_eq(OFSYNC_PINFORALL, 0x80);
	ck_assert_uint_eq(OFSYNC_PINFORREDIR, 0x100);
	ck_assert_uint_eq(OFSYNC_LOWPRIORITY, 0x200);
	ck_assert_uint_eq(OFSYNC_ASYNCPROGRESS, 0x400);
	ck_assert_uint_eq(OFSYNC_INTERACTIVE, 0x800);
	ck_assert_uint_eq(OFSYNC_CONSOLE, 0x1000);
	ck_assert_uint_eq(OFSYNC_SKIPSUSPENDEDDIRS, 0x2000);
	ck_assert_uint_eq(OFSYNC_BACKGROUND, 0x10000);
	ck_assert_uint_eq(OFSYNC_NONEWFILESOUT, 0x20000);
	ck_assert_uint_eq(OFSYNC_CR_KEEPLOCAL, 0x10000000);
	ck_assert_uint_eq(OFSYNC_CR_KEEPREMOTE, 0x20000000);
	ck_assert_uint_eq(OFSYNC_CR_KEEPLATEST, 0x30000000);
}
END_TEST

START_TEST(test_names)
{
	int named = 0;

	for (int b = 0; b < 28; b++) {
		uint32_t bit = 1u << b;
		const char *n = ofsync_flag_name(bit);
		ck_assert_msg((n != NULL) == ((bit & OFSYNC_FLAGS_KNOWN) != 0), "bit %d", b);
		named += n != NULL;
	}
	ck_assert_int_eq(named, 16);
	ck_assert_str_eq(ofsync_flag_name(OFSYNC_NONEWFILESOUT), "NONEWFILESOUT");
	ck_assert_ptr_null(ofsync_flag_name(0));
}
END_TEST

static const struct {
	uint32_t flags;
	int async, progress;
	const char *err; /* NULL: accepted; else a word the reason must hold */
} cases[] = {
	{0, 0, 0, NULL},
	{OFSYNC_SYNCIN | OFSYNC_SYNCOUT, 0, 0, NULL},
	{OFSYNC_FILLSPARSE, 0, 0, NULL},
	{OFSYNC_SYNCIN | OFSYNC_PINNEWFILES | OFSYNC_PINFORALL, 0, 0, NULL},
	{OFSYNC_SYNCIN | OFSYNC_PINNEWFILES | OFSYNC_PINLINKTARGETS | OFSYNC_PINFORUSER, 0, 0,
	 NULL},
	{OFSYNC_SYNCOUT | OFSYNC_NONEWFILESOUT, 0, 0, NULL},
	{OFSYNC_INTERACTIVE | OFSYNC_CONSOLE, 0, 0, NULL},
	{OFSYNC_SYNCOUT | OFSYNC_CR_KEEPLOCAL, 0, 0, NULL},
	{OFSYNC_SYNCOUT | OFSYNC_CR_KEEPREMOTE, 0, 0, NULL},
	{OFSYNC_SYNCOUT | OFSYNC_CR_KEEPLATEST, 1, 1, NULL},
	{OFSYNC_BACKGROUND | OFSYNC_SKIPSUSPENDEDDIRS | OFSYNC_LOWPRIORITY, 0, 0, NULL},
	{OFSYNC_ASYNCPROGRESS, 1, 1, NULL},
	/* refused */
	{OFSYNC_SYNCIN, 1, 0, "progress"},
	{OFSYNC_CR_MASK, 0, 0, "conflict rule"},
	{0x40000000u, 0, 0, "conflict rule"},
	{0x50000000u, 0, 0, "conflict rule"},
	{OFSYNC_PINNEWFILES, 0, 0, "SYNCIN"},
	{OFSYNC_SYNCIN | OFSYNC_PINLINKTARGETS, 0, 0, "PINNEWFILES"},
	{OFSYNC_SYNCIN | OFSYNC_PINNEWFILES | OFSYNC_PINFORUSER | OFSYNC_PINFORALL, 0, 0,
	 "pin kind"},
	{OFSYNC_NONEWFILESOUT, 0, 0, "SYNCOUT"},
	{OFSYNC_CONSOLE, 0, 0, "INTERACTIVE"},
	{0x4000u, 0, 0, "unknown"},
	{0x00040000u, 0, 0, "unknown"},
};

START_TEST(test_check)
{
	char err[128] = "";
	int rc = ofsync_flags_check(cases[_i].flags, cases[_i].async, cases[_i].progress, err,
				    sizeof(err));

	if (!cases[_i].err) {
		ck_assert_msg(rc == 0, "case %d refused: %s", _i, err);
	} else {
		ck_assert_int_eq(rc, -EINVAL);
		ck_assert_msg(strstr(err, cases[_i].err) != NULL, "case %d: '%s' lacks '%s'", _i,
			      err, cases[_i].err);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("flags");
	TCase *tc = tcase_create("flags");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_windows_values);
	tcase_add_test(tc, test_names);
	tcase_add_loop_test(tc, test_check, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
