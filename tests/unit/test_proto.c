/* test_proto.c - unit tests for src/ipc/proto.c. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/proto.h"

/* Asserts that line is one '\n'-terminated line with no other newline. */
static void assert_one_line(const char *line)
{
	size_t n;

	ck_assert_ptr_nonnull(line);
	n = strlen(line);
	ck_assert_uint_gt(n, 1);
	ck_assert_int_eq(line[n - 1], '\n');
	ck_assert_ptr_eq(strchr(line, '\n'), line + n - 1);
}

START_TEST(test_request_round_trip)
{
	json_t *args = json_pack("{s:[s,s], s:b}", "paths", "/mnt/a", "/mnt/b\nc", "deep", 1);
	struct proto_request req;
	char err[256] = "";
	char *line;

	line = proto_request_encode(7, "info", args);
	assert_one_line(line);
	ck_assert_int_eq(proto_request_decode(line, strlen(line), &req, err, sizeof(err)), 0);
	ck_assert_int_eq(req.id, 7);
	ck_assert_str_eq(req.cmd, "info");
	ck_assert(json_equal(req.args, args));
	proto_request_release(&req);
	ck_assert_ptr_null(req.args);

	/* Without the trailing newline too. */
	ck_assert_int_eq(proto_request_decode(line, strlen(line) - 1, &req, err, sizeof(err)), 0);
	ck_assert_int_eq(req.id, 7);
	proto_request_release(&req);
	free(line);
	json_decref(args);
}
END_TEST

START_TEST(test_request_null_args)
{
	struct proto_request req;
	char err[256];
	char *line = proto_request_encode(INT64_MAX, "status", NULL);

	assert_one_line(line);
	ck_assert_ptr_nonnull(strstr(line, "\"args\":{}"));
	ck_assert_int_eq(proto_request_decode(line, strlen(line), &req, err, sizeof(err)), 0);
	ck_assert(req.id == INT64_MAX);
	ck_assert_str_eq(req.cmd, "status");
	ck_assert(json_is_object(req.args));
	ck_assert_uint_eq(json_object_size(req.args), 0);
	proto_request_release(&req);
	free(line);
}
END_TEST

/* A request as a client written in another language might send it. */
START_TEST(test_request_handwritten)
{
	static const char line[] = " { \"cmd\" : \"sync-all_2\", \"id\": 0, \"v\": 1,"
				   " \"extra\": [1, 2] }\n";
	struct proto_request req;
	char err[256];

	ck_assert_int_eq(proto_request_decode(line, strlen(line), &req, err, sizeof(err)), 0);
	ck_assert_int_eq(req.id, 0);
	ck_assert_str_eq(req.cmd, "sync-all_2");
	ck_assert_uint_eq(json_object_size(req.args), 0);
	proto_request_release(&req);
}
END_TEST

