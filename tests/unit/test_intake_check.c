/* intake_check: every refusal intake answers without touching the database. */
#define _GNU_SOURCE
#include "errors.h"
#include "intake_check.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID "6f1c2a3e-4b5d-4e6f-8a9b-0c1d2e3f4a5b"

static Rectify__OpenRound round_ev;
static Rectify__Envelope env;
static intake_refusal_t why;
static const char *type;

static void setup(void)
{
    rectify__open_round__init(&round_ev);
    round_ev.round_id = "2020-sh-6";
    round_ev.group_name = "市委第六巡视组";
    round_ev.target_unit = "sh-cgzf";
    round_ev.onsite_from = "2020-10-16";
    round_ev.onsite_to = "2020-12-18";
    round_ev.feedback_date = "2021-01-29";
    round_ev.kind = RECTIFY__ROUND_KIND__INSPECTION;
    rectify__envelope__init(&env);
    env.event_id = ID;
    env.unit = "inspection-office";
    env.event_case = RECTIFY__ENVELOPE__EVENT_OPEN_ROUND;
    env.open_round = &round_ev;
    memset(&why, 0, sizeof why);
}

TestSuite(intake_check, .init = setup);

static void expect_refusal(const char *code, const char *message)
{
    cr_assert_eq(intake_check(&env, &type, &why), RC_ERR_INVALID);
    cr_assert_str_eq(why.code, code);
    cr_assert(strstr(why.message, message), "message \"%s\" lacks \"%s\"", why.message, message);
    cr_assert_null(type);
}

Test(intake_check, a_complete_open_round_passes)
{
    cr_assert_eq(intake_check(&env, &type, &why), RC_OK);
    cr_assert_str_eq(type, "open_round");
}

Test(intake_check, optional_dates_may_be_empty)
{
    round_ev.onsite_from = "";
    cr_assert_eq(intake_check(&env, &type, &why), RC_OK);
}

Test(intake_check, a_missing_event_id_is_refused)
{
    env.event_id = "";
    expect_refusal("missing_field", "event_id is required");
}

Test(intake_check, an_event_id_that_is_not_a_uuid_is_refused)
{
    env.event_id = "6f1c2a3e-4b5d-4e6f-8a9b-0c1d2e3f4a5";
    expect_refusal("invalid_field", "event_id");
}

Test(intake_check, a_missing_unit_is_refused)
{
    env.unit = "";
    expect_refusal("missing_field", "unit is required");
}

Test(intake_check, a_unit_with_odd_characters_is_refused)
{
    env.unit = "Sh CGZF";
    expect_refusal("invalid_field", "unit:");
}

Test(intake_check, a_long_unit_is_refused)
{
    char unit[INTAKE_MAX_UNIT + 2];
    memset(unit, 'a', sizeof unit - 1);
    unit[sizeof unit - 1] = '\0';
    env.unit = unit;
    expect_refusal("field_too_long", "unit is 65 bytes; the limit is 64");
}

Test(intake_check, no_event_type_is_refused)
{
    env.event_case = RECTIFY__ENVELOPE__EVENT__NOT_SET;
    env.open_round = NULL;
    expect_refusal("missing_field", "no event type");
}

Test(intake_check, each_required_field_is_named_when_missing)
{
    const char *fields[] = {"round_id", "group_name", "target_unit", "feedback_date"};
    for (size_t i = 0; i < 4; i++) {
        setup();
        char **slot = i == 0   ? &round_ev.round_id
                      : i == 1 ? &round_ev.group_name
                      : i == 2 ? &round_ev.target_unit
                               : &round_ev.feedback_date;
        *slot = "";
        char want[64];
        snprintf(want, sizeof want, "open_round.%s is required", fields[i]);
        expect_refusal("missing_field", want);
    }
}

Test(intake_check, an_unset_kind_is_refused)
{
    round_ev.kind = RECTIFY__ROUND_KIND__ROUND_KIND_UNSPECIFIED;
    expect_refusal("missing_field", "open_round.kind is required");
}

