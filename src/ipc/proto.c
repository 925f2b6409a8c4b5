/*
 * proto.c - the control socket's line codec; see proto.h and
 * docs/protocol.md.
 *
 * Decoders are strict about what they need (version, id, cmd, ok, error)
 * and ignore members they do not know, so that a later minor addition does
 * not break an older peer.  Encoders write compact JSON, which never holds
 * a raw newline, and add the terminating '\n'.
 */
#include "ipc/proto.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

/* Length of a valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	uint32_t cp;
	size_t len;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t k = 1; k < len; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[k] & 0x3f);
	}
	/* Overlong forms, surrogates and code points past U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/*
 * A JSON string for s; bytes that are not valid UTF-8 (a file name in
 * another encoding, say) become '?' instead of failing the whole message.
 * Returns NULL only on ENOMEM.
 */
static json_t *string_lossy(const char *s)
{
	size_t n = strlen(s);
	json_t *j;
	char *copy;

	j = json_string(s);
	if (j)
		return j;
	copy = malloc(n + 1);
	if (!copy)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t len = utf8_seq((const unsigned char *)s + i, n - i);

		if (len == 0) {
			copy[i++] = '?';
			continue;
		}
		memcpy(copy + i, s + i, len);
		i += len;
	}
	copy[n] = '\0';
	j = json_string(copy);
	free(copy);
	return j;
}

