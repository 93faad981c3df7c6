/* Tests for services/common/pbjson: JSON <-> protobuf-c through descriptors. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "pbjson.h"
#include "pbjson_test.pb-c.h"
#include "rectify.pb-c.h"

#define SCALARS (&pbjson_test__scalars__descriptor)
#define OUTER (&pbjson_test__outer__descriptor)
#define NODE (&pbjson_test__node__descriptor)

/* A non-NULL value pbjson_parse must overwrite with NULL on failure. */
static ProtobufCMessage s_sentinel;

static json_t *s_load(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);
    cr_assert_not_null(j, "test JSON does not load: %s: %s", jerr.text, text);
    return j;
}

static ProtobufCMessage *s_parse_json_ok(const ProtobufCMessageDescriptor *desc, const json_t *j)
{
    char err[256] = "unchanged";
    ProtobufCMessage *msg = &s_sentinel;
    int rc = pbjson_parse(desc, j, &msg, err, sizeof err);

    cr_assert_eq(rc, RC_OK, "rc %d: %s", rc, err);
    cr_assert_not_null(msg);
    cr_assert_neq(msg, &s_sentinel);
    cr_assert_eq(msg->descriptor, desc);
    return msg;
}

static ProtobufCMessage *s_parse_ok(const ProtobufCMessageDescriptor *desc, const char *text)
{
    json_t *j = s_load(text);
    ProtobufCMessage *msg = s_parse_json_ok(desc, j);
    json_decref(j);
    return msg;
}

/* Parses j expecting RC_ERR_INVALID and exactly the error text want. */
static void s_refuse_json(const ProtobufCMessageDescriptor *desc, const json_t *j, const char *want)
{
    char err[256];
    ProtobufCMessage *msg = &s_sentinel;
    int rc;

    memset(err, 'x', sizeof err);
    rc = pbjson_parse(desc, j, &msg, err, sizeof err);
    cr_assert_eq(rc, RC_ERR_INVALID, "rc %d for \"%s\"", rc, want);
    cr_assert_null(msg, "*out not NULL after failure");
    cr_assert_not_null(memchr(err, '\0', sizeof err), "error text not NUL-terminated");
    cr_assert_str_eq(err, want);
}

static void s_refuse(const ProtobufCMessageDescriptor *desc, const char *text, const char *want)
{
    json_t *j = s_load(text);
    s_refuse_json(desc, j, want);
    json_decref(j);
}

/* Like s_refuse, for texts whose tail is not worth pinning down exactly. */
static void s_refuse_prefix(const ProtobufCMessageDescriptor *desc, const char *text,
                            const char *prefix)
{
    char err[256];
    ProtobufCMessage *msg = &s_sentinel;
    json_t *j = s_load(text);
    int rc = pbjson_parse(desc, j, &msg, err, sizeof err);

    json_decref(j);
    cr_assert_eq(rc, RC_ERR_INVALID, "rc %d for %s", rc, text);
    cr_assert_null(msg);
    cr_assert(strncmp(err, prefix, strlen(prefix)) == 0, "error \"%s\" does not start with \"%s\"",
              err, prefix);
}

static void s_assert_json(const json_t *got, const char *want_text)
{
    json_t *want = s_load(want_text);
    char *text;

    cr_assert_not_null(got, "dump returned NULL");
    text = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
    cr_assert(json_equal(got, want), "dumped %s\nwanted %s", text, want_text);
    free(text);
    json_decref(want);
}

/* Both messages encode to the same protobuf bytes. */
static void s_assert_same_wire(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
    size_t na = protobuf_c_message_get_packed_size(a);
    size_t nb = protobuf_c_message_get_packed_size(b);
    uint8_t *ba;
    uint8_t *bb;

    cr_assert_eq(na, nb, "packed sizes %zu and %zu differ", na, nb);
    ba = malloc(na + 1);
    bb = malloc(nb + 1);
    cr_assert(ba != NULL && bb != NULL);
    cr_assert_eq(protobuf_c_message_pack(a, ba), na);
    cr_assert_eq(protobuf_c_message_pack(b, bb), nb);
    cr_assert_eq(memcmp(ba, bb, na), 0, "packed bytes differ");
    free(ba);
    free(bb);
}

/* --- round trips ---------------------------------------------------------- */

Test(pbjson, every_scalar_type_survives_a_round_trip)
{
    const char *text =
        "{\"i32\": -2147483648, \"s32\": 2147483647, \"sf32\": -7,"
        " \"i64\": 9223372036854775807, \"s64\": -9223372036854775808,"
        " \"sf64\": -42, \"u32\": 4294967295, \"f32\": 7,"
        " \"u64\": \"18446744073709551615\", \"f64\": 9223372036854775807,"
        " \"fl\": 1.5, \"db\": 0.1, \"flag\": true,"
        " \"text\": \"巡视组 \\\"6\\\"\", \"blob\": \"AAH/\", \"colour\": \"GREEN\"}";
    ProtobufCMessage *msg = s_parse_ok(SCALARS, text);
    PbjsonTest__Scalars *s = (PbjsonTest__Scalars *)msg;
    ProtobufCMessage *again;
    json_t *dumped;

    cr_assert_eq(s->i32, INT32_MIN);
    cr_assert_eq(s->s32, INT32_MAX);
    cr_assert_eq(s->sf32, -7);
    cr_assert_eq(s->i64, INT64_MAX);
    cr_assert_eq(s->s64, INT64_MIN);
    cr_assert_eq(s->sf64, -42);
    cr_assert_eq(s->u32, UINT32_MAX);
    cr_assert_eq(s->f32, 7u);
    cr_assert_eq(s->u64, UINT64_MAX);
    cr_assert_eq(s->f64, (uint64_t)INT64_MAX);
    cr_assert(s->fl == 1.5f, "fl is %g", (double)s->fl);
    cr_assert(s->db == 0.1, "db is %.17g", s->db);
    cr_assert_eq(s->flag, 1);
    cr_assert_str_eq(s->text, "巡视组 \"6\"");
    cr_assert_eq(s->blob.len, 3);
    cr_assert_eq(memcmp(s->blob.data, "\x00\x01\xff", 3), 0);
    cr_assert_eq(s->colour, PBJSON_TEST__COLOUR__GREEN);

    dumped = pbjson_dump(msg, 0);
    s_assert_json(dumped, text);
    again = s_parse_json_ok(SCALARS, dumped);
    s_assert_same_wire(msg, again);

    protobuf_c_message_free_unpacked(again, NULL);
    json_decref(dumped);
    protobuf_c_message_free_unpacked(msg, NULL);
}