static const struct bad_request {
	const char *line;
	int rc;
	int64_t id;	    /* req->id afterwards */
	const char *reason; /* substring of err */
} bad_requests[] = {
	{"", -EPROTO, -1, "empty"},
	{"\n", -EPROTO, -1, "empty"},
	{"{", -EPROTO, -1, "malformed JSON"},
	{"{\"v\":1,\"id\":1,\"cmd\":\"x\"", -EPROTO, -1, "malformed JSON"},
	{"not json", -EPROTO, -1, "malformed JSON"},
	{"{\"v\":1,\"id\":1,\"cmd\":\"x\"} {}", -EPROTO, -1, "malformed JSON"},
	{"{\"v\":1,\"id\":1,\"cmd\":\"x\"}\n{\"v\":1}", -EPROTO, -1, "malformed JSON"},
	{"{\"v\":1,\"id\":1,\"id\":2,\"cmd\":\"x\"}", -EPROTO, -1, "malformed JSON"},
	{"[1,2]", -EPROTO, -1, "not a JSON object"},
	{"\"status\"", -EPROTO, -1, "not a JSON object"},
	{"42", -EPROTO, -1, "not a JSON object"},
	{"null", -EPROTO, -1, "not a JSON object"},
	{"{\"id\":3,\"cmd\":\"status\"}", -EPROTONOSUPPORT, 3, "missing protocol version"},
	{"{\"v\":2,\"id\":4,\"cmd\":\"status\"}", -EPROTONOSUPPORT, 4, "version 2"},
	{"{\"v\":0,\"id\":4,\"cmd\":\"status\"}", -EPROTONOSUPPORT, 4, "version 0"},
	{"{\"v\":\"1\",\"id\":5,\"cmd\":\"status\"}", -EPROTONOSUPPORT, 5, "not an integer"},
	{"{\"v\":1.0,\"id\":5,\"cmd\":\"status\"}", -EPROTONOSUPPORT, 5, "not an integer"},
	{"{\"v\":2,\"cmd\":\"status\"}", -EPROTONOSUPPORT, -1, "version 2"},
	{"{\"v\":1,\"cmd\":\"status\"}", -EPROTO, -1, "missing \"id\""},
	{"{\"v\":1,\"id\":\"7\",\"cmd\":\"status\"}", -EPROTO, -1, "\"id\""},
	{"{\"v\":1,\"id\":7.5,\"cmd\":\"status\"}", -EPROTO, -1, "\"id\""},
	{"{\"v\":1,\"id\":-3,\"cmd\":\"status\"}", -EPROTO, -1, "\"id\""},
	{"{\"v\":1,\"id\":null,\"cmd\":\"status\"}", -EPROTO, -1, "\"id\""},
	{"{\"v\":1,\"id\":99999999999999999999,\"cmd\":\"s\"}", -EPROTO, -1, "malformed JSON"},
	{"{\"v\":1,\"id\":8}", -EPROTO, 8, "missing \"cmd\""},
	{"{\"v\":1,\"id\":8,\"cmd\":5}", -EPROTO, 8, "not a string"},
	{"{\"v\":1,\"id\":8,\"cmd\":null}", -EPROTO, 8, "not a string"},
	{"{\"v\":1,\"id\":8,\"cmd\":\"\"}", -EPROTO, 8, "bad command"},
	{"{\"v\":1,\"id\":8,\"cmd\":\"Status\"}", -EPROTO, 8, "bad command"},
	{"{\"v\":1,\"id\":8,\"cmd\":\"1st\"}", -EPROTO, 8, "bad command"},
	{"{\"v\":1,\"id\":8,\"cmd\":\"a b\"}", -EPROTO, 8, "bad command"},
	{"{\"v\":1,\"id\":8,\"cmd\":\"a.b\"}", -EPROTO, 8, "bad command"},
	{"{\"v\":1,\"id\":8,\"cmd\":\"abcdefghijklmnopqrstuvwxyz012345\"}", -EPROTO, 8,
	 "bad command"},
	{"{\"v\":1,\"id\":9,\"cmd\":\"info\",\"args\":[]}", -EPROTO, 9,
	 "\"args\" is not an object"},
	{"{\"v\":1,\"id\":9,\"cmd\":\"info\",\"args\":\"x\"}", -EPROTO, 9, "\"args\""},
	{"{\"v\":1,\"id\":9,\"cmd\":\"info\",\"args\":null}", -EPROTO, 9, "\"args\""},
	{"{\"v\":1,\"id\":9,\"cmd\":\"info\",\"args\":3}", -EPROTO, 9, "\"args\""},
};

START_TEST(test_request_bad)
{
	const struct bad_request *c = &bad_requests[_i];
	struct proto_request req;
	char err[256] = "";
	int rc;

	rc = proto_request_decode(c->line, strlen(c->line), &req, err, sizeof(err));
	ck_assert_msg(rc == c->rc, "%s: rc %d, want %d (%s)", c->line, rc, c->rc, err);
	ck_assert_msg(req.id == c->id, "%s: id %lld, want %lld", c->line, (long long)req.id,
		      (long long)c->id);
	ck_assert_msg(strstr(err, c->reason) != NULL, "%s: got \"%s\", want \"%s\"", c->line, err,
		      c->reason);
	ck_assert_ptr_null(req.args);
	/* Releasing after a failure is harmless. */
	proto_request_release(&req);
}
END_TEST

