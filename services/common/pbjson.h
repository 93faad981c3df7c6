/* pbjson.h: JSON <-> protobuf-c messages, driven only by protobuf-c's
 * descriptors (no per-message code).
 *
 * Mapping (proto3):
 *   - JSON keys are the .proto field names (snake_case); unknown keys are an
 *     error; JSON null for a field means "leave it at its default".
 *   - 32-bit integers: JSON integers (or reals without a fraction).
 *     64-bit integers: the same, or a decimal string ("-12", "18446744073709551615").
 *   - float/double: JSON numbers, or the strings "NaN", "Infinity", "-Infinity".
 *   - bool: true/false. string: JSON string (valid UTF-8, no NUL character).
 *   - bytes: standard base64 (RFC 4648 section 4, with '=' padding).
 *   - enum: the value name as written in the .proto (e.g. "INSPECTION"), or its
 *     number; names and numbers the enum does not declare are an error.
 *   - message: a JSON object, at most PBJSON_MAX_DEPTH objects deep.
 *   - repeated: a JSON array of the above (null elements are an error).
 *   - oneof: setting a member sets the case; two members of one oneof in the
 *     same object are an error.
 * Map fields are treated as what protobuf-c sees: repeated entry messages
 * ({"key": ..., "value": ...} objects in an array), not JSON objects.
 *
 * Error text starts with the dotted path of the offending field, e.g.
 * "open_round.kind: unknown enum value \"FOO\"", "items[2].seq: ..."; an error
 * about the top-level value itself starts with "(root)". It is valid UTF-8,
 * has no trailing newline or period, and is cut at a character boundary when
 * the caller's buffer is too small.
 */
#ifndef RECTIFY_PBJSON_H
#define RECTIFY_PBJSON_H

#include <stddef.h>

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

#include "errors.h"

/* The top-level object counts as depth 1; an object nested deeper than this
 * is refused by pbjson_parse and makes pbjson_dump return NULL. */
enum { PBJSON_MAX_DEPTH = 32 };

/* Builds a message of type `desc` from the JSON object `obj`, driven only by
 * protobuf-c's descriptors (no per-message code). `obj` is only read (its
 * reference count is not changed).
 * On RC_OK, *out owns a message the caller frees with
 * protobuf_c_message_free_unpacked(*out, NULL); every string, bytes buffer,
 * array and sub-message in it is a separate malloc'd block.
 * On failure returns a negative rc (RC_ERR_INVALID for bad input or arguments,
 * RC_ERR_NOMEM when an allocation failed), sets *out to NULL, frees everything
 * it built, and writes into err (always NUL-terminated when errlen > 0; err
 * may be NULL when errlen is 0) a message that starts with the dotted field
 * path, e.g. "open_round.kind: unknown enum value \"FOO\"" or
 * "colour: no such field in rectify.OpenRound". */
int pbjson_parse(const ProtobufCMessageDescriptor *desc, const json_t *obj, ProtobufCMessage **out,
                 char *err, size_t errlen);

enum { PBJSON_EMIT_DEFAULTS = 1 };

/* Renders a message as a new JSON object; the caller owns the returned
 * reference (json_decref). `msg` is only read.
 * Without PBJSON_EMIT_DEFAULTS, proto3 fields equal to their default (0, "",
 * false, empty bytes/repeated, unset message) are omitted; with it, every
 * scalar field is emitted and every repeated field appears (as [] when empty);
 * unset sub-messages are still omitted. A oneof member is emitted only when it
 * is the set case, and then always, even when it holds its default.
 * 64-bit integers are JSON integers, except uint64/fixed64 values above
 * INT64_MAX, which are decimal strings; enums are their value name (the number
 * when the enum does not declare it); bytes are base64; non-finite
 * floats/doubles are "NaN", "Infinity" or "-Infinity".
 * Returns NULL on allocation failure, when msg is NULL, when a string field is
 * not valid UTF-8, or when the message is malformed (a repeated field with a
 * count but no array) or nested deeper than PBJSON_MAX_DEPTH. */
json_t *pbjson_dump(const ProtobufCMessage *msg, int flags);

#endif