Test(intake_check, an_unknown_enum_number_is_refused)
{
    round_ev.kind = (Rectify__RoundKind)77;
    expect_refusal("invalid_field", "open_round.kind: 77 is not a RoundKind value");
}

Test(intake_check, impossible_dates_are_refused)
{
    const char *bad[] = {"2021-02-29", "2021-13-01", "2021-1-29",
                         "29.01.2021", "2021-01-32", "2021-01-2x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        round_ev.feedback_date = (char *)bad[i];
        expect_refusal("invalid_field", "open_round.feedback_date");
    }
    round_ev.feedback_date = "2024-02-29"; /* a leap day */
    cr_assert_eq(intake_check(&env, &type, &why), RC_OK);
}

Test(intake_check, a_string_over_the_limit_is_refused)
{
    char *big = malloc(INTAKE_MAX_STRING + 2);
    memset(big, 'x', INTAKE_MAX_STRING + 1);
    big[INTAKE_MAX_STRING + 1] = '\0';
    round_ev.group_name = big;
    expect_refusal("field_too_long", "open_round.group_name is 1025 bytes");
    free(big);
}

Test(intake_check, invalid_utf8_is_refused)
{
    round_ev.group_name = "\xe5\xb8";
    expect_refusal("invalid_utf8", "open_round.group_name: byte 0 (0xE5)");
}

/* Packs env with one string field's bytes replaced on the wire (so it may
 * hold what a C string cannot: NUL bytes) and decodes it. */
static int s_decode_with_group_name(const char *bytes, size_t n)
{
    round_ev.group_name = "@@@@";
    uint8_t buf[8192], wire[8192];
    size_t len = rectify__envelope__pack(&env, buf);
    uint8_t *at = memmem(buf, len, "@@@@", 4);
    cr_assert_not_null(at);
    cr_assert(n < 128, "the test keeps lengths one varint byte long");
    /* the lengths before the string (the group_name's and the open_round's) */
    size_t head = (size_t)(at - buf);
    memcpy(wire, buf, head);
    wire[head - 1] = (uint8_t)n;
    memcpy(wire + head, bytes, n);
    memcpy(wire + head + n, at + 4, len - head - 4);
    size_t total = len - 4 + n;
    /* the open_round submessage length sits after its key 0x52 (field 10) */
    uint8_t *sub = memchr(wire, 0x52, head);
    cr_assert_not_null(sub);
    sub[1] = (uint8_t)(sub[1] - 4 + n);
    Rectify__Envelope *out = NULL;
    int rc = intake_decode(wire, total, sizeof wire, &out, &why);
    if (out)
        rectify__envelope__free_unpacked(out, NULL);
    return rc;
}

Test(intake_check, decode_refuses_what_postgresql_would_refuse_naming_the_field)
{
    struct {
        const char *bytes;
        size_t n;
        const char *code;
    } cases[] = {
        {"\xED\xA0\x80", 3, "invalid_utf8"},     /* a UTF-16 surrogate */
        {"\xE0\x80\x80", 3, "invalid_utf8"},     /* overlong */
        {"\xF4\x90\x80\x80", 4, "invalid_utf8"}, /* above U+10FFFF */
        {"admin\0evil", 10, "nul_in_text"},      /* protobuf-c would cut it to "admin" */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_assert_eq(s_decode_with_group_name(cases[i].bytes, cases[i].n), RC_ERR_INVALID,
                     "case %zu", i);
        cr_assert_str_eq(why.code, cases[i].code);
        cr_assert(strstr(why.message, "open_round.group_name"), "%s", why.message);
        cr_assert_str_eq(why.event_id, ID, "the refusal still names the event");
    }
    cr_assert_eq(s_decode_with_group_name("巡视组", 9), RC_OK);
}

Test(intake_check, a_non_uuid_id_is_never_echoed)
{
    char big[1001];
    memset(big, 'x', sizeof big - 1);
    big[1000] = '\0';
    env.event_id = big;
    uint8_t buf[4096];
    size_t len = rectify__envelope__pack(&env, buf);
    Rectify__Envelope *out = NULL;
    cr_assert_eq(intake_decode(buf, len, sizeof buf, &out, &why), RC_ERR_INVALID);
    cr_assert_str_eq(why.code, "field_too_long");
    cr_assert(strstr(why.message, "event_id is 1000 bytes"), "%s", why.message);
    cr_assert_str_eq(why.event_id, "");
}