/* A 31-character command is the longest allowed. */
START_TEST(test_request_cmd_max)
{
	static const char cmd[] = "abcdefghijklmnopqrstuvwxyz01234";
	struct proto_request req;
	char err[256];
	char *line;

	ck_assert_uint_eq(strlen(cmd), PROTO_CMD_MAX - 1);
	line = proto_request_encode(1, cmd, NULL);
	ck_assert_int_eq(proto_request_decode(line, strlen(line), &req, err, sizeof(err)), 0);
	ck_assert_str_eq(req.cmd, cmd);
	proto_request_release(&req);
	free(line);
}
END_TEST

/* Builds a valid request whose line is exactly len bytes before the '\n'. */
static char *request_of_size(size_t len)
{
	static const char head[] = "{\"v\":1,\"id\":11,\"cmd\":\"info\",\"args\":{\"pad\":\"";
	static const char tail[] = "\"}}";
	size_t pad = len - (sizeof(head) - 1) - (sizeof(tail) - 1);
	char *line = malloc(len + 2);

	memcpy(line, head, sizeof(head) - 1);
	memset(line + sizeof(head) - 1, 'x', pad);
	memcpy(line + sizeof(head) - 1 + pad, tail, sizeof(tail) - 1);
	line[len] = '\n';
	line[len + 1] = '\0';
	return line;
}

START_TEST(test_request_size_limit)
{
	struct proto_request req;
	char err[256] = "";
	char *line;

	line = request_of_size(PROTO_LINE_MAX);
	ck_assert_int_eq(proto_request_decode(line, PROTO_LINE_MAX + 1, &req, err, sizeof(err)), 0);
	ck_assert_int_eq(req.id, 11);
	proto_request_release(&req);
	ck_assert_int_eq(proto_request_decode(line, PROTO_LINE_MAX, &req, err, sizeof(err)), 0);
	proto_request_release(&req);
	free(line);

	line = request_of_size(PROTO_LINE_MAX + 1);
	ck_assert_int_eq(proto_request_decode(line, PROTO_LINE_MAX + 2, &req, err, sizeof(err)),
			 -EMSGSIZE);
	ck_assert_ptr_nonnull(strstr(err, "longer than"));
	ck_assert_ptr_null(req.args);
	ck_assert_int_eq(proto_request_decode(line, PROTO_LINE_MAX + 1, &req, err, sizeof(err)),
			 -EMSGSIZE);
	free(line);

	/* The same limit applies to replies. */
	line = request_of_size(PROTO_LINE_MAX + 1);
	{
		struct proto_reply rep;

		ck_assert_int_eq(
			proto_reply_decode(line, PROTO_LINE_MAX + 1, &rep, err, sizeof(err)),
			-EMSGSIZE);
		ck_assert_ptr_null(rep.body);
	}
	free(line);
}
END_TEST

/* The decoder stops at len: bytes after it are not looked at. */
START_TEST(test_request_len_respected)
{
	static const char buf[] = "{\"v\":1,\"id\":1,\"cmd\":\"status\"}GARBAGE";
	struct proto_request req;
	char err[256];

	ck_assert_int_eq(proto_request_decode(buf, strlen(buf) - 7, &req, err, sizeof(err)), 0);
	proto_request_release(&req);
	ck_assert_int_eq(proto_request_decode(buf, strlen(buf), &req, err, sizeof(err)), -EPROTO);
}
END_TEST

