/* pbjson.c: JSON <-> protobuf-c messages through the descriptors.
 *
 * Parsing keeps one invariant: a message that is linked into its parent is
 * always in a state protobuf_c_message_free_unpacked() can free exactly (every
 * string is our own malloc'd copy or the descriptor's default, every repeated
 * count covers only filled elements, a oneof case is set only together with
 * its member). A sub-message being built is owned by the function building it
 * until it is complete. So any failure is cleaned up by freeing the root. */
#include "pbjson.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(json_int_t) >= sizeof(int64_t), "json_int_t must hold an int64");

#define PATH_CAP 512 /* dotted path of the field being parsed */
#define ECHO_CAP 64  /* bytes of a user-supplied value quoted in an error */

/* 2^63 and 2^64 as doubles: the exclusive upper bounds of int64 and uint64. */
#define TWO_POW_63 9223372036854775808.0
#define TWO_POW_64 18446744073709551616.0

typedef struct {
    char path[PATH_CAP];
    size_t path_len;
    char *err;
    size_t errlen;
} parse_state_t;

/* --- UTF-8 ------------------------------------------------------------- */

/* Length (1..4) of the well-formed UTF-8 sequence at p (n bytes available),
 * or 0 if it is not one: no overlongs, no surrogates, nothing above U+10FFFF. */
static size_t s_utf8_seq(const unsigned char *p, size_t n)
{
    if (n == 0)
        return 0;
    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xC2 && p[0] <= 0xDF)
        return (n >= 2 && (p[1] & 0xC0) == 0x80) ? 2 : 0;
    if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        unsigned char lo = p[0] == 0xE0 ? 0xA0 : 0x80;
        unsigned char hi = p[0] == 0xED ? 0x9F : 0xBF;
        if (n < 3 || p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80)
            return 0;
        return 3;
    }
    if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        unsigned char lo = p[0] == 0xF0 ? 0x90 : 0x80;
        unsigned char hi = p[0] == 0xF4 ? 0x8F : 0xBF;
        if (n < 4 || p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
            return 0;
        return 4;
    }
    return 0;
}

static int s_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        size_t n = s_utf8_seq(p + i, len - i);
        if (n == 0)
            return 0;
        i += n;
    }
    return 1;
}

/* buf[0..len) is valid UTF-8 except perhaps for a sequence cut short at the
 * end (snprintf truncation); drop that partial sequence. Returns the new len. */
static size_t s_utf8_trim(char *buf, size_t len)
{
    const unsigned char *p = (const unsigned char *)buf;
    size_t lead = len;
    size_t back = 0;

    while (lead > 0 && back < 3 && (p[lead - 1] & 0xC0) == 0x80) {
        lead--;
        back++;
    }
    if (lead == 0 || p[lead - 1] < 0xC0)
        return len;
    lead--;
    if (s_utf8_seq(p + lead, len - lead) != len - lead) {
        buf[lead] = '\0';
        return lead;
    }
    return len;
}

/* Copies a user-supplied string into out (outcap > 4) for quoting in an error
 * message: at most ECHO_CAP bytes, whole UTF-8 characters only, control
 * characters, quotes, backslashes and invalid bytes shown as '?', "..." when
 * cut short. */
static void s_echo(const char *s, size_t len, char *out, size_t outcap)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t limit = outcap - 4 < ECHO_CAP ? outcap - 4 : ECHO_CAP;
    size_t i = 0;
    size_t o = 0;

    while (i < len) {
        size_t n = s_utf8_seq(p + i, len - i);
        if (n == 0 || p[i] < 0x20 || p[i] == 0x7F || p[i] == '"' || p[i] == '\\') {
            if (o + 1 > limit)
                break;
            out[o++] = '?';
            i += n == 0 ? 1 : n;
            continue;
        }
        if (o + n > limit)
            break;
        memcpy(out + o, p + i, n);
        o += n;
        i += n;
    }
    if (i < len) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

/* --- errors and the field path ------------------------------------------ */