Test(intake_check, sent_at_ms_must_be_a_real_time)
{
    env.sent_at_ms = (int64_t)1 << 62;
    expect_refusal("out_of_range", "sent_at_ms");
    env.sent_at_ms = -1;
    expect_refusal("out_of_range", "sent_at_ms");
    env.sent_at_ms = INTAKE_MAX_SENT_AT_MS;
    cr_assert_eq(intake_check(&env, &type, &why), RC_OK);
}

Test(intake_check, a_post_problem_needs_its_fields)
{
    Rectify__PostProblem p = RECTIFY__POST_PROBLEM__INIT;
    p.round_id = "r";
    p.problem_id = "1.1";
    p.aspect = "方面一";
    env.event_case = RECTIFY__ENVELOPE__EVENT_POST_PROBLEM;
    env.post_problem = &p;
    expect_refusal("missing_field", "post_problem.title is required");
    p.title = "问题";
    cr_assert_eq(intake_check(&env, &type, &why), RC_OK);
    cr_assert_str_eq(type, "post_problem");
}

Test(intake_check, decode_refuses_an_oversized_frame_and_still_names_its_id)
{
    uint8_t buf[4096];
    size_t len = rectify__envelope__pack(&env, buf);
    Rectify__Envelope *out;
    cr_assert_eq(intake_decode(buf, len, len - 1, &out, &why), RC_ERR_INVALID);
    cr_assert_null(out);
    cr_assert_str_eq(why.code, "too_large");
    cr_assert_str_eq(why.event_id, ID);
}

Test(intake_check, decode_refuses_garbage_and_empty_frames)
{
    const uint8_t junk[] = {0x0a, 0xff, 0x01};
    Rectify__Envelope *out;
    cr_assert_eq(intake_decode(junk, sizeof junk, 1000, &out, &why), RC_ERR_INVALID);
    cr_assert_str_eq(why.code, "malformed");
    cr_assert_eq(intake_decode(junk, 0, 1000, &out, &why), RC_ERR_INVALID);
    cr_assert_str_eq(why.code, "malformed");
    cr_assert(strstr(why.message, "empty frame"));
}

Test(intake_check, decode_accepts_a_good_frame)
{
    uint8_t buf[4096];
    size_t len = rectify__envelope__pack(&env, buf);
    Rectify__Envelope *out;
    cr_assert_eq(intake_decode(buf, len, sizeof buf, &out, &why), RC_OK);
    cr_assert_str_eq(out->open_round->group_name, "市委第六巡视组");
    rectify__envelope__free_unpacked(out, NULL);
}

Test(intake_check, evidence_needs_a_real_sha256_digest)
{
    Rectify__Evidence e = RECTIFY__EVIDENCE__INIT;
    e.title = "会议纪要";
    e.uri = "https://oa.example/1";
    e.sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0";
    Rectify__Evidence *list[] = {&e};
    Rectify__ReportProgress p = RECTIFY__REPORT_PROGRESS__INIT;
    p.round_id = "r";
    p.task_id = "1.1.1";
    p.text = "进展";
    p.n_evidence = 1;
    p.evidence = list;
    env.event_case = RECTIFY__ENVELOPE__EVENT_REPORT_PROGRESS;
    env.report_progress = &p;
    expect_refusal("invalid_field", "report_progress.evidence[0].sha256");
    e.sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0g";
    expect_refusal("invalid_field", "not a SHA-256 digest");
    e.sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    e.uri = "";
    expect_refusal("missing_field", "report_progress.evidence[0].uri is required");
    e.uri = "https://oa.example/1";
    cr_assert_eq(intake_check(&env, &type, &why), RC_OK);
    cr_assert_str_eq(type, "report_progress");
}

