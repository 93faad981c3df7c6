/* log: line shape, escaping, bounds. Every line must parse as JSON. */
#include "log.h"
#include "text.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static json_t *parse(const char *line)
{
    json_error_t e;
    json_t *o = json_loads(line, 0, &e);
    cr_assert(o, "not JSON (%s): %s", e.text, line);
    return o;
}

Test(log, a_line_has_every_field)
{
    char buf[LOG_LINE_MAX];
    log_field_t f[] = {LF_STR("type", "open_round"), LF_INT("seq", 42)};
    log_format(buf, sizeof buf, 1764078777123LL, LOG_WARN, "intake", "e-1", "sh-cgzf", f, 2,
               "refused");
    json_t *o = parse(buf);
    cr_assert_str_eq(json_string_value(json_object_get(o, "ts")), "2025-11-25T13:52:57.123Z");
    cr_assert_str_eq(json_string_value(json_object_get(o, "level")), "warn");
    cr_assert_str_eq(json_string_value(json_object_get(o, "service")), "intake");
    cr_assert_str_eq(json_string_value(json_object_get(o, "event_id")), "e-1");
    cr_assert_str_eq(json_string_value(json_object_get(o, "unit")), "sh-cgzf");
    cr_assert_str_eq(json_string_value(json_object_get(o, "msg")), "refused");
    cr_assert_str_eq(json_string_value(json_object_get(o, "type")), "open_round");
    cr_assert_eq(json_integer_value(json_object_get(o, "seq")), 42);
    json_decref(o);
}

Test(log, quotes_backslashes_and_control_bytes_are_escaped)
{
    char buf[LOG_LINE_MAX];
    log_format(buf, sizeof buf, 0, LOG_INFO, "wf", NULL, NULL, NULL, 0, "a\"b\\c\nd\x01 整改");
    json_t *o = parse(buf);
    cr_assert_str_eq(json_string_value(json_object_get(o, "msg")), "a\"b\\c\nd\x01 整改");
    cr_assert_null(json_object_get(o, "event_id"), "empty ids are left out");
    json_decref(o);
}

Test(log, an_overlong_line_is_cut_and_marked_and_stays_json)
{
    char buf[256];
    char msg[1000];
    memset(msg, 'x', sizeof msg - 1);
    msg[sizeof msg - 1] = '\0';
    size_t n = log_format(buf, sizeof buf, 0, LOG_ERROR, "wf", NULL, NULL, NULL, 0, msg);
    cr_assert_lt(n, sizeof buf);
    json_t *o = parse(buf);
    cr_assert(json_is_true(json_object_get(o, "truncated")));
    json_decref(o);
}

Test(log, a_cut_never_splits_a_character)
{
    for (size_t size = 120; size < 160; size++) {
        char buf[160];
        log_format(buf, size, 0, LOG_INFO, "wf", NULL, NULL, NULL, 0,
                   "整改整改整改整改整改整改整改整改整改整改整改整改整改整改整改整改整改整改");
        json_t *o = parse(buf); /* jansson refuses invalid UTF-8 */
        json_decref(o);
    }
}

Test(log, level_names_round_trip)
{
    for (int l = LOG_DEBUG; l <= LOG_ERROR; l++)
        cr_assert_eq(log_level_from_name(log_level_name((log_level_t)l)), l);
    cr_assert_eq(log_level_from_name("nonsense"), LOG_INFO);
}

/* Parses a line and checks it is UTF-8 as PostgreSQL accepts it. */
static json_t *parse_valid(const char *line)
{
    cr_assert_eq(text_check(line, strlen(line), 0, NULL), TEXT_OK, "not valid UTF-8: %s", line);
    return parse(line);
}