static size_t s_path_push(parse_state_t *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends to the path; returns the previous length for s_path_pop. */
static size_t s_path_push(parse_state_t *st, const char *fmt, ...)
{
    size_t saved = st->path_len;
    size_t room = PATH_CAP - st->path_len;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(st->path + st->path_len, room, fmt, ap);
    va_end(ap);
    if (n < 0) {
        st->path[saved] = '\0';
        return saved;
    }
    if ((size_t)n >= room)
        st->path_len = s_utf8_trim(st->path, PATH_CAP - 1);
    else
        st->path_len += (size_t)n;
    return saved;
}

static void s_path_pop(parse_state_t *st, size_t saved)
{
    st->path_len = saved;
    st->path[saved] = '\0';
}

static size_t s_path_push_field(parse_state_t *st, const char *name)
{
    return s_path_push(st, "%s%s", st->path_len > 0 ? "." : "", name);
}

static int s_fail(parse_state_t *st, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes "path: message" into the caller's buffer and returns rc. */
static int s_fail(parse_state_t *st, int rc, const char *fmt, ...)
{
    va_list ap;
    int prefix;

    if (st->err == NULL || st->errlen == 0)
        return rc;
    prefix = snprintf(st->err, st->errlen, "%s: ", st->path_len > 0 ? st->path : "(root)");
    if (prefix < 0) {
        st->err[0] = '\0';
        return rc;
    }
    if ((size_t)prefix < st->errlen) {
        va_start(ap, fmt);
        if (vsnprintf(st->err + prefix, st->errlen - (size_t)prefix, fmt, ap) < 0)
            st->err[prefix] = '\0';
        va_end(ap);
    }
    s_utf8_trim(st->err, strlen(st->err));
    return rc;
}

static const char *s_json_type(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "integer";
    case JSON_REAL:
        return "real";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    case JSON_NULL:
        return "null";
    }
    return "value";
}

static const char *s_proto_type(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT32:
        return "int32";
    case PROTOBUF_C_TYPE_SINT32:
        return "sint32";
    case PROTOBUF_C_TYPE_SFIXED32:
        return "sfixed32";
    case PROTOBUF_C_TYPE_INT64:
        return "int64";
    case PROTOBUF_C_TYPE_SINT64:
        return "sint64";
    case PROTOBUF_C_TYPE_SFIXED64:
        return "sfixed64";
    case PROTOBUF_C_TYPE_UINT32:
        return "uint32";
    case PROTOBUF_C_TYPE_FIXED32:
        return "fixed32";
    case PROTOBUF_C_TYPE_UINT64:
        return "uint64";
    case PROTOBUF_C_TYPE_FIXED64:
        return "fixed64";
    case PROTOBUF_C_TYPE_FLOAT:
        return "float";
    case PROTOBUF_C_TYPE_DOUBLE:
        return "double";
    case PROTOBUF_C_TYPE_BOOL:
        return "bool";
    case PROTOBUF_C_TYPE_ENUM:
        return "enum";
    case PROTOBUF_C_TYPE_STRING:
        return "string";
    case PROTOBUF_C_TYPE_BYTES:
        return "bytes";
    case PROTOBUF_C_TYPE_MESSAGE:
        return "message";
    }
    return "unknown type";
}

/* --- base64 (RFC 4648 section 4, padded) --------------------------------- */

static const char s_b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Value of a base64 character, or -1. */
static int s_b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Encodes data[0..len) into a new NUL-terminated malloc'd string of
 * *out_len characters; NULL on allocation failure. */