Test(intake_check, an_amount_must_be_exact_yuan)
{
    Rectify__RecordAccountability a = RECTIFY__RECORD_ACCOUNTABILITY__INIT;
    a.round_id = "r";
    a.action_id = "A1";
    a.kind = RECTIFY__ACCOUNTABILITY_KIND__ADMONISHMENT_TALK;
    a.persons = 1;
    a.amount_yuan = "2000.005";
    env.event_case = RECTIFY__ENVELOPE__EVENT_RECORD_ACCOUNTABILITY;
    env.record_accountability = &a;
    expect_refusal("invalid_field", "record_accountability.amount_yuan: \"2000.005\"");
    a.amount_yuan = "2000.00";
    a.persons = -1;
    expect_refusal("invalid_field", "record_accountability.persons: -1 is negative");
    a.persons = 1;
    cr_assert_eq(intake_check(&env, &type, &why), RC_OK);
}

Test(intake_check, a_plan_row_is_checked_field_by_field_with_its_line)
{
    Rectify__PlanRow row = RECTIFY__PLAN_ROW__INIT;
    row.line = 7;
    row.problem_id = "1.1";
    row.item_id = "1.1.1";
    row.item_title = "事项";
    row.measure_id = "1.1.1-1";
    row.measure_title = "措施";
    row.lead_leader = "局长";
    row.responsible_unit = "sh-cgzf.office";
    row.deadline = "2021-02-30";
    row.track = RECTIFY__TRACK__FIX_NOW;
    Rectify__PlanRow *rows[] = {&row};
    Rectify__ImportPlan plan = RECTIFY__IMPORT_PLAN__INIT;
    plan.round_id = "r";
    env.event_case = RECTIFY__ENVELOPE__EVENT_IMPORT_PLAN;
    env.import_plan = &plan;
    expect_refusal("missing_field", "import_plan.rows: the plan has no rows");
    plan.n_rows = 1;
    plan.rows = rows;
    expect_refusal("invalid_field", "import_plan.rows[0] (line 7).deadline");
    row.deadline = "2021-03-31";
    row.track = RECTIFY__TRACK__TRACK_UNSPECIFIED;
    expect_refusal("missing_field", "import_plan.rows[0] (line 7).track is required");
    row.track = RECTIFY__TRACK__LONG_TERM;
    cr_assert_eq(intake_check(&env, &type, &why), RC_OK);
}

Test(intake_check, a_unit_code_is_checked_when_registered)
{
    Rectify__RegisterUnit u = RECTIFY__REGISTER_UNIT__INIT;
    u.code = "Sh-CGZF";
    u.name = "城管执法局";
    u.role = RECTIFY__ROLE__UNIT;
    env.event_case = RECTIFY__ENVELOPE__EVENT_REGISTER_UNIT;
    env.register_unit = &u;
    expect_refusal("invalid_field", "register_unit.code: \"Sh-CGZF\"");
    u.code = "sh-cgzf";
    u.parent = "a b";
    expect_refusal("invalid_field", "register_unit.parent");
    u.parent = "";
    cr_assert_eq(intake_check(&env, &type, &why), RC_OK);
}

Test(intake_check, field_number_0_is_malformed_even_where_protobuf_c_lets_it_pass)
{
    /* found by the fuzzer: an empty submit_write_off, then a field 0 */
    const uint8_t frame[] = {0x92, 0x01, 0x00, 0x00, 0x00};
    Rectify__Envelope *out = NULL;
    cr_assert_eq(intake_decode(frame, sizeof frame, 1000, &out, &why), RC_ERR_INVALID);
    cr_assert_null(out);
    cr_assert_str_eq(why.code, "malformed");
    cr_assert(strstr(why.message, "field number 0"), "%s", why.message);
}

/* A work order as a hotline posts it; each test spoils one thing. */
static Rectify__PostOrder order_ev;

static void use_order(void)
{
    rectify__post_order__init(&order_ev);
    order_ev.order_id = "20261204-000123";
    order_ev.received_ms = 1796000000000LL;
    order_ev.channel = RECTIFY__CHANNEL__PHONE;
    order_ev.caller_hash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    order_ev.address = "人民路1号";
    order_ev.located = true;
    order_ev.latitude = 31.23;
    order_ev.longitude = 121.47;
    order_ev.category = "noise";
    order_ev.text = "夜间施工噪声";
    order_ev.urgency = RECTIFY__URGENCY__NORMAL;
    env.unit = "hotline";
    env.event_case = RECTIFY__ENVELOPE__EVENT_POST_ORDER;
    env.post_order = &order_ev;
}

