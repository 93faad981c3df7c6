/* intake_check.c: the checks of an incoming Envelope, driven by a table of
 * rules per event type and by protobuf-c's descriptors. */
#include "intake_check.h"
#include "refusal.h"
#include "errors.h"
#include "ids.h"
#include "money.h"
#include "text.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* What each event type demands beyond its proto3 shape. */
typedef struct event_rule event_rule_t;
struct event_rule {
    Rectify__Envelope__EventCase event_case;
    const char *const *required; /* fields that must be non-empty / non-zero */
    const char *const *dates;    /* string fields holding YYYY-MM-DD */
    /* checks the generic walk cannot make (repeated fields, numbers); may be NULL */
    int (*extra)(const ProtobufCMessage *event, intake_refusal_t *why);
};

#define LIST(...) ((const char *const[]){__VA_ARGS__, NULL})
#define ON_DATE LIST("on_date")

static int s_check_evidence(const ProtobufCMessage *event, intake_refusal_t *why);
static int s_check_accountability(const ProtobufCMessage *event, intake_refusal_t *why);
static int s_check_plan(const ProtobufCMessage *event, intake_refusal_t *why);
static int s_check_unit_code(const ProtobufCMessage *event, intake_refusal_t *why);
static int s_check_order(const ProtobufCMessage *event, intake_refusal_t *why);
static bool s_hex64(const char *h, bool upper_too);
static int s_check_move(const ProtobufCMessage *event, intake_refusal_t *why);
static int s_check_case(const ProtobufCMessage *event, intake_refusal_t *why);

static const event_rule_t s_rules[] = {
    {RECTIFY__ENVELOPE__EVENT_OPEN_ROUND,
     LIST("round_id", "group_name", "target_unit", "feedback_date", "kind"),
     LIST("onsite_from", "onsite_to", "feedback_date"), NULL},
    {RECTIFY__ENVELOPE__EVENT_POST_PROBLEM, LIST("round_id", "problem_id", "aspect", "title"),
     LIST(NULL), NULL},
    {RECTIFY__ENVELOPE__EVENT_REGISTER_UNIT, LIST("code", "name", "role"), LIST(NULL),
     s_check_unit_code},
    {RECTIFY__ENVELOPE__EVENT_POST_ITEM, LIST("round_id", "problem_id", "item_id", "title"),
     ON_DATE, NULL},
    {RECTIFY__ENVELOPE__EVENT_ADD_MEASURE, LIST("round_id", "item_id", "measure_id", "title"),
     ON_DATE, NULL},
    {RECTIFY__ENVELOPE__EVENT_ASSIGN,
     LIST("round_id", "task_id", "lead_leader", "responsible_unit", "deadline", "track"),
     LIST("deadline", "on_date"), NULL},
    {RECTIFY__ENVELOPE__EVENT_START, LIST("round_id", "task_id"), ON_DATE, NULL},
    {RECTIFY__ENVELOPE__EVENT_REPORT_PROGRESS, LIST("round_id", "task_id", "text"), ON_DATE,
     s_check_evidence},
    {RECTIFY__ENVELOPE__EVENT_SUBMIT_WRITE_OFF, LIST("round_id", "task_id", "text"), ON_DATE,
     s_check_evidence},
    {RECTIFY__ENVELOPE__EVENT_WRITE_OFF, LIST("round_id", "task_id"), ON_DATE, NULL},
    {RECTIFY__ENVELOPE__EVENT_REJECT_WRITE_OFF, LIST("round_id", "task_id", "reason"), ON_DATE,
     NULL},
    {RECTIFY__ENVELOPE__EVENT_REASSIGN, LIST("round_id", "task_id", "reason"), ON_DATE, NULL},
    {RECTIFY__ENVELOPE__EVENT_CHANGE_DEADLINE, LIST("round_id", "task_id", "deadline", "reason"),
     LIST("deadline", "on_date"), NULL},
    {RECTIFY__ENVELOPE__EVENT_RECORD_LOOK_BACK, LIST("round_id", "task_id", "result"), ON_DATE,
     NULL},
    {RECTIFY__ENVELOPE__EVENT_CLOSE_BY_DECISION, LIST("round_id", "task_id", "decision"), ON_DATE,
     NULL},
    {RECTIFY__ENVELOPE__EVENT_RECORD_INSTITUTION,
     LIST("round_id", "institution_id", "kind", "title"), ON_DATE, NULL},
    {RECTIFY__ENVELOPE__EVENT_RECORD_ACCOUNTABILITY, LIST("round_id", "action_id", "kind"), ON_DATE,
     s_check_accountability},
    {RECTIFY__ENVELOPE__EVENT_IMPORT_PLAN, LIST("round_id"), ON_DATE, s_check_plan},
    {RECTIFY__ENVELOPE__EVENT_RECORD_FUNDS_RECOVERED, LIST("round_id", "record_id", "amount_yuan"),
     ON_DATE, NULL},
    {RECTIFY__ENVELOPE__EVENT_POST_ORDER,
     LIST("order_id", "channel", "caller_hash", "address", "category", "text", "urgency"),
     LIST(NULL), s_check_order},
    {RECTIFY__ENVELOPE__EVENT_MOVE_ORDER, LIST("order_id", "step"), LIST(NULL), s_check_move},
    {RECTIFY__ENVELOPE__EVENT_HANDLE_REPEAT_CASE, LIST("action"), LIST(NULL), s_check_case},
};