static char *s_b64_encode(const uint8_t *data, size_t len, size_t *out_len)
{
    size_t groups = len / 3 + (len % 3 != 0);
    size_t n;
    size_t i;
    size_t o = 0;
    char *out;

    if (groups > (SIZE_MAX - 1) / 4)
        return NULL;
    n = groups * 4;
    out = malloc(n + 1);
    if (out == NULL)
        return NULL;
    for (i = 0; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
        out[o++] = s_b64_alphabet[v >> 18 & 0x3F];
        out[o++] = s_b64_alphabet[v >> 12 & 0x3F];
        out[o++] = s_b64_alphabet[v >> 6 & 0x3F];
        out[o++] = s_b64_alphabet[v & 0x3F];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)data[i] << 16;
        out[o++] = s_b64_alphabet[v >> 18 & 0x3F];
        out[o++] = s_b64_alphabet[v >> 12 & 0x3F];
        out[o++] = '=';
        out[o++] = '=';
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8;
        out[o++] = s_b64_alphabet[v >> 18 & 0x3F];
        out[o++] = s_b64_alphabet[v >> 12 & 0x3F];
        out[o++] = s_b64_alphabet[v >> 6 & 0x3F];
        out[o++] = '=';
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

/* Decodes text[0..len) into *out (a malloc'd buffer, NULL when empty).
 * Returns RC_OK, RC_ERR_NOMEM, or RC_ERR_INVALID with *why set. Refuses a
 * length that is not a multiple of 4, characters outside the alphabet,
 * misplaced padding and non-zero bits in the last character before padding,
 * so every byte string has exactly one accepted spelling. */
static int s_b64_decode(const char *text, size_t len, ProtobufCBinaryData *out, const char **why)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t pad = 0;
    size_t n;
    size_t i;
    size_t o = 0;
    uint8_t *data;

    out->len = 0;
    out->data = NULL;
    if (len % 4 != 0) {
        *why = "length is not a multiple of 4";
        return RC_ERR_INVALID;
    }
    if (len == 0)
        return RC_OK;
    if (p[len - 1] == '=')
        pad = p[len - 2] == '=' ? 2 : 1;
    for (i = 0; i < len - pad; i++) {
        if (s_b64_value(p[i]) < 0) {
            *why = p[i] == '=' ? "misplaced padding" : "character outside the alphabet";
            return RC_ERR_INVALID;
        }
    }
    if (pad == 2 && (s_b64_value(p[len - 3]) & 0x0F) != 0) {
        *why = "non-zero bits before padding";
        return RC_ERR_INVALID;
    }
    if (pad == 1 && (s_b64_value(p[len - 2]) & 0x03) != 0) {
        *why = "non-zero bits before padding";
        return RC_ERR_INVALID;
    }
    n = len / 4 * 3 - pad;
    data = malloc(n);
    if (data == NULL)
        return RC_ERR_NOMEM;
    for (i = 0; i < len; i += 4) {
        uint32_t v = (uint32_t)s_b64_value(p[i]) << 18 | (uint32_t)s_b64_value(p[i + 1]) << 12;
        data[o++] = (uint8_t)(v >> 16);
        if (p[i + 2] == '=')
            break;
        v |= (uint32_t)s_b64_value(p[i + 2]) << 6;
        data[o++] = (uint8_t)(v >> 8 & 0xFF);
        if (p[i + 3] == '=')
            break;
        v |= (uint32_t)s_b64_value(p[i + 3]);
        data[o++] = (uint8_t)(v & 0xFF);
    }
    out->len = o;
    out->data = data;
    return RC_OK;
}

/* --- parsing: single values ---------------------------------------------- */

/* Text of a JSON string with its length; refuses a NUL inside it and
 * invalid UTF-8 (possible with jansson's *_nocheck constructors). */
static int s_get_text(parse_state_t *st, const json_t *v, const char **s, size_t *len)
{
    if (!json_is_string(v))
        return s_fail(st, RC_ERR_INVALID, "expected a string, got %s", s_json_type(v));
    *s = json_string_value(v);
    *len = json_string_length(v);
    if (memchr(*s, '\0', *len) != NULL)
        return s_fail(st, RC_ERR_INVALID, "string contains a NUL character");
    if (!s_utf8_valid(*s, *len))
        return s_fail(st, RC_ERR_INVALID, "string is not valid UTF-8");
    return RC_OK;
}

/* "-?[0-9]+" (signed) or "[0-9]+" (unsigned), the whole string. */
static int s_is_decimal(const char *s, size_t len, int allow_minus)
{
    size_t i = 0;
    if (allow_minus && len > 0 && s[0] == '-')
        i = 1;
    if (i == len)
        return 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
    }
    return 1;
}

static int s_get_signed(parse_state_t *st, const ProtobufCFieldDescriptor *f, const json_t *v,
                        int64_t min, int64_t max, int64_t *out)
{
    const char *type = s_proto_type(f->type);
    int wide = max == INT64_MAX;
    int64_t x;

    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < min || i > max)
            return s_fail(st, RC_ERR_INVALID, "%lld is out of range for %s", (long long)i, type);
        *out = (int64_t)i;
        return RC_OK;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (!(d >= -TWO_POW_63 && d < TWO_POW_63))
            return s_fail(st, RC_ERR_INVALID, "%.17g is out of range for %s", d, type);
        x = (int64_t)d;
        if ((double)x != d)
            return s_fail(st, RC_ERR_INVALID, "%.17g is not an integer", d);
        if (x < min || x > max)
            return s_fail(st, RC_ERR_INVALID, "%.17g is out of range for %s", d, type);
        *out = x;
        return RC_OK;
    }
    if (wide && json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        char echo[ECHO_CAP + 4];
        long long ll;
        char *end;

        s_echo(s, len, echo, sizeof echo);
        if (!s_is_decimal(s, len, 1))
            return s_fail(st, RC_ERR_INVALID, "\"%s\" is not a decimal integer", echo);
        errno = 0;
        ll = strtoll(s, &end, 10);
        if (errno == ERANGE || ll < min || ll > max)
            return s_fail(st, RC_ERR_INVALID, "\"%s\" is out of range for %s", echo, type);
        if (errno != 0 || end != s + len)
            return s_fail(st, RC_ERR_INVALID, "\"%s\" is not a decimal integer", echo);
        *out = (int64_t)ll;
        return RC_OK;
    }
    return s_fail(st, RC_ERR_INVALID, "expected an integer%s, got %s",
                  wide ? " or a decimal string" : "", s_json_type(v));
}