Test(pbjson, sixty_four_bit_fields_accept_decimal_strings)
{
    ProtobufCMessage *msg =
        s_parse_ok(SCALARS, "{\"i64\": \"-9223372036854775808\", \"s64\": \"123\","
                            " \"sf64\": \"-1\", \"u64\": \"0\","
                            " \"f64\": \"9223372036854775808\"}");
    PbjsonTest__Scalars *s = (PbjsonTest__Scalars *)msg;
    json_t *dumped;

    cr_assert_eq(s->i64, INT64_MIN);
    cr_assert_eq(s->s64, 123);
    cr_assert_eq(s->sf64, -1);
    cr_assert_eq(s->u64, 0);
    cr_assert_eq(s->f64, (uint64_t)INT64_MAX + 1);

    /* beyond INT64_MAX a uint64 comes back as a string, below it as a number */
    dumped = pbjson_dump(msg, 0);
    s_assert_json(dumped, "{\"i64\": -9223372036854775808, \"s64\": 123, \"sf64\": -1,"
                          " \"f64\": \"9223372036854775808\"}");
    json_decref(dumped);
    protobuf_c_message_free_unpacked(msg, NULL);
}

Test(pbjson, integral_reals_are_accepted_for_integers)
{
    ProtobufCMessage *msg =
        s_parse_ok(SCALARS, "{\"i32\": 3.0, \"u64\": 1e3, \"i64\": -2.0, \"u32\": -0.0}");
    PbjsonTest__Scalars *s = (PbjsonTest__Scalars *)msg;

    cr_assert_eq(s->i32, 3);
    cr_assert_eq(s->u64, 1000);
    cr_assert_eq(s->i64, -2);
    cr_assert_eq(s->u32, 0);
    protobuf_c_message_free_unpacked(msg, NULL);
}

Test(pbjson, defaults_are_omitted_unless_asked_for)
{
    PbjsonTest__Scalars scalars = PBJSON_TEST__SCALARS__INIT;
    PbjsonTest__Outer outer = PBJSON_TEST__OUTER__INIT;
    json_t *dumped;

    dumped = pbjson_dump(&scalars.base, 0);
    s_assert_json(dumped, "{}");
    json_decref(dumped);

    dumped = pbjson_dump(&scalars.base, PBJSON_EMIT_DEFAULTS);
    s_assert_json(dumped, "{\"i32\": 0, \"s32\": 0, \"sf32\": 0, \"i64\": 0, \"s64\": 0,"
                          " \"sf64\": 0, \"u32\": 0, \"f32\": 0, \"u64\": 0, \"f64\": 0,"
                          " \"fl\": 0.0, \"db\": 0.0, \"flag\": false, \"text\": \"\","
                          " \"blob\": \"\", \"colour\": \"COLOUR_UNSPECIFIED\"}");
    json_decref(dumped);

    dumped = pbjson_dump(&outer.base, 0);
    s_assert_json(dumped, "{}");
    json_decref(dumped);

    /* repeated fields appear empty; the unset message and the oneof do not */
    dumped = pbjson_dump(&outer.base, PBJSON_EMIT_DEFAULTS);
    s_assert_json(dumped, "{\"inners\": [], \"numbers\": [], \"words\": [], \"blobs\": [],"
                          " \"colours\": [], \"reals\": [], \"flags\": [], \"bigs\": []}");
    json_decref(dumped);
}

Test(pbjson, negative_zero_is_not_a_default)
{
    PbjsonTest__Scalars scalars = PBJSON_TEST__SCALARS__INIT;
    json_t *dumped;

    scalars.db = -0.0;
    dumped = pbjson_dump(&scalars.base, 0);
    cr_assert_not_null(dumped);
    cr_assert_eq(json_object_size(dumped), 1);
    cr_assert(json_is_real(json_object_get(dumped, "db")));
    cr_assert(signbit(json_real_value(json_object_get(dumped, "db"))));
    json_decref(dumped);
}

Test(pbjson, enums_parse_by_name_and_by_number)
{
    static const struct {
        const char *text;
        int want;
    } cases[] = {
        {"{\"colour\": \"RED\"}", PBJSON_TEST__COLOUR__RED},
        {"{\"colour\": 2}", PBJSON_TEST__COLOUR__GREEN},
        {"{\"colour\": -1}", PBJSON_TEST__COLOUR__INFRARED},
        {"{\"colour\": \"INFRARED\"}", PBJSON_TEST__COLOUR__INFRARED},
        {"{\"colour\": \"COLOUR_UNSPECIFIED\"}", PBJSON_TEST__COLOUR__COLOUR_UNSPECIFIED},
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ProtobufCMessage *msg = s_parse_ok(SCALARS, cases[i].text);
        cr_assert_eq((int)((PbjsonTest__Scalars *)msg)->colour, cases[i].want, "case %s",
                     cases[i].text);
        protobuf_c_message_free_unpacked(msg, NULL);
    }
}