START_TEST(test_reply_ok_round_trip)
{
	json_t *result = json_pack("{s:[{s:s,s:s,s:I}]}", "shares", "unc", "//srv/share", "state",
				   "online", "cached_bytes", (json_int_t)1 << 40);
	struct proto_reply rep;
	char err[256] = "";
	char *line = proto_reply_ok(42, result);

	assert_one_line(line);
	ck_assert_int_eq(proto_reply_decode(line, strlen(line), &rep, err, sizeof(err)), 0);
	ck_assert_int_eq(rep.id, 42);
	ck_assert_int_eq(rep.ok, 1);
	ck_assert_str_eq(rep.event, "");
	ck_assert(json_equal(rep.body, result));
	proto_reply_release(&rep);
	ck_assert_ptr_null(rep.body);
	free(line);
	json_decref(result);

	/* A NULL result is sent as an empty object. */
	line = proto_reply_ok(0, NULL);
	ck_assert_int_eq(proto_reply_decode(line, strlen(line), &rep, err, sizeof(err)), 0);
	ck_assert_int_eq(rep.id, 0);
	ck_assert(json_is_object(rep.body));
	ck_assert_uint_eq(json_object_size(rep.body), 0);
	proto_reply_release(&rep);
	free(line);
}
END_TEST

static const struct error_case {
	int err;	 /* given to proto_reply_error */
	const char *msg; /* given */
	int want_errno;
	const char *code;
	const char *want_msg;
} error_cases[] = {
	{ENOENT, "no such item", ENOENT, "ENOENT", "no such item"},
	{EHOSTUNREACH, "server unreachable", EHOSTUNREACH, "EHOSTUNREACH", "server unreachable"},
	{EPROTONOSUPPORT, "unsupported protocol version 2", EPROTONOSUPPORT, "EPROTONOSUPPORT",
	 "unsupported protocol version 2"},
	{-EACCES, "negative errno", EACCES, "EACCES", "negative errno"},
	{0, "zero", EIO, "EIO", "zero"},
	{EINVAL, NULL, EINVAL, "EINVAL", "Invalid argument"},
	{ENOSPC, "", ENOSPC, "ENOSPC", "No space left on device"},
	{4000, "made-up errno", 4000, "E?", "made-up errno"},
	{EIO, "line\nbreak \"quoted\" caf\xc3\xa9", EIO, "EIO",
	 "line\nbreak \"quoted\" caf\xc3\xa9"},
	{EIO, "bad \xff utf-8 \xc3", EIO, "EIO", "bad ? utf-8 ?"},
};

START_TEST(test_reply_error)
{
	const struct error_case *c = &error_cases[_i];
	struct proto_reply rep;
	char err[256] = "";
	char *line = proto_reply_error(9, c->err, c->msg);
	json_t *code;

	assert_one_line(line);
	ck_assert_msg(proto_reply_decode(line, strlen(line), &rep, err, sizeof(err)) == 0, "%s: %s",
		      line, err);
	ck_assert_int_eq(rep.id, 9);
	ck_assert_int_eq(rep.ok, 0);
	ck_assert_int_eq(rep.err, c->want_errno);
	ck_assert_str_eq(rep.message, c->want_msg);
	/* The body of an error reply is the error object. */
	ck_assert_ptr_nonnull(rep.body);
	code = json_object_get(rep.body, "code");
	ck_assert_str_eq(json_string_value(code), c->code);
	proto_reply_release(&rep);
	free(line);
}
END_TEST

START_TEST(test_reply_error_wire_format)
{
	char *line = proto_reply_error(7, ENOENT, "no such item");

	ck_assert_str_eq(line, "{\"v\":1,\"id\":7,\"ok\":false,\"error\":{\"errno\":2,"
			       "\"code\":\"ENOENT\",\"message\":\"no such item\"}}\n");
	free(line);
}
END_TEST