static int s_get_unsigned(parse_state_t *st, const ProtobufCFieldDescriptor *f, const json_t *v,
                          uint64_t max, uint64_t *out)
{
    const char *type = s_proto_type(f->type);
    int wide = max == UINT64_MAX;
    uint64_t x;

    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < 0 || (uint64_t)i > max)
            return s_fail(st, RC_ERR_INVALID, "%lld is out of range for %s", (long long)i, type);
        *out = (uint64_t)i;
        return RC_OK;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (!(d > -1.0 && d < TWO_POW_64))
            return s_fail(st, RC_ERR_INVALID, "%.17g is out of range for %s", d, type);
        x = (uint64_t)d;
        if ((double)x != d)
            return s_fail(st, RC_ERR_INVALID, "%.17g is not an integer", d);
        if (x > max)
            return s_fail(st, RC_ERR_INVALID, "%.17g is out of range for %s", d, type);
        *out = x;
        return RC_OK;
    }
    if (wide && json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        char echo[ECHO_CAP + 4];
        unsigned long long ull;
        char *end;

        s_echo(s, len, echo, sizeof echo);
        if (len > 0 && s[0] == '-' && s_is_decimal(s, len, 1))
            return s_fail(st, RC_ERR_INVALID, "\"%s\" is out of range for %s", echo, type);
        if (!s_is_decimal(s, len, 0))
            return s_fail(st, RC_ERR_INVALID, "\"%s\" is not a decimal integer", echo);
        errno = 0;
        ull = strtoull(s, &end, 10);
        if (errno == ERANGE || ull > max)
            return s_fail(st, RC_ERR_INVALID, "\"%s\" is out of range for %s", echo, type);
        if (errno != 0 || end != s + len)
            return s_fail(st, RC_ERR_INVALID, "\"%s\" is not a decimal integer", echo);
        *out = (uint64_t)ull;
        return RC_OK;
    }
    return s_fail(st, RC_ERR_INVALID, "expected an integer%s, got %s",
                  wide ? " or a decimal string" : "", s_json_type(v));
}

static int s_get_double(parse_state_t *st, const json_t *v, double *out)
{
    if (json_is_integer(v)) {
        *out = (double)json_integer_value(v);
        return RC_OK;
    }
    if (json_is_real(v)) {
        *out = json_real_value(v);
        return RC_OK;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        char echo[ECHO_CAP + 4];

        if (len == 3 && memcmp(s, "NaN", 3) == 0) {
            *out = NAN;
            return RC_OK;
        }
        if (len == 8 && memcmp(s, "Infinity", 8) == 0) {
            *out = INFINITY;
            return RC_OK;
        }
        if (len == 9 && memcmp(s, "-Infinity", 9) == 0) {
            *out = -INFINITY;
            return RC_OK;
        }
        s_echo(s, len, echo, sizeof echo);
        return s_fail(st, RC_ERR_INVALID, "\"%s\" is not a number", echo);
    }
    return s_fail(st, RC_ERR_INVALID, "expected a number, got %s", s_json_type(v));
}

static int s_get_enum(parse_state_t *st, const ProtobufCFieldDescriptor *f, const json_t *v,
                      int *out)
{
    const ProtobufCEnumDescriptor *edesc = f->descriptor;
    const ProtobufCEnumValue *ev = NULL;

    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        char echo[ECHO_CAP + 4];

        if (strlen(s) == len)
            ev = protobuf_c_enum_descriptor_get_value_by_name(edesc, s);
        if (ev == NULL) {
            s_echo(s, len, echo, sizeof echo);
            return s_fail(st, RC_ERR_INVALID, "unknown enum value \"%s\"", echo);
        }
        *out = ev->value;
        return RC_OK;
    }
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i >= INT_MIN && i <= INT_MAX)
            ev = protobuf_c_enum_descriptor_get_value(edesc, (int)i);
        if (ev == NULL)
            return s_fail(st, RC_ERR_INVALID, "unknown enum value %lld", (long long)i);
        *out = ev->value;
        return RC_OK;
    }
    return s_fail(st, RC_ERR_INVALID, "expected an enum name or number, got %s", s_json_type(v));
}