static int s_refuse(intake_refusal_t *why, refusal_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int s_refuse(intake_refusal_t *why, refusal_t code, const char *fmt, ...)
{
    snprintf(why->code, sizeof why->code, "%s", refusal_code(code));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why->message, sizeof why->message, fmt, ap);
    va_end(ap);
    return RC_ERR_INVALID;
}

/* Reads a varint at *p (below end); returns false when it does not fit. */
static bool s_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        *v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80))
            return true;
    }
    return false;
}

/* Reads the next field of a message's wire format at *p: its key, and for a
 * length-delimited field its bytes (*value, *n; otherwise *value is NULL).
 * Returns false at the end or on malformed data. */
static bool s_wire_next(const uint8_t **p, const uint8_t *end, uint64_t *key, const uint8_t **value,
                        uint64_t *n)
{
    *value = NULL;
    if (*p >= end || !s_varint(p, end, key))
        return false;
    switch (*key & 7) {
    case 0:
        return s_varint(p, end, n);
    case 1:
    case 5: {
        size_t width = (*key & 7) == 1 ? 8 : 4;
        if ((size_t)(end - *p) < width)
            return false;
        *p += width;
        return true;
    }
    case 2:
        if (!s_varint(p, end, n) || *n > (uint64_t)(end - *p))
            return false;
        *value = *p;
        *p += *n;
        return true;
    default:
        return false;
    }
}

/* Looks for Envelope field 1 (event_id) among the first top-level fields of
 * the wire format, without unpacking the rest; keeps it only when it is a
 * UUID, so an answer never echoes bytes a client cannot decode. */
static void s_peek_event_id(const uint8_t *data, size_t len, char *out, size_t outlen)
{
    const uint8_t *p = data, *end = data + len, *value;
    uint64_t key, n;
    out[0] = '\0';
    for (int fields = 0; fields < 8 && s_wire_next(&p, end, &key, &value, &n); fields++) {
        if (key != ((1 << 3) | 2))
            continue;
        if (n < outlen) {
            memcpy(out, value, n);
            out[n] = '\0';
            if (!ids_is_uuid(out))
                out[0] = '\0';
        }
        return;
    }
}

/* The byte limit of a string field: the Envelope's own fields are short. */
static size_t s_string_limit(const ProtobufCMessageDescriptor *d, const ProtobufCFieldDescriptor *f)
{
    if (d == &rectify__envelope__descriptor)
        return f->id == 2 ? INTAKE_MAX_UNIT : IDS_UUID_LEN;
    return INTAKE_MAX_STRING;
}