Test(pbjson, enums_dump_as_names_or_as_numbers_when_undeclared)
{
    PbjsonTest__Scalars scalars = PBJSON_TEST__SCALARS__INIT;
    json_t *dumped;

    scalars.colour = PBJSON_TEST__COLOUR__INFRARED;
    dumped = pbjson_dump(&scalars.base, 0);
    s_assert_json(dumped, "{\"colour\": \"INFRARED\"}");
    json_decref(dumped);

    scalars.colour = (PbjsonTest__Colour)99;
    dumped = pbjson_dump(&scalars.base, 0);
    s_assert_json(dumped, "{\"colour\": 99}");
    json_decref(dumped);
}

Test(pbjson, bytes_use_standard_base64_both_ways)
{
    static const struct {
        const char *plain;
        size_t len;
        const char *b64;
    } cases[] = {
        /* RFC 4648 section 10, plus the two characters beyond alphanumerics */
        {"", 0, ""},
        {"f", 1, "Zg=="},
        {"fo", 2, "Zm8="},
        {"foo", 3, "Zm9v"},
        {"foob", 4, "Zm9vYg=="},
        {"fooba", 5, "Zm9vYmE="},
        {"foobar", 6, "Zm9vYmFy"},
        {"\xfb\xff\xbf", 3, "+/+/"},
        {"\x00\x00", 2, "AAA="},
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[64];
        ProtobufCMessage *msg;
        PbjsonTest__Scalars *s;
        json_t *dumped;

        snprintf(text, sizeof text, "{\"blob\": \"%s\"}", cases[i].b64);
        msg = s_parse_ok(SCALARS, text);
        s = (PbjsonTest__Scalars *)msg;
        cr_assert_eq(s->blob.len, cases[i].len, "length for %s", cases[i].b64);
        if (cases[i].len > 0)
            cr_assert_eq(memcmp(s->blob.data, cases[i].plain, cases[i].len), 0, "bytes for %s",
                         cases[i].b64);

        dumped = pbjson_dump(msg, PBJSON_EMIT_DEFAULTS);
        cr_assert_not_null(dumped);
        cr_assert_str_eq(json_string_value(json_object_get(dumped, "blob")), cases[i].b64);
        json_decref(dumped);
        protobuf_c_message_free_unpacked(msg, NULL);
    }
}

Test(pbjson, nested_and_repeated_messages_are_built)
{
    ProtobufCMessage *msg =
        s_parse_ok(OUTER, "{\"inner\": {\"name\": \"a\", \"count\": 1},"
                          " \"inners\": [{\"name\": \"b\", \"count\": 2}, {\"name\": \"c\"}, {}],"
                          " \"numbers\": [1, -2, 3], \"words\": [\"x\", \"\", \"y\"],"
                          " \"blobs\": [\"AQ==\", \"\"], \"colours\": [\"RED\", 2, \"INFRARED\"],"
                          " \"reals\": [0.5, -1.25], \"flags\": [true, false],"
                          " \"bigs\": [\"18446744073709551615\", 5]}");
    PbjsonTest__Outer *o = (PbjsonTest__Outer *)msg;
    json_t *dumped;

    cr_assert_not_null(o->inner);
    cr_assert_str_eq(o->inner->name, "a");
    cr_assert_eq(o->inner->count, 1);
    cr_assert_eq(o->n_inners, 3);
    cr_assert_str_eq(o->inners[0]->name, "b");
    cr_assert_eq(o->inners[0]->count, 2);
    cr_assert_str_eq(o->inners[1]->name, "c");
    cr_assert_eq(o->inners[1]->count, 0);
    cr_assert_str_eq(o->inners[2]->name, "");
    cr_assert_eq(o->n_numbers, 3);
    cr_assert(o->numbers[0] == 1 && o->numbers[1] == -2 && o->numbers[2] == 3);
    cr_assert_eq(o->n_words, 3);
    cr_assert_str_eq(o->words[0], "x");
    cr_assert_str_eq(o->words[1], "");
    cr_assert_str_eq(o->words[2], "y");
    cr_assert_eq(o->n_blobs, 2);
    cr_assert(o->blobs[0].len == 1 && o->blobs[0].data[0] == 1);
    cr_assert_eq(o->blobs[1].len, 0);
    cr_assert_eq(o->n_colours, 3);
    cr_assert_eq(o->colours[0], PBJSON_TEST__COLOUR__RED);
    cr_assert_eq(o->colours[1], PBJSON_TEST__COLOUR__GREEN);
    cr_assert_eq(o->colours[2], PBJSON_TEST__COLOUR__INFRARED);
    cr_assert(o->n_reals == 2 && o->reals[0] == 0.5 && o->reals[1] == -1.25);
    cr_assert(o->n_flags == 2 && o->flags[0] == 1 && o->flags[1] == 0);
    cr_assert(o->n_bigs == 2 && o->bigs[0] == UINT64_MAX && o->bigs[1] == 5);
    cr_assert_eq(o->choice_case, PBJSON_TEST__OUTER__CHOICE__NOT_SET);

    dumped = pbjson_dump(msg, 0);
    s_assert_json(dumped, "{\"inner\": {\"name\": \"a\", \"count\": 1},"
                          " \"inners\": [{\"name\": \"b\", \"count\": 2}, {\"name\": \"c\"}, {}],"
                          " \"numbers\": [1, -2, 3], \"words\": [\"x\", \"\", \"y\"],"
                          " \"blobs\": [\"AQ==\", \"\"],"
                          " \"colours\": [\"RED\", \"GREEN\", \"INFRARED\"],"
                          " \"reals\": [0.5, -1.25], \"flags\": [true, false],"
                          " \"bigs\": [\"18446744073709551615\", 5]}");
    json_decref(dumped);
    protobuf_c_message_free_unpacked(msg, NULL);
}