/* Stores a malloc'd copy of the string in *slot. */
static int s_get_string(parse_state_t *st, const json_t *v, char **slot)
{
    const char *s;
    size_t len;
    char *copy;
    int rc = s_get_text(st, v, &s, &len);

    if (rc != RC_OK)
        return rc;
    copy = malloc(len + 1);
    if (copy == NULL)
        return s_fail(st, RC_ERR_NOMEM, "out of memory");
    memcpy(copy, s, len);
    copy[len] = '\0';
    *slot = copy;
    return RC_OK;
}

static int s_get_bytes(parse_state_t *st, const json_t *v, ProtobufCBinaryData *slot)
{
    const char *why = "";
    const char *s;
    size_t len;
    int rc = s_get_text(st, v, &s, &len);

    if (rc != RC_OK)
        return rc;
    rc = s_b64_decode(s, len, slot, &why);
    if (rc == RC_ERR_NOMEM)
        return s_fail(st, rc, "out of memory");
    if (rc != RC_OK)
        return s_fail(st, rc, "not valid base64: %s", why);
    return RC_OK;
}

static int s_parse_object(parse_state_t *st, const ProtobufCMessageDescriptor *desc,
                          const json_t *obj, ProtobufCMessage *msg, int depth);

/* Builds a sub-message at depth + 1 and stores it in *slot on success. */
static int s_get_message(parse_state_t *st, const ProtobufCFieldDescriptor *f, const json_t *v,
                         ProtobufCMessage **slot, int depth)
{
    const ProtobufCMessageDescriptor *mdesc = f->descriptor;
    ProtobufCMessage *child;
    int rc;

    if (!json_is_object(v))
        return s_fail(st, RC_ERR_INVALID, "expected an object for %s, got %s", mdesc->name,
                      s_json_type(v));
    if (depth + 1 > PBJSON_MAX_DEPTH)
        return s_fail(st, RC_ERR_INVALID, "objects nested deeper than %d levels", PBJSON_MAX_DEPTH);
    child = malloc(mdesc->sizeof_message);
    if (child == NULL)
        return s_fail(st, RC_ERR_NOMEM, "out of memory");
    protobuf_c_message_init(mdesc, child);
    rc = s_parse_object(st, mdesc, v, child, depth + 1);
    if (rc != RC_OK)
        goto out_free_child;
    *slot = child;
    return RC_OK;

out_free_child:
    protobuf_c_message_free_unpacked(child, NULL);
    return rc;
}

/* Parses one value of field f into slot (the member itself, or one element
 * of a repeated field's array). On failure nothing new is left in slot. */
static int s_parse_value(parse_state_t *st, const ProtobufCFieldDescriptor *f, const json_t *v,
                         void *slot, int depth)
{
    int64_t i64 = 0;
    uint64_t u64 = 0;
    double d = 0;
    int e = 0;
    int rc;

    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        rc = s_get_signed(st, f, v, INT32_MIN, INT32_MAX, &i64);
        if (rc == RC_OK)
            *(int32_t *)slot = (int32_t)i64;
        return rc;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        rc = s_get_signed(st, f, v, INT64_MIN, INT64_MAX, &i64);
        if (rc == RC_OK)
            *(int64_t *)slot = i64;
        return rc;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        rc = s_get_unsigned(st, f, v, UINT32_MAX, &u64);
        if (rc == RC_OK)
            *(uint32_t *)slot = (uint32_t)u64;
        return rc;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        rc = s_get_unsigned(st, f, v, UINT64_MAX, &u64);
        if (rc == RC_OK)
            *(uint64_t *)slot = u64;
        return rc;
    case PROTOBUF_C_TYPE_FLOAT:
        rc = s_get_double(st, v, &d);
        if (rc != RC_OK)
            return rc;
        if (isfinite(d) && (d > FLT_MAX || d < -FLT_MAX))
            return s_fail(st, RC_ERR_INVALID, "%.17g is out of range for float", d);
        *(float *)slot = (float)d;
        return RC_OK;
    case PROTOBUF_C_TYPE_DOUBLE:
        rc = s_get_double(st, v, &d);
        if (rc == RC_OK)
            *(double *)slot = d;
        return rc;
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_is_boolean(v))
            return s_fail(st, RC_ERR_INVALID, "expected true or false, got %s", s_json_type(v));
        *(protobuf_c_boolean *)slot = json_is_true(v) ? 1 : 0;
        return RC_OK;
    case PROTOBUF_C_TYPE_ENUM:
        rc = s_get_enum(st, f, v, &e);
        if (rc == RC_OK)
            *(int *)slot = e;
        return rc;
    case PROTOBUF_C_TYPE_STRING:
        return s_get_string(st, v, (char **)slot);
    case PROTOBUF_C_TYPE_BYTES:
        return s_get_bytes(st, v, (ProtobufCBinaryData *)slot);
    case PROTOBUF_C_TYPE_MESSAGE:
        return s_get_message(st, f, v, (ProtobufCMessage **)slot, depth);
    }
    return s_fail(st, RC_ERR_INVALID, "unsupported field type %d", (int)f->type);
}

