/*
 * test_parm_memo.c - unit tests for src/smb/parm_memo.c: the memo answers
 * as Samba's own lpcfg_map_parameter does, and libsmbclient's internal
 * calls reach it (the binary exports it as ofsyncd does: see the Makefile).
 */
#include <check.h>
#include <dlfcn.h>
#include <libsmbclient.h>
#include <stdlib.h>

#include "smb/smb.h"

int lpcfg_map_parameter(const char *name);

static int (*real_map)(const char *);

static void setup(void)
{
	real_map = (int (*)(const char *))dlsym(RTLD_NEXT, "lpcfg_map_parameter");
	ck_assert_msg(real_map != NULL, "libsamba-hostconfig has no lpcfg_map_parameter");
}

/* Names as Samba's callers pass them, and ones it does not know. */
static const char *const names[] = {
	"workgroup",
	"WORKGROUP",
	"work group",
	"  Workgroup ",
	"realm",
	"netbios name",
	"client signing",
	"client use kerberos",
	"client max protocol",
	"no such parameter",
	"libsmb:client_guid",
	"",
	"-valid",
	"min protocol",
};

START_TEST(answers_as_samba)
{
	const char *name = names[_i];
	int want = real_map(name);

	/* Asked, then answered from the memo: the same both times. */
	ck_assert_int_eq(lpcfg_map_parameter(name), want);
	ck_assert_int_eq(lpcfg_map_parameter(name), want);
}
END_TEST

START_TEST(known_names_are_found)
{
	ck_assert_int_ge(lpcfg_map_parameter("workgroup"), 0);
	ck_assert_int_eq(lpcfg_map_parameter("workgroup"), lpcfg_map_parameter("Work Group"));
	ck_assert_int_eq(lpcfg_map_parameter("no such parameter"), -1);
}
END_TEST

START_TEST(library_calls_reach_the_memo)
{
	SMBCCTX *ctx = smbc_new_context();
	unsigned long before;

	ck_assert_ptr_nonnull(ctx);
	ck_assert_ptr_nonnull(smbc_init_context(ctx));
	/* What every path-based call of libsmbclient 4.17 does, twice. */
	smbc_set_credentials_with_fallback(ctx, "WG", "user", "secret");
	before = smb_parm_memo_hits();
	smbc_set_credentials_with_fallback(ctx, "WG", "user", "secret");
	ck_assert_uint_gt(smb_parm_memo_hits(), before);
	smbc_free_context(ctx, 1);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("parm_memo");
	TCase *tc = tcase_create("memo");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_loop_test(tc, answers_as_samba, 0, sizeof(names) / sizeof(names[0]));
	tcase_add_test(tc, known_names_are_found);
	tcase_add_test(tc, library_calls_reach_the_memo);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