Test(pbjson, oneof_member_sets_the_case_and_is_dumped_alone)
{
    static const struct {
        const char *text;
        int want_case;
        const char *want_dump;
    } cases[] = {
        {"{\"label\": \"x\"}", PBJSON_TEST__OUTER__CHOICE_LABEL, "{\"label\": \"x\"}"},
        /* a set member is shown even when it holds its type's default */
        {"{\"amount\": 0}", PBJSON_TEST__OUTER__CHOICE_AMOUNT, "{\"amount\": 0}"},
        {"{\"label\": \"\"}", PBJSON_TEST__OUTER__CHOICE_LABEL, "{\"label\": \"\"}"},
        {"{\"detail\": {}}", PBJSON_TEST__OUTER__CHOICE_DETAIL, "{\"detail\": {}}"},
        {"{\"raw\": \"AQI=\"}", PBJSON_TEST__OUTER__CHOICE_RAW, "{\"raw\": \"AQI=\"}"},
        {"{\"label\": null}", PBJSON_TEST__OUTER__CHOICE__NOT_SET, "{}"},
        {"{\"label\": \"x\", \"amount\": null}", PBJSON_TEST__OUTER__CHOICE_LABEL,
         "{\"label\": \"x\"}"},
        {"{}", PBJSON_TEST__OUTER__CHOICE__NOT_SET, "{}"},
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ProtobufCMessage *msg = s_parse_ok(OUTER, cases[i].text);
        json_t *dumped;

        cr_assert_eq((int)((PbjsonTest__Outer *)msg)->choice_case, cases[i].want_case, "case %s",
                     cases[i].text);
        dumped = pbjson_dump(msg, 0);
        s_assert_json(dumped, cases[i].want_dump);
        json_decref(dumped);
        protobuf_c_message_free_unpacked(msg, NULL);
    }
}

Test(pbjson, oneof_members_that_are_not_set_stay_out_even_with_defaults)
{
    ProtobufCMessage *msg = s_parse_ok(OUTER, "{\"amount\": 5}");
    json_t *dumped = pbjson_dump(msg, PBJSON_EMIT_DEFAULTS);

    cr_assert_not_null(dumped);
    cr_assert_eq(json_integer_value(json_object_get(dumped, "amount")), 5);
    cr_assert_null(json_object_get(dumped, "label"));
    cr_assert_null(json_object_get(dumped, "detail"));
    cr_assert_null(json_object_get(dumped, "raw"));
    json_decref(dumped);
    protobuf_c_message_free_unpacked(msg, NULL);
}

Test(pbjson, oneof_member_values_are_stored)
{
    ProtobufCMessage *msg = s_parse_ok(OUTER, "{\"detail\": {\"name\": \"d\", \"count\": 4}}");
    PbjsonTest__Outer *o = (PbjsonTest__Outer *)msg;

    cr_assert_eq(o->choice_case, PBJSON_TEST__OUTER__CHOICE_DETAIL);
    cr_assert_not_null(o->detail);
    cr_assert_str_eq(o->detail->name, "d");
    cr_assert_eq(o->detail->count, 4);
    protobuf_c_message_free_unpacked(msg, NULL);

    msg = s_parse_ok(OUTER, "{\"amount\": \"-7\"}");
    o = (PbjsonTest__Outer *)msg;
    cr_assert_eq(o->choice_case, PBJSON_TEST__OUTER__CHOICE_AMOUNT);
    cr_assert_eq(o->amount, -7);
    protobuf_c_message_free_unpacked(msg, NULL);
}

Test(pbjson, two_members_of_one_oneof_are_refused)
{
    s_refuse(OUTER, "{\"label\": \"x\", \"amount\": 3}",
             "amount: cannot set both label and amount (members of one oneof)");
    s_refuse(OUTER, "{\"detail\": {\"name\": \"n\"}, \"raw\": \"AQ==\"}",
             "raw: cannot set both detail and raw (members of one oneof)");
    s_refuse(OUTER, "{\"inner\": {\"name\": \"n\"}, \"raw\": \"AQ==\", \"label\": \"l\"}",
             "label: cannot set both raw and label (members of one oneof)");
}

Test(pbjson, null_leaves_a_field_at_its_default)
{
    ProtobufCMessage *msg = s_parse_ok(
        SCALARS, "{\"i32\": null, \"text\": null, \"blob\": null, \"colour\": null, \"fl\": null}");
    PbjsonTest__Scalars *s = (PbjsonTest__Scalars *)msg;
    PbjsonTest__Outer *o;

    cr_assert_eq(s->i32, 0);
    cr_assert_str_eq(s->text, "");
    cr_assert_eq(s->blob.len, 0);
    cr_assert_null(s->blob.data);
    cr_assert_eq(s->colour, PBJSON_TEST__COLOUR__COLOUR_UNSPECIFIED);
    cr_assert(s->fl == 0.0f);
    protobuf_c_message_free_unpacked(msg, NULL);

    msg = s_parse_ok(OUTER, "{\"inner\": null, \"numbers\": null, \"words\": []}");
    o = (PbjsonTest__Outer *)msg;
    cr_assert_null(o->inner);
    cr_assert_eq(o->n_numbers, 0);
    cr_assert_null(o->numbers);
    cr_assert_eq(o->n_words, 0);
    cr_assert_null(o->words);
    protobuf_c_message_free_unpacked(msg, NULL);
}

Test(pbjson, special_floats_travel_as_strings)
{
    ProtobufCMessage *msg =
        s_parse_ok(SCALARS, "{\"fl\": \"NaN\", \"db\": \"-Infinity\", \"i32\": 1}");
    PbjsonTest__Scalars *s = (PbjsonTest__Scalars *)msg;
    json_t *dumped;

    cr_assert(isnan(s->fl));
    cr_assert(isinf(s->db) && s->db < 0);
    dumped = pbjson_dump(msg, 0);
    s_assert_json(dumped, "{\"fl\": \"NaN\", \"db\": \"-Infinity\", \"i32\": 1}");
    json_decref(dumped);
    protobuf_c_message_free_unpacked(msg, NULL);

    msg = s_parse_ok(SCALARS, "{\"db\": \"Infinity\", \"fl\": 3}");
    s = (PbjsonTest__Scalars *)msg;
    cr_assert(isinf(s->db) && s->db > 0);
    cr_assert(s->fl == 3.0f);
    protobuf_c_message_free_unpacked(msg, NULL);

    s_refuse(SCALARS, "{\"db\": \"nan\"}", "db: \"nan\" is not a number");
    s_refuse(SCALARS, "{\"db\": \"1.5\"}", "db: \"1.5\" is not a number");
}