Test(intake_check, a_complete_work_order_passes)
{
    use_order();
    cr_assert_eq(intake_check(&env, &type, &why), RC_OK, "%s", why.message);
    cr_assert_str_eq(type, "post_order");
    order_ev.located = false;
    order_ev.latitude = order_ev.longitude = 0;
    cr_assert_eq(intake_check(&env, &type, &why), RC_OK, "no coordinates: %s", why.message);
}

Test(intake_check, a_work_order_needs_its_fields)
{
    use_order();
    order_ev.urgency = RECTIFY__URGENCY__URGENCY_UNSPECIFIED;
    expect_refusal("missing_field", "post_order.urgency is required");
    use_order();
    order_ev.received_ms = 0;
    expect_refusal("missing_field", "post_order.received_ms");
    use_order();
    order_ev.received_ms = -5;
    expect_refusal("invalid_field", "post_order.received_ms");
    use_order();
    order_ev.category = "";
    expect_refusal("missing_field", "post_order.category is required");
}

Test(intake_check, a_caller_is_a_digest_never_a_phone_number)
{
    use_order();
    order_ev.caller_hash = "13800138000";
    expect_refusal("invalid_field", "post_order.caller_hash");
    use_order();
    /* upper case is not the form a hotline is asked for: one digest, one spelling */
    order_ev.caller_hash = "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef";
    expect_refusal("invalid_field", "post_order.caller_hash");
}

Test(intake_check, coordinates_are_real_places_and_only_with_located)
{
    use_order();
    order_ev.latitude = 90.5;
    expect_refusal("invalid_field", "post_order.latitude");
    use_order();
    order_ev.longitude = -180.01;
    expect_refusal("invalid_field", "post_order.longitude");
    use_order();
    order_ev.latitude = NAN;
    expect_refusal("invalid_field", "post_order.latitude");
    use_order();
    order_ev.located = false;
    expect_refusal("invalid_field", "post_order.located");
}

Test(intake_check, an_order_step_needs_an_order_and_a_known_step)
{
    Rectify__MoveOrder move = RECTIFY__MOVE_ORDER__INIT;
    move.order_id = "20261204-000123";
    env.unit = "street-a";
    env.event_case = RECTIFY__ENVELOPE__EVENT_MOVE_ORDER;
    env.move_order = &move;
    expect_refusal("missing_field", "move_order.step is required");
    move.step = 99;
    expect_refusal("invalid_field", "move_order.step: 99");
    move.step = RECTIFY__ORDER_STEP__EXTEND;
    move.minutes = -1;
    expect_refusal("invalid_field", "move_order.minutes");
    move.minutes = 60;
    cr_assert_eq(intake_check(&env, &type, &why), RC_OK, "%s", why.message);
    move.order_id = "";
    expect_refusal("missing_field", "move_order.order_id is required");
}

Test(intake_check, a_repeat_case_step_needs_a_case_number_and_an_action)
{
    Rectify__HandleRepeatCase ev = RECTIFY__HANDLE_REPEAT_CASE__INIT;
    env.unit = "dist.team";
    env.event_case = RECTIFY__ENVELOPE__EVENT_HANDLE_REPEAT_CASE;
    env.handle_repeat_case = &ev;
    ev.case_no = 7;
    expect_refusal("missing_field", "handle_repeat_case.action is required");
    ev.action = RECTIFY__CASE_ACTION__WRITE_OFF_CASE;
    ev.case_no = 0;
    expect_refusal("missing_field", "handle_repeat_case.case_no");
    ev.case_no = -3;
    expect_refusal("invalid_field", "handle_repeat_case.case_no: -3");
    ev.case_no = 7;
    cr_assert_eq(intake_check(&env, &type, &why), RC_OK, "%s", why.message);
}
