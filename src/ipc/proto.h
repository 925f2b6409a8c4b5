/*
 * proto.h - the control socket's wire format (version 1).
 *
 * One JSON object per line, UTF-8, '\n'-terminated, over a Unix stream
 * socket.  docs/protocol.md is the full description.
 *
 *   request:  {"v":1, "id":7, "cmd":"info", "args":{"paths":["/mnt/a"]}}
 *   reply:    {"v":1, "id":7, "ok":true,  "result":{...}}
 *             {"v":1, "id":7, "ok":false, "error":{"errno":2,
 *                     "code":"ENOENT", "message":"no such item"}}
 *   event:    {"v":1, "event":"SyncBegin", "data":{...}}   (later issues)
 *
 * Pure codec on top of jansson, no I/O: unit-tested in tests/unit/test_proto.c.
 */
#ifndef OFSYNC_PROTO_H
#define OFSYNC_PROTO_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_VERSION 1
#define PROTO_LINE_MAX (1024 * 1024) /* longest line either side accepts */
#define PROTO_CMD_MAX 32

struct proto_request {
	int64_t id;		 /* chosen by the client, echoed in the reply */
	char cmd[PROTO_CMD_MAX]; /* command name: [a-z][a-z0-9_-]* */
	json_t *args;		 /* owned; always an object (empty when absent) */
};

/*
 * Decodes one request line (with or without its '\n').  Returns 0, or a
 * negative errno with a one-line reason in err: -EPROTO for a line that is
 * not a JSON object or lacks/mistypes "id" or "cmd" or has a non-object
 * "args"; -EPROTONOSUPPORT when "v" is missing or not PROTO_VERSION;
 * -EMSGSIZE for a line longer than PROTO_LINE_MAX.  On error *req holds
 * nothing to release, but req->id is set when the id could be read (else -1)
 * so that the server can still answer.
 */
int proto_request_decode(const char *line, size_t len, struct proto_request *req, char *err,
			 size_t errlen);
void proto_request_release(struct proto_request *req);

/*
 * Encoders return a malloc'd, '\n'-terminated line, or NULL on ENOMEM.
 * args / result are borrowed (may be NULL: an empty object is sent).
 */
char *proto_request_encode(int64_t id, const char *cmd, json_t *args);
char *proto_reply_ok(int64_t id, json_t *result);
/* err is a positive errno; code is its symbolic name (strerrorname_np). */
char *proto_reply_error(int64_t id, int err, const char *message);
char *proto_event_encode(const char *event, json_t *data);

struct proto_reply {
	int64_t id; /* -1 for an event */
	int ok;	    /* 1 for a result, 0 for an error */
	int err;    /* positive errno when !ok */
	char message[512];
	char event[64]; /* event name, "" for a reply */
	json_t *body;	/* owned: the result, or the event's data; never NULL */
};

/*
 * Decodes a reply or event line.  Returns 0 or -EPROTO / -EPROTONOSUPPORT
 * with a reason in err, as proto_request_decode.
 */
int proto_reply_decode(const char *line, size_t len, struct proto_reply *rep, char *err,
		       size_t errlen);
void proto_reply_release(struct proto_reply *rep);

#endif