/* The one text rule (text_check) as a refusal naming the field. */
static int s_check_text(const char *name, const char *s, size_t n, size_t limit,
                        intake_refusal_t *why)
{
    size_t at = 0;
    switch (text_check(s, n, limit, &at)) {
    case TEXT_OK:
        return RC_OK;
    case TEXT_NUL:
        return s_refuse(why, REFUSAL_nul_in_text,
                        "%s: byte %zu is NUL; text may not contain NUL bytes", name, at);
    case TEXT_INVALID:
        return s_refuse(why, REFUSAL_invalid_utf8,
                        "%s: byte %zu (0x%02X) starts no valid UTF-8 character", name, at,
                        (unsigned char)s[at]);
    case TEXT_TOO_LONG:
    default:
        return s_refuse(why, REFUSAL_field_too_long, "%s is %zu bytes; the limit is %zu", name, n,
                        limit);
    }
}

/* Walks the wire format of a message of type d and checks every string field
 * of it and of its sub-messages, on the bytes as sent (protobuf-c would cut a
 * string at its first NUL byte without a word): UTF-8 as PostgreSQL accepts
 * it, no NUL, at most the field's limit. Malformed wire data is left to the
 * unpacker, which refuses it. */
static int s_check_wire(const ProtobufCMessageDescriptor *d, const uint8_t *data, size_t len,
                        const char *prefix, int depth, intake_refusal_t *why)
{
    const uint8_t *p = data, *end = data + len, *value;
    uint64_t key, n;
    unsigned seen[64] = {0}; /* occurrences per field index, for "rows[3]" */
    if (depth > 8)
        return RC_OK;
    while (s_wire_next(&p, end, &key, &value, &n)) {
        if ((key >> 3) == 0)
            return s_refuse(why, REFUSAL_malformed, "%sfield number 0 is not a protobuf field",
                            prefix);
        if (!value)
            continue;
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field(d, (unsigned)(key >> 3));
        if (!f)
            continue; /* unknown field: intake_check says what it makes of it */
        char name[160];
        unsigned fi = (unsigned)(f - d->fields);
        if (f->label == PROTOBUF_C_LABEL_REPEATED)
            snprintf(name, sizeof name, "%s%s[%u]", prefix, f->name, fi < 64 ? seen[fi]++ : 0);
        else
            snprintf(name, sizeof name, "%s%s", prefix, f->name);
        if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
            char sub[168];
            snprintf(sub, sizeof sub, "%s.", name);
            int rc = s_check_wire(f->descriptor, value, (size_t)n, sub, depth + 1, why);
            if (rc != RC_OK)
                return rc;
            continue;
        }
        if (f->type != PROTOBUF_C_TYPE_STRING)
            continue;
        int rc = s_check_text(name, (const char *)value, (size_t)n, s_string_limit(d, f), why);
        if (rc != RC_OK)
            return rc;
    }
    return RC_OK;
}

int intake_decode(const uint8_t *data, size_t len, size_t max_bytes, Rectify__Envelope **env,
                  intake_refusal_t *why)
{
    *env = NULL;
    why->event_id[0] = '\0';
    if (len > max_bytes) {
        s_peek_event_id(data, len, why->event_id, sizeof why->event_id);
        return s_refuse(why, REFUSAL_too_large, "message is %zu bytes; the limit is %zu", len,
                        max_bytes);
    }
    if (len == 0)
        return s_refuse(why, REFUSAL_malformed, "empty frame: expected a protobuf Envelope");
    int rc = s_check_wire(&rectify__envelope__descriptor, data, len, "", 0, why);
    if (rc != RC_OK) {
        s_peek_event_id(data, len, why->event_id, sizeof why->event_id);
        return rc;
    }
    *env = rectify__envelope__unpack(NULL, len, data);
    if (!*env) {
        s_peek_event_id(data, len, why->event_id, sizeof why->event_id);
        return s_refuse(why, REFUSAL_malformed,
                        "frame of %zu bytes is not a valid protobuf Envelope", len);
    }
    return RC_OK;
}

static bool s_valid_date(const char *s)
{
    int y, m, d;
    char tail;
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
        return false;
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || m < 1 || m > 12 || d < 1)
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= days[m - 1] + (m == 2 && leap);
}

static bool s_in(const char *const *list, const char *name)
{
    for (; *list; list++)
        if (strcmp(*list, name) == 0)
            return true;
    return false;
}