/* --- refusals --------------------------------------------------------------- */

Test(pbjson, unknown_keys_are_refused_with_their_path)
{
    s_refuse(SCALARS, "{\"colour\": \"RED\", \"shade\": 1}",
             "shade: no such field in pbjson_test.Scalars");
    s_refuse(OUTER, "{\"inner\": {\"name\": \"a\", \"colour\": 1}}",
             "inner.colour: no such field in pbjson_test.Inner");
    s_refuse(OUTER, "{\"inners\": [{\"name\": \"a\"}, {\"nmae\": \"b\"}]}",
             "inners[1].nmae: no such field in pbjson_test.Inner");
    /* JSON names are the .proto names, not lowerCamelCase */
    s_refuse(&rectify__envelope__descriptor, "{\"eventId\": \"e\"}",
             "eventId: no such field in rectify.Envelope");
    s_refuse(&rectify__open_round__descriptor, "{\"colour\": \"x\"}",
             "colour: no such field in rectify.OpenRound");
}

Test(pbjson, unknown_keys_are_quoted_safely)
{
    char long_key[300];
    char text[400];
    char want[200];

    /* quotes, backslashes and control characters do not reach the error text */
    s_refuse(SCALARS, "{\"a\\\"b\\\\c\\nd\": 1}", "a?b?c?d: no such field in pbjson_test.Scalars");
    s_refuse(SCALARS, "{\"名称\": 1}", "名称: no such field in pbjson_test.Scalars");

    memset(long_key, 'k', 200);
    long_key[200] = '\0';
    snprintf(text, sizeof text, "{\"%s\": 1}", long_key);
    snprintf(want, sizeof want, "%.64s...: no such field in pbjson_test.Scalars", long_key);
    s_refuse(SCALARS, text, want);
}

Test(pbjson, keys_with_a_nul_inside_are_refused)
{
#if JANSSON_VERSION_HEX >= 0x020E00
    json_t *j = json_object();

    cr_assert_eq(json_object_setn_new(j, "text\0x", 6, json_string("a")), 0);
    s_refuse_json(SCALARS, j, "text?x: no such field in pbjson_test.Scalars");
    json_decref(j);
#else
    cr_skip_test("jansson < 2.14 cannot hold such keys");
#endif
}

Test(pbjson, wrong_json_types_are_refused_naming_the_field)
{
    s_refuse(SCALARS, "{\"flag\": \"yes\"}", "flag: expected true or false, got string");
    s_refuse(SCALARS, "{\"flag\": 1}", "flag: expected true or false, got integer");
    s_refuse(SCALARS, "{\"text\": 5}", "text: expected a string, got integer");
    s_refuse(SCALARS, "{\"i32\": \"5\"}", "i32: expected an integer, got string");
    s_refuse(SCALARS, "{\"u32\": {}}", "u32: expected an integer, got object");
    s_refuse(SCALARS, "{\"i64\": true}",
             "i64: expected an integer or a decimal string, got boolean");
    s_refuse(SCALARS, "{\"db\": [1]}", "db: expected a number, got array");
    s_refuse(SCALARS, "{\"colour\": 1.0}", "colour: expected an enum name or number, got real");
    s_refuse(SCALARS, "{\"blob\": 7}", "blob: expected a string, got integer");
    s_refuse(OUTER, "{\"inner\": \"x\"}",
             "inner: expected an object for pbjson_test.Inner, got string");
    s_refuse(OUTER, "{\"inner\": {\"count\": \"many\"}}",
             "inner.count: expected an integer, got string");
    s_refuse(OUTER, "{\"numbers\": 5}", "numbers: expected an array, got integer");
    s_refuse(OUTER, "{\"numbers\": [1, \"2\"]}", "numbers[1]: expected an integer, got string");
    s_refuse(OUTER, "{\"numbers\": [1, null]}",
             "numbers[1]: null is not allowed in a repeated field");
    s_refuse(OUTER, "{\"inners\": [{}, []]}",
             "inners[1]: expected an object for pbjson_test.Inner, got array");
    s_refuse(OUTER, "{\"detail\": 1}",
             "detail: expected an object for pbjson_test.Inner, got integer");
}

Test(pbjson, out_of_range_integers_are_refused)
{
    s_refuse(SCALARS, "{\"i32\": 2147483648}", "i32: 2147483648 is out of range for int32");
    s_refuse(SCALARS, "{\"s32\": -2147483649}", "s32: -2147483649 is out of range for sint32");
    s_refuse(SCALARS, "{\"sf32\": 3e9}", "sf32: 3000000000 is out of range for sfixed32");
    s_refuse(SCALARS, "{\"u32\": -1}", "u32: -1 is out of range for uint32");
    s_refuse(SCALARS, "{\"f32\": 4294967296}", "f32: 4294967296 is out of range for fixed32");
    s_refuse(SCALARS, "{\"u64\": -1}", "u64: -1 is out of range for uint64");
    s_refuse(SCALARS, "{\"u64\": \"-1\"}", "u64: \"-1\" is out of range for uint64");
    s_refuse(SCALARS, "{\"f64\": \"18446744073709551616\"}",
             "f64: \"18446744073709551616\" is out of range for fixed64");
    s_refuse(SCALARS, "{\"i64\": \"9223372036854775808\"}",
             "i64: \"9223372036854775808\" is out of range for int64");
    s_refuse(SCALARS, "{\"s64\": \"-9223372036854775809\"}",
             "s64: \"-9223372036854775809\" is out of range for sint64");
    s_refuse(SCALARS, "{\"i64\": 1e19}", "i64: 1e+19 is out of range for int64");
    s_refuse(SCALARS, "{\"u64\": 2e19}", "u64: 2e+19 is out of range for uint64");
    s_refuse(SCALARS, "{\"fl\": 1e39}", "fl: 9.9999999999999994e+38 is out of range for float");
    s_refuse(OUTER, "{\"inners\": [{\"count\": 1}, {\"count\": 2147483648}]}",
             "inners[1].count: 2147483648 is out of range for int32");
}