/* Size of one element of a repeated field's array. */
static size_t s_elem_size(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return sizeof(int32_t);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return sizeof(uint32_t);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return sizeof(int64_t);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return sizeof(uint64_t);
    case PROTOBUF_C_TYPE_FLOAT:
        return sizeof(float);
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_ENUM:
        return sizeof(int);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    }
    return 0;
}

static int s_parse_repeated(parse_state_t *st, const ProtobufCFieldDescriptor *f, const json_t *v,
                            ProtobufCMessage *msg, int depth)
{
    size_t *count = (size_t *)((char *)msg + f->quantifier_offset);
    void **array = (void **)((char *)msg + f->offset);
    size_t esize = s_elem_size(f->type);
    size_t n;
    size_t i;
    char *elems;

    if (!json_is_array(v))
        return s_fail(st, RC_ERR_INVALID, "expected an array, got %s", s_json_type(v));
    n = json_array_size(v);
    if (n == 0)
        return RC_OK;
    if (esize == 0)
        return s_fail(st, RC_ERR_INVALID, "unsupported field type %d", (int)f->type);
    elems = calloc(n, esize);
    if (elems == NULL)
        return s_fail(st, RC_ERR_NOMEM, "out of memory");
    *array = elems;
    *count = 0;
    for (i = 0; i < n; i++) {
        const json_t *elem = json_array_get(v, i);
        size_t saved = s_path_push(st, "[%zu]", i);
        int rc;

        if (json_is_null(elem))
            return s_fail(st, RC_ERR_INVALID, "null is not allowed in a repeated field");
        rc = s_parse_value(st, f, elem, elems + i * esize, depth);
        if (rc != RC_OK)
            return rc;
        *count = i + 1;
        s_path_pop(st, saved);
    }
    return RC_OK;
}

static int s_parse_field(parse_state_t *st, const ProtobufCMessageDescriptor *desc,
                         const ProtobufCFieldDescriptor *f, const json_t *v, ProtobufCMessage *msg,
                         int depth)
{
    void *slot = (char *)msg + f->offset;
    uint32_t *oneof_case = NULL;
    int rc;

    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return s_parse_repeated(st, f, v, msg, depth);
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        oneof_case = (uint32_t *)((char *)msg + f->quantifier_offset);
        if (*oneof_case != 0 && *oneof_case != f->id) {
            const ProtobufCFieldDescriptor *other =
                protobuf_c_message_descriptor_get_field(desc, *oneof_case);
            return s_fail(st, RC_ERR_INVALID, "cannot set both %s and %s (members of one oneof)",
                          other != NULL ? other->name : "another member", f->name);
        }
    }
    rc = s_parse_value(st, f, v, slot, depth);
    if (rc != RC_OK)
        return rc;
    if (oneof_case != NULL)
        *oneof_case = f->id;
    else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
             f->type != PROTOBUF_C_TYPE_MESSAGE)
        *(protobuf_c_boolean *)((char *)msg + f->quantifier_offset) = 1;
    return RC_OK;
}

/* Length of an object key; from jansson 2.14 on a key may contain NUL. */
static size_t s_key_len(void *it, const char *key)
{
#if JANSSON_VERSION_HEX >= 0x020E00
    (void)key;
    return json_object_iter_key_len(it);
#else
    (void)it;
    return strlen(key);
#endif
}