/* Checks every field of the event message against its descriptor and rule. */
static int s_check_event(const char *prefix, const ProtobufCMessage *msg, const event_rule_t *rule,
                         intake_refusal_t *why)
{
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const void *at = (const char *)msg + f->offset;
        bool required = s_in(rule->required, f->name);
        if (f->label == PROTOBUF_C_LABEL_REPEATED)
            continue; /* no repeated fields in the first events */
        switch (f->type) {
        case PROTOBUF_C_TYPE_STRING: {
            const char *s = *(char *const *)at;
            if (!s || !*s) {
                if (required)
                    return s_refuse(why, REFUSAL_missing_field, "%s.%s is required", prefix,
                                    f->name);
                break;
            }
            char name[200];
            snprintf(name, sizeof name, "%s.%s", prefix, f->name);
            int rc = s_check_text(name, s, strlen(s), INTAKE_MAX_STRING, why);
            if (rc != RC_OK)
                return rc;
            if (s_in(rule->dates, f->name) && !s_valid_date(s))
                return s_refuse(why, REFUSAL_invalid_field,
                                "%s.%s: \"%s\" is not a date (YYYY-MM-DD)", prefix, f->name, s);
            break;
        }
        case PROTOBUF_C_TYPE_ENUM: {
            int v = *(const int *)at;
            const ProtobufCEnumDescriptor *ed = f->descriptor;
            if (v == 0 && required)
                return s_refuse(why, REFUSAL_missing_field,
                                "%s.%s is required (one of the %s values)", prefix, f->name,
                                ed->short_name);
            if (!protobuf_c_enum_descriptor_get_value(ed, v))
                return s_refuse(why, REFUSAL_invalid_field, "%s.%s: %d is not a %s value", prefix,
                                f->name, v, ed->short_name);
            break;
        }
        default:
            if (required) /* a rule naming a field this check cannot judge is a bug */
                return s_refuse(why, REFUSAL_invalid_field, "%s.%s cannot be checked", prefix,
                                f->name);
        }
    }
    return RC_OK;
}

int intake_check(const Rectify__Envelope *env, const char **event_type, intake_refusal_t *why)
{
    *event_type = NULL;
    if (!env->event_id || !*env->event_id)
        return s_refuse(why, REFUSAL_missing_field,
                        "event_id is required (a UUID chosen by the sender)");
    if (!ids_is_uuid(env->event_id))
        return s_refuse(why, REFUSAL_invalid_field, "event_id: \"%.40s\" is not a UUID",
                        env->event_id);
    if (!env->unit || !*env->unit)
        return s_refuse(why, REFUSAL_missing_field, "unit is required (the sending unit's code)");
    size_t n = strlen(env->unit);
    if (n > INTAKE_MAX_UNIT)
        return s_refuse(why, REFUSAL_field_too_long, "unit is %zu bytes; the limit is %d", n,
                        INTAKE_MAX_UNIT);
    for (const char *p = env->unit; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
              *p == '.'))
            return s_refuse(why, REFUSAL_invalid_field,
                            "unit: \"%.64s\" may hold only a-z, 0-9, '-', '_' and '.'", env->unit);
    if (env->sent_at_ms < 0 || env->sent_at_ms > INTAKE_MAX_SENT_AT_MS)
        return s_refuse(why, REFUSAL_out_of_range,
                        "sent_at_ms: %lld is outside 0 .. %lld (milliseconds since 1970, at most "
                        "9999-12-31)",
                        (long long)env->sent_at_ms, (long long)INTAKE_MAX_SENT_AT_MS);

    if (env->event_case == RECTIFY__ENVELOPE__EVENT__NOT_SET) {
        if (env->base.n_unknown_fields > 0)
            return s_refuse(why, REFUSAL_unknown_event,
                            "event: field number %u is not an event type this intake knows",
                            env->base.unknown_fields[0].tag);
        return s_refuse(why, REFUSAL_missing_field, "event: no event type is set");
    }
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(
        &rectify__envelope__descriptor, (unsigned)env->event_case);
    const event_rule_t *rule = NULL;
    for (size_t i = 0; i < sizeof s_rules / sizeof s_rules[0]; i++)
        if (s_rules[i].event_case == env->event_case)
            rule = &s_rules[i];
    if (!f || !rule)
        return s_refuse(why, REFUSAL_unknown_event, "event: field number %d has no rules in intake",
                        (int)env->event_case);
    const ProtobufCMessage *event = *(ProtobufCMessage *const *)((const char *)env + f->offset);
    if (!event)
        return s_refuse(why, REFUSAL_missing_field, "%s is empty", f->name);
    int rc = s_check_event(f->name, event, rule, why);
    if (rc == RC_OK && rule->extra)
        rc = rule->extra(event, why);
    if (rc == RC_OK)
        *event_type = f->name;
    return rc;
}