Test(log, invalid_bytes_become_replacement_characters)
{
    char buf[LOG_LINE_MAX];
    /* a stray byte, a surrogate, an overlong '/', a character cut in half */
    log_field_t f[] = {LF_STR("subject", "整改\xE6\x95")};
    log_format(buf, sizeof buf, 0, LOG_INFO, "wf", NULL, "单位\xFF", f, 1,
               "a\xFF"
               "b \xED\xA0\x80 \xC0\xAF 整\xE6\x95");
    json_t *o = parse_valid(buf);
    cr_assert_str_eq(json_string_value(json_object_get(o, "msg")),
                     "a\xEF\xBF\xBD"
                     "b \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD "
                     "整\xEF\xBF\xBD\xEF\xBF\xBD");
    cr_assert_str_eq(json_string_value(json_object_get(o, "unit")), "单位\xEF\xBF\xBD");
    cr_assert_str_eq(json_string_value(json_object_get(o, "subject")),
                     "整改\xEF\xBF\xBD\xEF\xBF\xBD");
    json_decref(o);
}

Test(log, a_cut_at_any_size_leaves_valid_json_and_whole_characters)
{
    log_field_t f[] = {LF_STR("subject", "市委第六巡视组\"反馈\"\x01"), LF_INT("seq", 123456789),
                       LF_STR("body", "整改\\措施\t已完成")};
    for (size_t size = 3; size < 400; size++) {
        char buf[400];
        size_t n = log_format(buf, size, 1764078777123LL, LOG_WARN, "notify", "e-1", "sh-cgzf", f,
                              3, "notice: \"整改\" \x02 事项\n第二行");
        cr_assert_lt(n, size);
        cr_assert_eq(n, strlen(buf));
        json_t *o = parse_valid(buf);
        if (size > 100)
            cr_assert_str_eq(json_string_value(json_object_get(o, "service")), "notify");
        json_decref(o);
    }
}

/* Runs log_event with stderr going to a file and returns the line written. */
static void capture_line(char *out, size_t outlen, void (*emit)(void))
{
    FILE *tmp = tmpfile();
    cr_assert(tmp);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(fileno(tmp), STDERR_FILENO);
    emit();
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(tmp);
    size_t n = fread(out, 1, outlen - 1, tmp);
    out[n] = '\0';
    fclose(tmp);
    cr_assert(n > 0 && out[n - 1] == '\n', "no line written: %s", out);
    out[n - 1] = '\0';
}

static void emit_long_chinese(void)
{
    static char msg[6001];
    for (size_t i = 0; i + 3 <= sizeof msg - 1; i += 3)
        memcpy(msg + i, "整", 3);
    log_event(LOG_INFO, NULL, NULL, NULL, 0, "x%s", msg); /* x: no character ends on a round size */
}

Test(log, a_long_message_is_cut_on_a_character_and_marked)
{
    static char line[2 * LOG_LINE_MAX];
    capture_line(line, sizeof line, emit_long_chinese);
    cr_assert_leq(strlen(line), LOG_LINE_MAX);
    json_t *o = parse_valid(line);
    cr_assert(json_is_true(json_object_get(o, "truncated")), "%s", line);
    const char *msg = json_string_value(json_object_get(o, "msg"));
    cr_assert_gt(strlen(msg), 3000, "most of the line is kept");
    cr_assert_eq((strlen(msg) - 1) % 3, 0, "whole characters after the x");
    json_decref(o);
}

static void emit_below_the_level_and_a_notice(void)
{
    log_open("notify", LOG_ERROR, NULL, NULL);
    log_warn("filtered out");
    log_field_t f[] = {LF_STR("notice_id", "7d444840-9dc0-11d1-b245-5ffdce74fad2"),
                       LF_STR("channel", "log")};
    log_notice("e-1", "sh-cgzf", f, 2, "notice: %s", "整改");
    log_open("rectify", LOG_INFO, NULL, NULL);
}

Test(log, a_notice_line_is_written_whatever_the_level)
{
    char line[LOG_LINE_MAX];
    capture_line(line, sizeof line, emit_below_the_level_and_a_notice);
    cr_assert_null(strchr(line, '\n'), "one line only: %s", line);
    json_t *o = parse_valid(line);
    cr_assert_str_eq(json_string_value(json_object_get(o, "msg")), "notice: 整改");
    cr_assert_str_eq(json_string_value(json_object_get(o, "level")), "info");
    cr_assert_str_eq(json_string_value(json_object_get(o, "notice_id")),
                     "7d444840-9dc0-11d1-b245-5ffdce74fad2");
    json_decref(o);
}