START_TEST(test_reply_long_message)
{
	char msg[700];
	struct proto_reply rep;
	char err[256];
	char *line;

	/* 'a' then two-byte characters, so that 511 bytes falls mid-character. */
	msg[0] = 'a';
	for (size_t k = 1; k + 1 < sizeof(msg) - 1; k += 2) {
		msg[k] = (char)0xc3;
		msg[k + 1] = (char)0xa9;
	}
	msg[sizeof(msg) - 2] = 'z';
	msg[sizeof(msg) - 1] = '\0';
	line = proto_reply_error(1, EIO, msg);
	ck_assert_int_eq(proto_reply_decode(line, strlen(line), &rep, err, sizeof(err)), 0);
	ck_assert_uint_le(strlen(rep.message), sizeof(rep.message) - 1);
	ck_assert_uint_ge(strlen(rep.message), sizeof(rep.message) - 2);
	/* Cut on a character boundary: the last byte is not a lead byte. */
	ck_assert_int_ne((unsigned char)rep.message[strlen(rep.message) - 1], 0xc3);
	ck_assert_int_eq(strncmp(rep.message, msg, strlen(rep.message)), 0);
	proto_reply_release(&rep);
	free(line);
}
END_TEST

START_TEST(test_event_round_trip)
{
	json_t *data = json_pack("{s:s,s:i}", "sync_id", "0b7e3c1e-8f5a-4c9d-9a51-1d2e3f4a5b6c",
				 "items", 3);
	struct proto_reply rep;
	char err[256] = "";
	char *line = proto_event_encode("SyncBegin", data);

	assert_one_line(line);
	ck_assert_ptr_null(strstr(line, "\"id\""));
	ck_assert_int_eq(proto_reply_decode(line, strlen(line), &rep, err, sizeof(err)), 0);
	ck_assert_int_eq(rep.id, -1);
	ck_assert_str_eq(rep.event, "SyncBegin");
	ck_assert(json_equal(rep.body, data));
	proto_reply_release(&rep);
	free(line);
	json_decref(data);

	line = proto_event_encode("SyncEnd", NULL);
	ck_assert_int_eq(proto_reply_decode(line, strlen(line), &rep, err, sizeof(err)), 0);
	ck_assert_str_eq(rep.event, "SyncEnd");
	ck_assert(json_is_object(rep.body));
	proto_reply_release(&rep);
	free(line);
}
END_TEST

static const struct bad_reply {
	const char *line;
	int rc;
	const char *reason;
} bad_replies[] = {
	{"", -EPROTO, "empty"},
	{"}", -EPROTO, "malformed JSON"},
	{"[]", -EPROTO, "not a JSON object"},
	{"{\"id\":1,\"ok\":true}", -EPROTONOSUPPORT, "missing protocol version"},
	{"{\"v\":3,\"id\":1,\"ok\":true}", -EPROTONOSUPPORT, "version 3"},
	{"{\"v\":3,\"event\":\"SyncBegin\"}", -EPROTONOSUPPORT, "version 3"},
	{"{\"v\":1,\"ok\":true}", -EPROTO, "\"id\""},
	{"{\"v\":1,\"id\":\"1\",\"ok\":true}", -EPROTO, "\"id\""},
	{"{\"v\":1,\"id\":-2,\"ok\":true}", -EPROTO, "\"id\""},
	{"{\"v\":1,\"id\":1}", -EPROTO, "\"ok\""},
	{"{\"v\":1,\"id\":1,\"ok\":1}", -EPROTO, "\"ok\""},
	{"{\"v\":1,\"id\":1,\"ok\":false}", -EPROTO, "\"error\""},
	{"{\"v\":1,\"id\":1,\"ok\":false,\"error\":\"ENOENT\"}", -EPROTO, "\"error\""},
	{"{\"v\":1,\"id\":1,\"ok\":false,\"error\":{}}", -EPROTO, "\"errno\""},
	{"{\"v\":1,\"id\":1,\"ok\":false,\"error\":{\"errno\":0}}", -EPROTO, "\"errno\""},
	{"{\"v\":1,\"id\":1,\"ok\":false,\"error\":{\"errno\":-2}}", -EPROTO, "\"errno\""},
	{"{\"v\":1,\"id\":1,\"ok\":false,\"error\":{\"errno\":\"2\"}}", -EPROTO, "\"errno\""},
	{"{\"v\":1,\"id\":1,\"ok\":false,\"error\":{\"errno\":2,\"message\":5}}", -EPROTO,
	 "\"message\""},
	{"{\"v\":1,\"event\":5}", -EPROTO, "\"event\""},
	{"{\"v\":1,\"event\":\"\"}", -EPROTO, "\"event\""},
	{"{\"v\":1,\"event\":\"0123456789012345678901234567890123456789012345678901234567890123\"}",
	 -EPROTO, "\"event\""},
};