static bool s_unit_code_ok(const char *code)
{
    if (!*code || strlen(code) > INTAKE_MAX_UNIT)
        return false;
    for (const char *p = code; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
              *p == '.'))
            return false;
    return true;
}

static int s_check_unit_code(const ProtobufCMessage *event, intake_refusal_t *why)
{
    const Rectify__RegisterUnit *ev = (const Rectify__RegisterUnit *)event;
    if (!s_unit_code_ok(ev->code))
        return s_refuse(why, REFUSAL_invalid_field,
                        "register_unit.code: \"%.64s\" may hold only a-z, 0-9, '-', '_' and '.' "
                        "(at most %d bytes)",
                        ev->code, INTAKE_MAX_UNIT);
    if (*ev->parent && !s_unit_code_ok(ev->parent))
        return s_refuse(why, REFUSAL_invalid_field,
                        "register_unit.parent: \"%.64s\" is not a unit code", ev->parent);
    return RC_OK;
}

/* Evidence of a progress report or a submission: a title, a SHA-256 digest
 * in hexadecimal and a URI each. */
static int s_check_evidence(const ProtobufCMessage *event, intake_refusal_t *why)
{
    const char *name = event->descriptor == &rectify__report_progress__descriptor
                           ? "report_progress"
                           : "submit_write_off";
    size_t n = event->descriptor == &rectify__report_progress__descriptor
                   ? ((const Rectify__ReportProgress *)event)->n_evidence
                   : ((const Rectify__SubmitWriteOff *)event)->n_evidence;
    Rectify__Evidence **list = event->descriptor == &rectify__report_progress__descriptor
                                   ? ((const Rectify__ReportProgress *)event)->evidence
                                   : ((const Rectify__SubmitWriteOff *)event)->evidence;
    if (n > 64)
        return s_refuse(why, REFUSAL_field_too_long, "%s.evidence has %zu entries; the limit is 64",
                        name, n);
    const event_rule_t rule = {0, LIST("title", "sha256", "uri"), LIST(NULL), NULL};
    for (size_t i = 0; i < n; i++) {
        char prefix[64];
        snprintf(prefix, sizeof prefix, "%s.evidence[%zu]", name, i);
        int rc = s_check_event(prefix, &list[i]->base, &rule, why);
        if (rc != RC_OK)
            return rc;
        const char *h = list[i]->sha256;
        if (!s_hex64(h, true))
            return s_refuse(why, REFUSAL_invalid_field,
                            "%s.sha256: \"%.70s\" is not a SHA-256 digest (64 hexadecimal digits)",
                            prefix, h);
    }
    return RC_OK;
}

static int s_check_accountability(const ProtobufCMessage *event, intake_refusal_t *why)
{
    const Rectify__RecordAccountability *ev = (const Rectify__RecordAccountability *)event;
    int64_t fen;
    if (ev->persons < 0)
        return s_refuse(why, REFUSAL_invalid_field, "record_accountability.persons: %d is negative",
                        ev->persons);
    if (money_parse_fen(ev->amount_yuan, &fen) != RC_OK)
        return s_refuse(why, REFUSAL_invalid_field,
                        "record_accountability.amount_yuan: \"%.40s\" is not an amount in yuan "
                        "(digits, at most two decimals, e.g. \"2000.00\")",
                        ev->amount_yuan);
    return RC_OK;
}