Test(pbjson, malformed_decimal_strings_are_refused)
{
    s_refuse(SCALARS, "{\"i64\": \"12x\"}", "i64: \"12x\" is not a decimal integer");
    s_refuse(SCALARS, "{\"i64\": \"\"}", "i64: \"\" is not a decimal integer");
    s_refuse(SCALARS, "{\"i64\": \" 1\"}", "i64: \" 1\" is not a decimal integer");
    s_refuse(SCALARS, "{\"i64\": \"-\"}", "i64: \"-\" is not a decimal integer");
    s_refuse(SCALARS, "{\"i64\": \"1.0\"}", "i64: \"1.0\" is not a decimal integer");
    s_refuse(SCALARS, "{\"u64\": \"+1\"}", "u64: \"+1\" is not a decimal integer");
    s_refuse(SCALARS, "{\"u64\": \"0x10\"}", "u64: \"0x10\" is not a decimal integer");
}

Test(pbjson, fractions_are_refused_for_integers)
{
    s_refuse(SCALARS, "{\"i32\": 1.5}", "i32: 1.5 is not an integer");
    s_refuse(SCALARS, "{\"i64\": -0.5}", "i64: -0.5 is not an integer");
    s_refuse(SCALARS, "{\"u64\": 0.25}", "u64: 0.25 is not an integer");
    s_refuse(SCALARS, "{\"f32\": 1e-3}", "f32: 0.001 is not an integer");
    s_refuse(OUTER, "{\"numbers\": [1, 2.5]}", "numbers[1]: 2.5 is not an integer");
}

Test(pbjson, bad_base64_is_refused)
{
    s_refuse(SCALARS, "{\"blob\": \"abc\"}",
             "blob: not valid base64: length is not a multiple of 4");
    s_refuse(SCALARS, "{\"blob\": \"Zm9v\\n\"}",
             "blob: not valid base64: length is not a multiple of 4");
    s_refuse(SCALARS, "{\"blob\": \"ab$=\"}",
             "blob: not valid base64: character outside the alphabet");
    s_refuse(SCALARS, "{\"blob\": \"Zm-_\"}",
             "blob: not valid base64: character outside the alphabet");
    s_refuse(SCALARS, "{\"blob\": \"Zm9 \"}",
             "blob: not valid base64: character outside the alphabet");
    s_refuse(SCALARS, "{\"blob\": \"Zh==\"}",
             "blob: not valid base64: non-zero bits before padding");
    s_refuse(SCALARS, "{\"blob\": \"Zm9=\"}",
             "blob: not valid base64: non-zero bits before padding");
    s_refuse(SCALARS, "{\"blob\": \"Z===\"}", "blob: not valid base64: misplaced padding");
    s_refuse(SCALARS, "{\"blob\": \"=Zg=\"}", "blob: not valid base64: misplaced padding");
    s_refuse(SCALARS, "{\"blob\": \"Zg==Zg==\"}", "blob: not valid base64: misplaced padding");
    s_refuse(OUTER, "{\"blobs\": [\"AQ==\", \"A\"]}",
             "blobs[1]: not valid base64: length is not a multiple of 4");
    s_refuse(OUTER, "{\"raw\": \"****\"}", "raw: not valid base64: character outside the alphabet");
}

Test(pbjson, unknown_enum_values_are_refused)
{
    s_refuse(SCALARS, "{\"colour\": \"PURPLE\"}", "colour: unknown enum value \"PURPLE\"");
    s_refuse(SCALARS, "{\"colour\": \"red\"}", "colour: unknown enum value \"red\"");
    s_refuse(SCALARS, "{\"colour\": 7}", "colour: unknown enum value 7");
    s_refuse(SCALARS, "{\"colour\": 4294967297}", "colour: unknown enum value 4294967297");
    s_refuse(OUTER, "{\"colours\": [\"RED\", \"BLUE\"]}",
             "colours[1]: unknown enum value \"BLUE\"");
    s_refuse(&rectify__envelope__descriptor, "{\"open_round\": {\"kind\": \"FOO\"}}",
             "open_round.kind: unknown enum value \"FOO\"");
}

Test(pbjson, enum_names_with_a_nul_inside_are_refused)
{
    json_t *j = json_object();

    cr_assert_eq(json_object_set_new(j, "colour", json_stringn("RED\0", 4)), 0);
    s_refuse_json(SCALARS, j, "colour: unknown enum value \"RED?\"");
    json_decref(j);
}

Test(pbjson, strings_must_be_utf8_without_nul)
{
    json_t *j = json_object();

    cr_assert_eq(json_object_set_new(j, "text", json_stringn("a\0b", 3)), 0);
    s_refuse_json(SCALARS, j, "text: string contains a NUL character");
    cr_assert_eq(json_object_set_new(j, "text", json_stringn_nocheck("\xff", 1)), 0);
    s_refuse_json(SCALARS, j, "text: string is not valid UTF-8");
    cr_assert_eq(json_object_set_new(j, "text", json_string_nocheck("\xed\xa0\x80")), 0);
    s_refuse_json(SCALARS, j, "text: string is not valid UTF-8");
    json_decref(j);
}