static int s_parse_object(parse_state_t *st, const ProtobufCMessageDescriptor *desc,
                          const json_t *obj, ProtobufCMessage *msg, int depth)
{
    json_t *o = (json_t *)obj; /* jansson's iterator API is not const */
    void *it;

    for (it = json_object_iter(o); it != NULL; it = json_object_iter_next(o, it)) {
        const char *key = json_object_iter_key(it);
        const json_t *v = json_object_iter_value(it);
        const ProtobufCFieldDescriptor *f = NULL;
        size_t key_len = s_key_len(it, key);
        size_t saved;
        int rc;

        if (memchr(key, '\0', key_len) == NULL)
            f = protobuf_c_message_descriptor_get_field_by_name(desc, key);
        if (f == NULL) {
            char echo[ECHO_CAP + 4];
            s_echo(key, key_len, echo, sizeof echo);
            s_path_push_field(st, echo);
            return s_fail(st, RC_ERR_INVALID, "no such field in %s", desc->name);
        }
        saved = s_path_push_field(st, f->name);
        if (!json_is_null(v)) {
            rc = s_parse_field(st, desc, f, v, msg, depth);
            if (rc != RC_OK)
                return rc;
        }
        s_path_pop(st, saved);
    }
    return RC_OK;
}

int pbjson_parse(const ProtobufCMessageDescriptor *desc, const json_t *obj, ProtobufCMessage **out,
                 char *err, size_t errlen)
{
    parse_state_t st;
    ProtobufCMessage *msg;
    int rc;

    st.path[0] = '\0';
    st.path_len = 0;
    st.err = err;
    st.errlen = err != NULL ? errlen : 0;
    if (st.errlen > 0)
        err[0] = '\0';
    if (out == NULL)
        return s_fail(&st, RC_ERR_INVALID, "no place for the result");
    *out = NULL;
    if (desc == NULL || desc->magic != PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC)
        return s_fail(&st, RC_ERR_INVALID, "not a message descriptor");
    if (obj == NULL || !json_is_object(obj))
        return s_fail(&st, RC_ERR_INVALID, "expected an object for %s, got %s", desc->name,
                      obj != NULL ? s_json_type(obj) : "nothing");

    msg = malloc(desc->sizeof_message);
    if (msg == NULL)
        return s_fail(&st, RC_ERR_NOMEM, "out of memory");
    protobuf_c_message_init(desc, msg);
    rc = s_parse_object(&st, desc, obj, msg, 1);
    if (rc != RC_OK)
        goto out_free_msg;
    *out = msg;
    return RC_OK;

out_free_msg:
    protobuf_c_message_free_unpacked(msg, NULL);
    return rc;
}

/* --- dumping ------------------------------------------------------------- */

static json_t *s_dump_message(const ProtobufCMessage *msg, int flags, int depth);

static json_t *s_dump_double(double d)
{
    if (isnan(d))
        return json_string("NaN");
    if (isinf(d))
        return json_string(d > 0 ? "Infinity" : "-Infinity");
    return json_real(d);
}

static json_t *s_dump_uint64(uint64_t u)
{
    char buf[24];

    if (u <= (uint64_t)INT64_MAX)
        return json_integer((json_int_t)u);
    snprintf(buf, sizeof buf, "%" PRIu64, u);
    return json_string(buf);
}

static json_t *s_dump_bytes(const ProtobufCBinaryData *bd)
{
    size_t len = 0;
    char *text;
    json_t *v;

    if (bd->len == 0)
        return json_string("");
    if (bd->data == NULL)
        return NULL;
    text = s_b64_encode(bd->data, bd->len, &len);
    if (text == NULL)
        return NULL;
    v = json_stringn_nocheck(text, len); /* base64 is ASCII */
    free(text);
    return v;
}