static int s_check_plan(const ProtobufCMessage *event, intake_refusal_t *why)
{
    const Rectify__ImportPlan *ev = (const Rectify__ImportPlan *)event;
    if (ev->n_rows == 0)
        return s_refuse(why, REFUSAL_missing_field, "import_plan.rows: the plan has no rows");
    if (ev->n_rows > 10000)
        return s_refuse(why, REFUSAL_field_too_long,
                        "import_plan.rows: %zu rows; the limit is 10000", ev->n_rows);
    const event_rule_t rule = {0,
                               LIST("problem_id", "item_id", "item_title", "measure_id",
                                    "measure_title", "lead_leader", "responsible_unit", "deadline",
                                    "track"),
                               LIST("deadline"), NULL};
    for (size_t i = 0; i < ev->n_rows; i++) {
        char prefix[64];
        snprintf(prefix, sizeof prefix, "import_plan.rows[%zu] (line %d)", i, ev->rows[i]->line);
        int rc = s_check_event(prefix, &ev->rows[i]->base, &rule, why);
        if (rc != RC_OK)
            return rc;
    }
    return RC_OK;
}

static bool s_hex64(const char *h, bool upper_too)
{
    bool hex = strlen(h) == 64;
    for (const char *p = h; hex && *p; p++)
        hex = (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
              (upper_too && *p >= 'A' && *p <= 'F');
    return hex;
}

/* A work order: when it was received, who called (a digest, never the
 * number), where. */
static int s_check_order(const ProtobufCMessage *event, intake_refusal_t *why)
{
    const Rectify__PostOrder *ev = (const Rectify__PostOrder *)event;
    if (ev->received_ms <= 0 || ev->received_ms > INTAKE_MAX_SENT_AT_MS)
        return s_refuse(why, ev->received_ms == 0 ? REFUSAL_missing_field : REFUSAL_invalid_field,
                        "post_order.received_ms: %lld; when the hotline received the order, in "
                        "milliseconds since 1970 (1 .. %lld)",
                        (long long)ev->received_ms, (long long)INTAKE_MAX_SENT_AT_MS);
    if (!s_hex64(ev->caller_hash, false))
        return s_refuse(why, REFUSAL_invalid_field,
                        "post_order.caller_hash: not a salted SHA-256 digest (64 lowercase "
                        "hexadecimal digits); the caller's number itself is never sent");
    if (!ev->located) {
        if (ev->latitude != 0 || ev->longitude != 0)
            return s_refuse(why, REFUSAL_invalid_field,
                            "post_order.located: false, yet latitude or longitude is given");
        return RC_OK;
    }
    if (!isfinite(ev->latitude) || ev->latitude < -90 || ev->latitude > 90)
        return s_refuse(why, REFUSAL_invalid_field,
                        "post_order.latitude: %g is not a latitude (-90 .. 90 degrees)",
                        ev->latitude);
    if (!isfinite(ev->longitude) || ev->longitude < -180 || ev->longitude > 180)
        return s_refuse(why, REFUSAL_invalid_field,
                        "post_order.longitude: %g is not a longitude (-180 .. 180 degrees)",
                        ev->longitude);
    return RC_OK;
}

/* A step of a work order: which fields each step needs is the order
 * lifecycle's table, in workflow; here only what holds for every step. */
static int s_check_move(const ProtobufCMessage *event, intake_refusal_t *why)
{
    const Rectify__MoveOrder *ev = (const Rectify__MoveOrder *)event;
    if (ev->minutes < 0)
        return s_refuse(why, REFUSAL_invalid_field, "move_order.minutes: %d is negative",
                        ev->minutes);
    return RC_OK;
}

static int s_check_case(const ProtobufCMessage *event, intake_refusal_t *why)
{
    const Rectify__HandleRepeatCase *ev = (const Rectify__HandleRepeatCase *)event;
    if (ev->case_no <= 0)
        return s_refuse(why, ev->case_no == 0 ? REFUSAL_missing_field : REFUSAL_invalid_field,
                        "handle_repeat_case.case_no: %lld; a case number is 1 or more",
                        (long long)ev->case_no);
    return RC_OK;
}