/* {"value": 1, "child": {"value": 2, "child": ... }} with `levels` objects. */
static json_t *s_chain(int levels)
{
    json_t *inner = NULL;
    int i;

    for (i = levels; i >= 1; i--) {
        json_t *node = json_object();
        cr_assert_not_null(node);
        json_object_set_new(node, "value", json_integer(i));
        if (inner != NULL)
            json_object_set_new(node, "child", inner);
        inner = node;
    }
    return inner;
}

Test(pbjson, nesting_up_to_the_limit_is_accepted)
{
    json_t *j = s_chain(PBJSON_MAX_DEPTH);
    ProtobufCMessage *msg = s_parse_json_ok(NODE, j);
    const PbjsonTest__Node *node = (const PbjsonTest__Node *)msg;
    json_t *dumped;
    int levels = 0;

    while (node != NULL) {
        levels++;
        cr_assert_eq(node->value, levels);
        node = node->child;
    }
    cr_assert_eq(levels, PBJSON_MAX_DEPTH);

    dumped = pbjson_dump(msg, 0);
    cr_assert_not_null(dumped);
    cr_assert(json_equal(dumped, j));
    json_decref(dumped);
    json_decref(j);
    protobuf_c_message_free_unpacked(msg, NULL);
}

Test(pbjson, nesting_beyond_the_limit_is_refused)
{
    json_t *j = s_chain(PBJSON_MAX_DEPTH + 1);
    char want[512] = "";
    size_t len = 0;
    int i;

    for (i = 0; i < PBJSON_MAX_DEPTH; i++)
        len += (size_t)snprintf(want + len, sizeof want - len, "%schild", i > 0 ? "." : "");
    snprintf(want + len, sizeof want - len, ": objects nested deeper than %d levels",
             PBJSON_MAX_DEPTH);
    s_refuse_json(NODE, j, want);
    json_decref(j);
}

Test(pbjson, dump_refuses_messages_nested_beyond_the_limit)
{
    PbjsonTest__Node nodes[PBJSON_MAX_DEPTH + 1];
    json_t *dumped;
    int i;

    for (i = 0; i <= PBJSON_MAX_DEPTH; i++) {
        pbjson_test__node__init(&nodes[i]);
        nodes[i].value = i + 1;
        if (i > 0)
            nodes[i - 1].child = &nodes[i];
    }
    cr_assert_null(pbjson_dump(&nodes[0].base, 0));

    nodes[PBJSON_MAX_DEPTH - 1].child = NULL;
    dumped = pbjson_dump(&nodes[0].base, 0);
    cr_assert_not_null(dumped);
    json_decref(dumped);
}

Test(pbjson, top_level_value_must_be_an_object)
{
    json_t *array = json_array();
    json_t *string = json_string("{}");

    s_refuse_json(SCALARS, array, "(root): expected an object for pbjson_test.Scalars, got array");
    s_refuse_json(SCALARS, string,
                  "(root): expected an object for pbjson_test.Scalars, got string");
    s_refuse_json(SCALARS, NULL, "(root): expected an object for pbjson_test.Scalars, got nothing");
    json_decref(string);
    json_decref(array);
}

Test(pbjson, bad_arguments_are_refused)
{
    json_t *j = json_object();
    ProtobufCMessage *msg = &s_sentinel;
    char err[128];

    cr_assert_eq(pbjson_parse(SCALARS, j, NULL, err, sizeof err), RC_ERR_INVALID);
    cr_assert_str_eq(err, "(root): no place for the result");
    cr_assert_eq(pbjson_parse(NULL, j, &msg, err, sizeof err), RC_ERR_INVALID);
    cr_assert_null(msg);
    cr_assert_str_eq(err, "(root): not a message descriptor");
    /* no error buffer at all is allowed */
    cr_assert_eq(pbjson_parse(SCALARS, json_null(), &msg, NULL, 0), RC_ERR_INVALID);
    cr_assert_null(pbjson_dump(NULL, 0));
    json_decref(j);
}

Test(pbjson, error_text_is_bounded_and_cut_between_characters)
{
    json_t *j = s_load("{\"未知\": 1}");
    ProtobufCMessage *msg = &s_sentinel;
    char err[16];
    json_t *check;

    /* "未知: ..." needs more than 5 bytes; "未" is 3, "知" would not fit whole */
    memset(err, 'x', sizeof err);
    cr_assert_eq(pbjson_parse(SCALARS, j, &msg, err, 5), RC_ERR_INVALID);
    cr_assert_str_eq(err, "未");
    cr_assert_null(msg);

    memset(err, 'x', sizeof err);
    cr_assert_eq(pbjson_parse(SCALARS, j, &msg, err, 1), RC_ERR_INVALID);
    cr_assert_str_eq(err, "");

    /* a cut error text is still valid UTF-8 (it may go into a proto3 string) */
    memset(err, 'x', sizeof err);
    cr_assert_eq(pbjson_parse(SCALARS, j, &msg, err, sizeof err), RC_ERR_INVALID);
    cr_assert_lt(strlen(err), sizeof err);
    check = json_string(err);
    cr_assert_not_null(check, "\"%s\" is not valid UTF-8", err);
    json_decref(check);
    json_decref(j);
}

Test(pbjson, failures_free_everything_already_built)
{
    /* run under valgrind or ASan: each of these fails after allocating */
    s_refuse(OUTER,
             "{\"inner\": {\"name\": \"a\"}, \"words\": [\"x\", \"y\"], \"blobs\": [\"AQ==\"],"
             " \"inners\": [{\"name\": \"b\"}, {\"name\": \"c\", \"bad\": 1}]}",
             "inners[1].bad: no such field in pbjson_test.Inner");
    s_refuse(OUTER, "{\"words\": [\"a\", \"b\", 5]}", "words[2]: expected a string, got integer");
    s_refuse(OUTER, "{\"blobs\": [\"AQ==\", \"AQ\"]}",
             "blobs[1]: not valid base64: length is not a multiple of 4");
    s_refuse(OUTER, "{\"label\": \"l\", \"inner\": {\"name\": \"n\", \"count\": true}}",
             "inner.count: expected an integer, got boolean");
    s_refuse_prefix(NODE,
                    "{\"child\": {\"child\": {\"child\": {\"value\": 1, \"child\": "
                    "{\"value\": \"deep\"}}}}}",
                    "child.child.child.child.value: ");
}