START_TEST(test_reply_bad)
{
	const struct bad_reply *c = &bad_replies[_i];
	struct proto_reply rep;
	char err[256] = "";
	int rc;

	rc = proto_reply_decode(c->line, strlen(c->line), &rep, err, sizeof(err));
	ck_assert_msg(rc == c->rc, "%s: rc %d, want %d (%s)", c->line, rc, c->rc, err);
	ck_assert_msg(strstr(err, c->reason) != NULL, "%s: got \"%s\", want \"%s\"", c->line, err,
		      c->reason);
	ck_assert_ptr_null(rep.body);
	proto_reply_release(&rep);
}
END_TEST

/* An error reply without a message, from a terse peer, is accepted. */
START_TEST(test_reply_error_minimal)
{
	static const char line[] = "{\"v\":1,\"id\":5,\"ok\":false,\"error\":{\"errno\":13}}";
	struct proto_reply rep;
	char err[256];

	ck_assert_int_eq(proto_reply_decode(line, strlen(line), &rep, err, sizeof(err)), 0);
	ck_assert_int_eq(rep.ok, 0);
	ck_assert_int_eq(rep.err, EACCES);
	ck_assert_str_eq(rep.message, "");
	proto_reply_release(&rep);
}
END_TEST

/* The answer to a request whose id could not be read carries id -1. */
START_TEST(test_reply_unknown_id)
{
	struct proto_request req;
	struct proto_reply rep;
	char err[256] = "";
	char *line;
	int rc;

	rc = proto_request_decode("{\"v\":1}", 7, &req, err, sizeof(err));
	ck_assert_int_eq(rc, -EPROTO);
	ck_assert_int_eq(req.id, -1);
	line = proto_reply_error(req.id, -rc, err);
	ck_assert_int_eq(proto_reply_decode(line, strlen(line), &rep, err, sizeof(err)), 0);
	ck_assert_int_eq(rep.id, -1);
	ck_assert_int_eq(rep.ok, 0);
	ck_assert_int_eq(rep.err, EPROTO);
	ck_assert_str_eq(rep.message, "missing \"id\"");
	ck_assert_str_eq(rep.event, "");
	proto_reply_release(&rep);
	free(line);
}
END_TEST

START_TEST(test_no_err_buffer)
{
	struct proto_request req;
	struct proto_reply rep;

	ck_assert_int_eq(proto_request_decode("[]", 2, &req, NULL, 0), -EPROTO);
	ck_assert_int_eq(proto_reply_decode("[]", 2, &rep, NULL, 0), -EPROTO);
}
END_TEST

static Suite *proto_suite(void)
{
	Suite *s = suite_create("proto");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_request_round_trip);
	tcase_add_test(tc, test_request_null_args);
	tcase_add_test(tc, test_request_handwritten);
	tcase_add_loop_test(tc, test_request_bad, 0,
			    sizeof(bad_requests) / sizeof(bad_requests[0]));
	tcase_add_test(tc, test_request_cmd_max);
	tcase_add_test(tc, test_request_size_limit);
	tcase_add_test(tc, test_request_len_respected);
	tcase_add_test(tc, test_reply_ok_round_trip);
	tcase_add_loop_test(tc, test_reply_error, 0, sizeof(error_cases) / sizeof(error_cases[0]));
	tcase_add_test(tc, test_reply_error_wire_format);
	tcase_add_test(tc, test_reply_long_message);
	tcase_add_test(tc, test_event_round_trip);
	tcase_add_loop_test(tc, test_reply_bad, 0, sizeof(bad_replies) / sizeof(bad_replies[0]));
	tcase_add_test(tc, test_reply_error_minimal);
	tcase_add_test(tc, test_reply_unknown_id);
	tcase_add_test(tc, test_no_err_buffer);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(proto_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