/* Copies s into dst (size dstlen), cutting at a UTF-8 character boundary. */
static void copy_text(char *dst, size_t dstlen, const char *s)
{
	size_t n = strlen(s);

	if (n >= dstlen) {
		n = dstlen - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/*
 * Serializes obj (which it consumes) as one compact line with its '\n', in
 * a buffer from malloc.  Returns NULL on ENOMEM.
 */
static char *dump_line(json_t *obj)
{
	const size_t flags = JSON_COMPACT;
	size_t n;
	char *line = NULL;

	if (!obj)
		return NULL;
	n = json_dumpb(obj, NULL, 0, flags);
	if (n == 0 || n > SIZE_MAX - 2)
		goto out;
	line = malloc(n + 2);
	if (!line)
		goto out;
	if (json_dumpb(obj, line, n, flags) != n) {
		free(line);
		line = NULL;
		goto out;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
out:
	json_decref(obj);
	return line;
}

/* Sets key to value in obj, consuming value.  Returns false on ENOMEM. */
static bool set_new(json_t *obj, const char *key, json_t *value)
{
	return value && json_object_set_new(obj, key, value) == 0;
}

/* A new message object carrying "v". */
static json_t *message_new(void)
{
	json_t *obj = json_object();

	if (obj && !set_new(obj, "v", json_integer(PROTO_VERSION))) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

/* value when given (a new reference), else a new empty object. */
static json_t *body_or_empty(json_t *value)
{
	return value ? json_incref(value) : json_object();
}

char *proto_request_encode(int64_t id, const char *cmd, json_t *args)
{
	json_t *obj = message_new();

	if (!obj)
		return NULL;
	if (!set_new(obj, "id", json_integer(id)) || !set_new(obj, "cmd", string_lossy(cmd)) ||
	    !set_new(obj, "args", body_or_empty(args))) {
		json_decref(obj);
		return NULL;
	}
	return dump_line(obj);
}

char *proto_reply_ok(int64_t id, json_t *result)
{
	json_t *obj = message_new();

	if (!obj)
		return NULL;
	if (!set_new(obj, "id", json_integer(id)) || !set_new(obj, "ok", json_true()) ||
	    !set_new(obj, "result", body_or_empty(result))) {
		json_decref(obj);
		return NULL;
	}
	return dump_line(obj);
}

/*
 * err is a positive errno.  A negative one (a forgotten minus sign) is
 * taken for its absolute value and 0 becomes EIO, so that the peer always
 * sees a real error.  A NULL or empty message becomes the errno's text.
 */
char *proto_reply_error(int64_t id, int err, const char *message)
{
	const char *code;
	json_t *obj, *e;

	if (err < 0)
		err = -err;
	if (err == 0)
		err = EIO;
	code = strerrorname_np(err);
	if (!code)
		code = "E?";
	if (!message || !*message) {
		message = strerrordesc_np(err);
		if (!message)
			message = "unknown error";
	}

	obj = message_new();
	if (!obj)
		return NULL;
	e = json_object();
	if (!e || !set_new(e, "errno", json_integer(err)) ||
	    !set_new(e, "code", json_string(code)) ||
	    !set_new(e, "message", string_lossy(message))) {
		json_decref(e);
		json_decref(obj);
		return NULL;
	}
	if (!set_new(obj, "id", json_integer(id)) || !set_new(obj, "ok", json_false()) ||
	    !set_new(obj, "error", e)) {
		json_decref(obj);
		return NULL;
	}
	return dump_line(obj);
}

char *proto_event_encode(const char *event, json_t *data)
{
	json_t *obj = message_new();

	if (!obj)
		return NULL;
	if (!set_new(obj, "event", string_lossy(event)) ||
	    !set_new(obj, "data", body_or_empty(data))) {
		json_decref(obj);
		return NULL;
	}
	return dump_line(obj);
}

/*
 * Common first steps of both decoders: size, JSON syntax, object, version.
 * Returns the object (a new reference) in *root, or a negative errno.
 */
static int decode_common(const char *line, size_t len, json_t **root, int64_t *id, char *err,
			 size_t errlen)
{
	json_error_t jerr;
	json_t *obj, *v, *jid;

	*root = NULL;
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > PROTO_LINE_MAX)
		return errfmt(-EMSGSIZE, err, errlen, "line longer than %d bytes", PROTO_LINE_MAX);
	if (len == 0)
		return errfmt(-EPROTO, err, errlen, "empty line");
	/* DECODE_ANY so that a bare value gets "not a JSON object" below. */
	obj = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!obj)
		return errfmt(-EPROTO, err, errlen, "malformed JSON: %s (column %d)", jerr.text,
			      jerr.column);
	if (!json_is_object(obj)) {
		json_decref(obj);
		return errfmt(-EPROTO, err, errlen, "not a JSON object");
	}
	/* Read the id before anything can fail, so that the answer can carry it. */
	jid = json_object_get(obj, "id");
	if (id && json_is_integer(jid) && json_integer_value(jid) >= 0)
		*id = json_integer_value(jid);
	v = json_object_get(obj, "v");
	if (!v) {
		json_decref(obj);
		return errfmt(-EPROTONOSUPPORT, err, errlen, "missing protocol version \"v\"");
	}
	if (!json_is_integer(v)) {
		json_decref(obj);
		return errfmt(-EPROTONOSUPPORT, err, errlen,
			      "protocol version \"v\" is not an integer");
	}
	if (json_integer_value(v) != PROTO_VERSION) {
		long long got = (long long)json_integer_value(v);

		json_decref(obj);
		return errfmt(-EPROTONOSUPPORT, err, errlen,
			      "unsupported protocol version %lld (this side speaks %d)", got,
			      PROTO_VERSION);
	}
	*root = obj;
	return 0;
}

/* True for [a-z][a-z0-9_-]*, shorter than PROTO_CMD_MAX. */
static bool valid_cmd(const char *s, size_t len)
{
	if (len == 0 || len >= PROTO_CMD_MAX || s[0] < 'a' || s[0] > 'z')
		return false;
	for (size_t i = 1; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

int proto_request_decode(const char *line, size_t len, struct proto_request *req, char *err,
			 size_t errlen)
{
	json_t *obj, *jid, *cmd, *args;
	int rc;

	memset(req, 0, sizeof(*req));
	req->id = -1;
	rc = decode_common(line, len, &obj, &req->id, err, errlen);
	if (rc < 0)
		return rc;

	jid = json_object_get(obj, "id");
	if (!jid) {
		rc = errfmt(-EPROTO, err, errlen, "missing \"id\"");
		goto out;
	}
	if (!json_is_integer(jid) || json_integer_value(jid) < 0) {
		rc = errfmt(-EPROTO, err, errlen, "\"id\" is not a non-negative integer");
		goto out;
	}

	cmd = json_object_get(obj, "cmd");
	if (!cmd) {
		rc = errfmt(-EPROTO, err, errlen, "missing \"cmd\"");
		goto out;
	}
	if (!json_is_string(cmd)) {
		rc = errfmt(-EPROTO, err, errlen, "\"cmd\" is not a string");
		goto out;
	}
	if (!valid_cmd(json_string_value(cmd), json_string_length(cmd))) {
		rc = errfmt(-EPROTO, err, errlen, "bad command name \"%.*s\"", PROTO_CMD_MAX,
			    json_string_value(cmd));
		goto out;
	}

	args = json_object_get(obj, "args");
	if (args && !json_is_object(args)) {
		rc = errfmt(-EPROTO, err, errlen, "\"args\" is not an object");
		goto out;
	}
	args = args ? json_incref(args) : json_object();
	if (!args) {
		rc = errfmt(-ENOMEM, err, errlen, "out of memory");
		goto out;
	}
	memcpy(req->cmd, json_string_value(cmd), json_string_length(cmd) + 1);
	req->args = args;
	rc = 0;
out:
	json_decref(obj);
	return rc;
}

void proto_request_release(struct proto_request *req)
{
	json_decref(req->args);
	req->args = NULL;
}

/* Fills rep from an event message ("event" present). */
static int decode_event(json_t *obj, json_t *name, struct proto_reply *rep, char *err,
			size_t errlen)
{
	json_t *data;

	if (!json_is_string(name) || json_string_length(name) == 0 ||
	    json_string_length(name) >= sizeof(rep->event))
		return errfmt(-EPROTO, err, errlen, "\"event\" is not a name");
	data = json_object_get(obj, "data");
	data = data ? json_incref(data) : json_object();
	if (!data)
		return errfmt(-ENOMEM, err, errlen, "out of memory");
	rep->id = -1;
	rep->ok = 1;
	memcpy(rep->event, json_string_value(name), json_string_length(name) + 1);
	rep->body = data;
	return 0;
}

/* Fills rep from a reply message ("id" and "ok" present). */
static int decode_answer(json_t *obj, struct proto_reply *rep, char *err, size_t errlen)
{
	json_t *jid = json_object_get(obj, "id");
	json_t *ok = json_object_get(obj, "ok");
	json_t *body, *jerrno, *msg;

	/* -1 answers a request whose id could not be read. */
	if (!json_is_integer(jid) || json_integer_value(jid) < -1)
		return errfmt(-EPROTO, err, errlen, "missing or bad \"id\"");
	if (!json_is_boolean(ok))
		return errfmt(-EPROTO, err, errlen, "missing or bad \"ok\"");
	rep->id = json_integer_value(jid);

	if (json_is_true(ok)) {
		body = json_object_get(obj, "result");
		body = body ? json_incref(body) : json_object();
		if (!body)
			return errfmt(-ENOMEM, err, errlen, "out of memory");
		rep->ok = 1;
		rep->body = body;
		return 0;
	}

	body = json_object_get(obj, "error");
	if (!json_is_object(body))
		return errfmt(-EPROTO, err, errlen, "error reply without an \"error\" object");
	jerrno = json_object_get(body, "errno");
	/* Linux errno values are 1..4095 (MAX_ERRNO). */
	if (!json_is_integer(jerrno) || json_integer_value(jerrno) <= 0 ||
	    json_integer_value(jerrno) > 4095)
		return errfmt(-EPROTO, err, errlen, "error reply without a valid \"errno\"");
	msg = json_object_get(body, "message");
	if (msg && !json_is_string(msg))
		return errfmt(-EPROTO, err, errlen, "error \"message\" is not a string");
	rep->ok = 0;
	rep->err = (int)json_integer_value(jerrno);
	copy_text(rep->message, sizeof(rep->message), msg ? json_string_value(msg) : "");
	/* The body of an error reply is the error object itself. */
	rep->body = json_incref(body);
	return 0;
}

int proto_reply_decode(const char *line, size_t len, struct proto_reply *rep, char *err,
		       size_t errlen)
{
	json_t *obj, *name;
	int rc;

	memset(rep, 0, sizeof(*rep));
	rep->id = -1;
	rc = decode_common(line, len, &obj, NULL, err, errlen);
	if (rc < 0)
		return rc;
	name = json_object_get(obj, "event");
	if (name)
		rc = decode_event(obj, name, rep, err, errlen);
	else
		rc = decode_answer(obj, rep, err, errlen);
	if (rc < 0) {
		/* Leave nothing to release, and no half-filled fields. */
		memset(rep, 0, sizeof(*rep));
		rep->id = -1;
	}
	json_decref(obj);
	return rc;
}

void proto_reply_release(struct proto_reply *rep)
{
	json_decref(rep->body);
	rep->body = NULL;
}