/* One value of field f from slot (the member, or one array element). */
static json_t *s_dump_value(const ProtobufCFieldDescriptor *f, const void *slot, int flags,
                            int depth)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return json_integer(*(const int32_t *)slot);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return json_integer(*(const uint32_t *)slot);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return json_integer(*(const int64_t *)slot);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return s_dump_uint64(*(const uint64_t *)slot);
    case PROTOBUF_C_TYPE_FLOAT:
        return s_dump_double(*(const float *)slot);
    case PROTOBUF_C_TYPE_DOUBLE:
        return s_dump_double(*(const double *)slot);
    case PROTOBUF_C_TYPE_BOOL:
        return json_boolean(*(const protobuf_c_boolean *)slot);
    case PROTOBUF_C_TYPE_ENUM: {
        int e = *(const int *)slot;
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, e);
        return ev != NULL ? json_string(ev->name) : json_integer(e);
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)slot;
        return json_string(s != NULL ? s : "");
    }
    case PROTOBUF_C_TYPE_BYTES:
        return s_dump_bytes(slot);
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)slot;
        return sub != NULL ? s_dump_message(sub, flags, depth + 1) : NULL;
    }
    }
    return NULL;
}

/* Whether a singular proto3 field holds its type's default. */
static int s_is_default(const ProtobufCFieldDescriptor *f, const void *slot)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return *(const uint32_t *)slot == 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return *(const uint64_t *)slot == 0;
    case PROTOBUF_C_TYPE_FLOAT:
        return *(const float *)slot == 0 && !signbit(*(const float *)slot);
    case PROTOBUF_C_TYPE_DOUBLE:
        return *(const double *)slot == 0 && !signbit(*(const double *)slot);
    case PROTOBUF_C_TYPE_BOOL:
        return *(const protobuf_c_boolean *)slot == 0;
    case PROTOBUF_C_TYPE_ENUM:
        return *(const int *)slot == 0;
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)slot;
        return s == NULL || s[0] == '\0';
    }
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *)slot)->len == 0;
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(ProtobufCMessage *const *)slot == NULL;
    }
    return 0;
}

static json_t *s_dump_repeated(const ProtobufCFieldDescriptor *f, const ProtobufCMessage *msg,
                               int flags, int depth)
{
    size_t n = *(const size_t *)((const char *)msg + f->quantifier_offset);
    const char *elems = *(char *const *)((const char *)msg + f->offset);
    size_t esize = s_elem_size(f->type);
    json_t *array;
    size_t i;

    if (n > 0 && (elems == NULL || esize == 0))
        return NULL;
    array = json_array();
    if (array == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        json_t *v = s_dump_value(f, elems + i * esize, flags, depth);
        if (v == NULL || json_array_append_new(array, v) != 0)
            goto out_free_array;
    }
    return array;

out_free_array:
    json_decref(array);
    return NULL;
}

static json_t *s_dump_message(const ProtobufCMessage *msg, int flags, int depth)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    json_t *obj;
    unsigned i;

    if (desc == NULL || depth > PBJSON_MAX_DEPTH)
        return NULL;
    obj = json_object();
    if (obj == NULL)
        return NULL;
    for (i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        const void *slot = (const char *)msg + f->offset;
        const void *quantifier = (const char *)msg + f->quantifier_offset;
        json_t *v;

        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            if (*(const size_t *)quantifier == 0 && !(flags & PBJSON_EMIT_DEFAULTS))
                continue;
            v = s_dump_repeated(f, msg, flags, depth);
        } else {
            if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
                if (*(const uint32_t *)quantifier != f->id)
                    continue;
            } else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
                       f->type != PROTOBUF_C_TYPE_MESSAGE) {
                if (!*(const protobuf_c_boolean *)quantifier)
                    continue;
            } else if (f->type == PROTOBUF_C_TYPE_MESSAGE ||
                       f->label == PROTOBUF_C_LABEL_OPTIONAL) {
                /* presence is the pointer: an unset message or optional string */
                if (*(const void *const *)slot == NULL)
                    continue;
            } else if (f->label == PROTOBUF_C_LABEL_NONE && !(flags & PBJSON_EMIT_DEFAULTS) &&
                       s_is_default(f, slot)) {
                continue; /* proto3 implicit presence; proto2 required is always shown */
            }
            if (f->type == PROTOBUF_C_TYPE_MESSAGE && *(const void *const *)slot == NULL)
                continue; /* a oneof case naming a NULL message: nothing to show */
            v = s_dump_value(f, slot, flags, depth);
        }
        if (v == NULL || json_object_set_new_nocheck(obj, f->name, v) != 0)
            goto out_free_obj;
    }
    return obj;

out_free_obj:
    json_decref(obj);
    return NULL;
}

json_t *pbjson_dump(const ProtobufCMessage *msg, int flags)
{
    if (msg == NULL || msg->descriptor == NULL ||
        msg->descriptor->magic != PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC)
        return NULL;
    return s_dump_message(msg, flags, 1);
}