/* --- the real schema ------------------------------------------------------- */

Test(pbjson, parses_an_envelope_of_the_real_schema)
{
    const char *text = "{\"event_id\": \"0d9f5c1e-6a3b-4f7e-9c2d-8b1a7e3f4c5d\", \"unit\": \"u1\","
                       " \"open_round\": {\"round_id\": \"r1\", \"kind\": \"LOOK_BACK\"}}";
    ProtobufCMessage *msg = s_parse_ok(&rectify__envelope__descriptor, text);
    Rectify__Envelope *env = (Rectify__Envelope *)msg;
    Rectify__Envelope *unpacked;
    uint8_t *wire;
    size_t n;
    json_t *dumped;

    cr_assert_str_eq(env->event_id, "0d9f5c1e-6a3b-4f7e-9c2d-8b1a7e3f4c5d");
    cr_assert_str_eq(env->unit, "u1");
    cr_assert_eq(env->sent_at_ms, 0);
    cr_assert_eq(env->event_case, RECTIFY__ENVELOPE__EVENT_OPEN_ROUND);
    cr_assert_not_null(env->open_round);
    cr_assert_str_eq(env->open_round->round_id, "r1");
    cr_assert_eq(env->open_round->kind, RECTIFY__ROUND_KIND__LOOK_BACK);
    cr_assert_str_eq(env->open_round->group_name, "");
    cr_assert_str_eq(env->open_round->feedback_date, "");

    dumped = pbjson_dump(msg, 0);
    s_assert_json(dumped, text);
    json_decref(dumped);

    /* what was built is an ordinary protobuf-c message */
    n = rectify__envelope__get_packed_size(env);
    wire = malloc(n);
    cr_assert_not_null(wire);
    cr_assert_eq(rectify__envelope__pack(env, wire), n);
    unpacked = rectify__envelope__unpack(NULL, n, wire);
    cr_assert_not_null(unpacked);
    cr_assert_eq(unpacked->event_case, RECTIFY__ENVELOPE__EVENT_OPEN_ROUND);
    cr_assert_str_eq(unpacked->open_round->round_id, "r1");
    cr_assert_eq(unpacked->open_round->kind, RECTIFY__ROUND_KIND__LOOK_BACK);
    rectify__envelope__free_unpacked(unpacked, NULL);
    free(wire);
    protobuf_c_message_free_unpacked(msg, NULL);
}

Test(pbjson, envelope_with_two_events_is_refused)
{
    s_refuse(&rectify__envelope__descriptor,
             "{\"event_id\": \"e\", \"open_round\": {\"round_id\": \"r1\"},"
             " \"post_problem\": {\"round_id\": \"r1\", \"problem_id\": \"1.2\"}}",
             "post_problem: cannot set both open_round and post_problem (members of one oneof)");
}

Test(pbjson, batch_carries_an_envelope_as_base64_payload)
{
    ProtobufCMessage *env = s_parse_ok(&rectify__envelope__descriptor,
                                       "{\"event_id\": \"e1\", \"unit\": \"u1\","
                                       " \"sent_at_ms\": \"1700000000123\","
                                       " \"post_problem\": {\"round_id\": \"r1\","
                                       " \"problem_id\": \"1.2\", \"title\": \"整改不到位\"}}");
    Rectify__Transfer transfer = RECTIFY__TRANSFER__INIT;
    Rectify__Transfer *items[1] = {&transfer};
    Rectify__Batch batch = RECTIFY__BATCH__INIT;
    ProtobufCMessage *parsed;
    Rectify__Batch *b;
    Rectify__Envelope *inner;
    json_t *dumped;
    size_t n = protobuf_c_message_get_packed_size(env);
    uint8_t *wire = malloc(n);

    cr_assert_not_null(wire);
    cr_assert_eq(protobuf_c_message_pack(env, wire), n);
    transfer.seq = 7;
    transfer.event_id = "e1";
    transfer.payload.len = n;
    transfer.payload.data = wire;
    batch.source = "intake";
    batch.n_items = 1;
    batch.items = items;

    dumped = pbjson_dump(&batch.base, 0);
    cr_assert_not_null(dumped);
    cr_assert_str_eq(json_string_value(json_object_get(dumped, "source")), "intake");
    parsed = s_parse_json_ok(&rectify__batch__descriptor, dumped);
    b = (Rectify__Batch *)parsed;
    cr_assert_eq(b->n_items, 1);
    cr_assert_eq(b->items[0]->seq, 7);
    cr_assert_str_eq(b->items[0]->event_id, "e1");
    cr_assert_eq(b->items[0]->payload.len, n);
    cr_assert_eq(memcmp(b->items[0]->payload.data, wire, n), 0);

    inner = rectify__envelope__unpack(NULL, b->items[0]->payload.len, b->items[0]->payload.data);
    cr_assert_not_null(inner);
    cr_assert_eq(inner->sent_at_ms, 1700000000123LL);
    cr_assert_eq(inner->event_case, RECTIFY__ENVELOPE__EVENT_POST_PROBLEM);
    cr_assert_str_eq(inner->post_problem->title, "整改不到位");

    rectify__envelope__free_unpacked(inner, NULL);
    protobuf_c_message_free_unpacked(parsed, NULL);
    json_decref(dumped);
    free(wire);
    protobuf_c_message_free_unpacked(env, NULL);
}
