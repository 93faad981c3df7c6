/* plan_csv: a unit's rectification plan read from its spreadsheet's CSV export. */
#include "plan_csv.h"
#include "errors.h"
#include "rectify.pb-c.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef RECTIFY_TEST_DATA_DIR
#error "RECTIFY_TEST_DATA_DIR: the build gives the folder of the test data"
#endif

#define ROUND "2020-sh-6"
#define HEADER "aspect,problem,item,measure,lead_leader,responsible_unit,deadline,track\n"
/* a good row for HEADER; tests change one cell of a copy of it */
#define ROW(item, measure) "党的建设,1.1," item "," measure ",张三,sh-cgj,2021-03-31,fix_now\n"

#define MAX_ERRS 16

typedef struct {
    int rc;
    Rectify__ImportPlan *plan;
    plan_csv_error_t errs[MAX_ERRS];
    size_t nerrs;
} parsed_t;

static void parse_n(parsed_t *p, const char *csv, size_t len)
{
    memset(p, 0, sizeof *p);
    p->plan = (Rectify__ImportPlan *)p; /* must be overwritten */
    p->nerrs = 99;
    p->rc = plan_csv_parse(csv, len, ROUND, &p->plan, p->errs, MAX_ERRS, &p->nerrs);
}

static void parse(parsed_t *p, const char *csv)
{
    parse_n(p, csv, strlen(csv));
}

static void expect_ok(parsed_t *p, size_t nrows)
{
    cr_assert_eq(p->rc, RC_OK, "rc %d, %zu errors, first: line %d %s: %s", p->rc, p->nerrs,
                 p->nerrs ? p->errs[0].line : 0, p->nerrs ? p->errs[0].field : "",
                 p->nerrs ? p->errs[0].message : "");
    cr_assert_not_null(p->plan);
    cr_assert_eq(p->nerrs, 0);
    cr_assert_eq(p->plan->n_rows, nrows);
}

/* Asserts that parsing failed with exactly one error, at line in field, whose
 * message holds needle. */
static void expect_one_error(parsed_t *p, int line, const char *field, const char *needle)
{
    cr_assert_eq(p->rc, RC_ERR_INVALID, "rc %d", p->rc);
    cr_assert_null(p->plan);
    cr_assert_eq(p->nerrs, 1, "%zu errors, first: line %d %s: %s", p->nerrs,
                 p->nerrs ? p->errs[0].line : 0, p->nerrs ? p->errs[0].field : "",
                 p->nerrs ? p->errs[0].message : "");
    cr_assert_eq(p->errs[0].line, line, "line %d: %s", p->errs[0].line, p->errs[0].message);
    cr_assert_str_eq(p->errs[0].field, field, "%s", p->errs[0].message);
    cr_assert(strstr(p->errs[0].message, needle), "\"%s\" lacks \"%s\"", p->errs[0].message,
              needle);
}

static void done(parsed_t *p)
{
    if (p->rc == RC_OK)
        rectify__import_plan__free_unpacked(p->plan, NULL);
}

/* --- Good files -------------------------------------------------------------------- */

/* Chinese headers, a BOM, CRLF line ends, a quoted cell with a comma and "",
 * a quoted cell over two lines, a blank line, padded cells. */
static const char GOOD_ZH[] =
    "\xEF\xBB\xBF"
    "方面,问题,整改事项,整改措施,牵头领导,责任单位,整改时限,类别\r\n"
    "党的建设,1.1,\"1.1.1 落实\"\"两个责任\"\", 不到位\",1.1.1-1 制定责任清单,张三,sh-cgj,"
    "2021-03-31,立行立改\r\n"
    "党的建设,1.1,\"1.1.1 落实\"\"两个责任\"\", 不到位\",\"1.1.1-2 第一行\r\n"
    "第二行\",李四,sh-cgj.dept_1,2021-06-30, 专项整治 \r\n"
    "\r\n"
    "作风建设, 2.1 ,2.1.1　整治形式主义 ,2.1.1-1 精简会议,王五,sh-cgj,2024-02-29,长期推进\r\n";

Test(plan_csv, chinese_headers_with_bom_crlf_and_quoted_cells_are_read)
{
    parsed_t p;
    parse(&p, GOOD_ZH);
    expect_ok(&p, 3);
    Rectify__ImportPlan *plan = p.plan;
    cr_assert_str_eq(plan->round_id, ROUND);
    cr_assert_str_eq(plan->on_date, "");

    Rectify__PlanRow *r = plan->rows[0];
    cr_assert_eq(r->line, 2);
    cr_assert_str_eq(r->aspect, "党的建设");
    cr_assert_str_eq(r->problem_id, "1.1");
    cr_assert_str_eq(r->item_id, "1.1.1");
    cr_assert_str_eq(r->item_title, "落实\"两个责任\", 不到位");
    cr_assert_str_eq(r->measure_id, "1.1.1-1");
    cr_assert_str_eq(r->measure_title, "制定责任清单");
    cr_assert_str_eq(r->lead_leader, "张三");
    cr_assert_str_eq(r->responsible_unit, "sh-cgj");
    cr_assert_str_eq(r->deadline, "2021-03-31");
    cr_assert_eq(r->track, RECTIFY__TRACK__FIX_NOW);

    r = plan->rows[1];
    cr_assert_eq(r->line, 3);
    cr_assert_str_eq(r->item_title, "落实\"两个责任\", 不到位");
    cr_assert_str_eq(r->measure_id, "1.1.1-2");
    cr_assert_str_eq(r->measure_title, "第一行\n第二行");
    cr_assert_str_eq(r->responsible_unit, "sh-cgj.dept_1");
    cr_assert_eq(r->track, RECTIFY__TRACK__SPECIAL_CAMPAIGN);

    r = plan->rows[2];
    cr_assert_eq(r->line, 6, "the row after a two-line cell and a blank line is on line 6");
    cr_assert_str_eq(r->problem_id, "2.1");
    cr_assert_str_eq(r->item_id, "2.1.1", "an ideographic space separates id and title");
    cr_assert_str_eq(r->item_title, "整治形式主义");
    cr_assert_str_eq(r->deadline, "2024-02-29");
    cr_assert_eq(r->track, RECTIFY__TRACK__LONG_TERM);
    done(&p);
}

Test(plan_csv, english_headers_in_another_order_are_read)
{
    parsed_t p;
    parse(&p, "Track,deadline,MEASURE,item,problem,responsible_unit,lead_leader,aspect\n"
              "long_term,2022-12-31,3.1.1-1 Audit the funds,3.1.1 Funds,3.1,audit_1,Li Si,Money\n"
              " Fix_Now ,2022-01-15,3.1.1-2 Close the account,3.1.1 Funds,3.1,audit_1,Li Si,"
              "Money");
    expect_ok(&p, 2);
    Rectify__PlanRow *r = p.plan->rows[0];
    cr_assert_eq(r->line, 2);
    cr_assert_eq(r->track, RECTIFY__TRACK__LONG_TERM);
    cr_assert_str_eq(r->deadline, "2022-12-31");
    cr_assert_str_eq(r->measure_id, "3.1.1-1");
    cr_assert_str_eq(r->measure_title, "Audit the funds");
    cr_assert_str_eq(r->item_id, "3.1.1");
    cr_assert_str_eq(r->item_title, "Funds");
    cr_assert_str_eq(r->problem_id, "3.1");
    cr_assert_str_eq(r->responsible_unit, "audit_1");
    cr_assert_str_eq(r->lead_leader, "Li Si");
    cr_assert_str_eq(r->aspect, "Money");
    r = p.plan->rows[1];
    cr_assert_eq(r->line, 3);
    cr_assert_eq(r->track, RECTIFY__TRACK__FIX_NOW);
    cr_assert_str_eq(r->aspect, "Money", "the last line needs no line end");
    done(&p);
}

Test(plan_csv, the_plan_packs_and_unpacks_the_same)
{
    parsed_t p;
    parse(&p, GOOD_ZH);
    expect_ok(&p, 3);
    size_t size = rectify__import_plan__get_packed_size(p.plan);
    uint8_t *buf = malloc(size);
    cr_assert_not_null(buf);
    cr_assert_eq(rectify__import_plan__pack(p.plan, buf), size);
    Rectify__ImportPlan *back = rectify__import_plan__unpack(NULL, size, buf);
    free(buf);
    cr_assert_not_null(back);
    cr_assert_eq(back->n_rows, 3);
    cr_assert_eq(back->rows[2]->line, 6);
    cr_assert_str_eq(back->rows[1]->measure_title, "第一行\n第二行");
    rectify__import_plan__free_unpacked(back, NULL);
    done(&p);
}

Test(plan_csv, the_good_sample_file_is_read)
{
    char path[512];
    snprintf(path, sizeof path, "%s/plan-good.csv", RECTIFY_TEST_DATA_DIR);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    char buf[8192];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    cr_assert(len > 0 && len < sizeof buf);
    parsed_t p;
    parse_n(&p, buf, len);
    expect_ok(&p, 4);
    cr_assert_eq(p.plan->rows[0]->line, 2);
    cr_assert_str_eq(p.plan->rows[1]->item_title, "落实\"两个责任\", 不到位");
    cr_assert_str_eq(p.plan->rows[1]->measure_title, "建立台账\n每月通报");
    cr_assert_eq(p.plan->rows[2]->line, 5);
    cr_assert_eq(p.plan->rows[3]->line, 6);
    cr_assert_eq(p.plan->rows[3]->track, RECTIFY__TRACK__LONG_TERM);
    done(&p);
}

Test(plan_csv, rows_of_blank_cells_are_skipped)
{
    parsed_t p;
    parse(&p, "\n" HEADER ",,,,,,,\n" ROW("1.1.1 标题", "1.1.1-1 措施") "  \n\"\"\n");
    expect_ok(&p, 1);
    cr_assert_eq(p.plan->rows[0]->line, 4);
    done(&p);
}

Test(plan_csv, a_cell_of_exactly_the_limit_is_taken)
{
    char csv[2048];
    char aspect[PLAN_CSV_MAX_CELL + 1];
    memset(aspect, 'a', PLAN_CSV_MAX_CELL);
    aspect[PLAN_CSV_MAX_CELL] = '\0';
    snprintf(csv, sizeof csv, HEADER "  %s  ,1.1,1.1.1 t,1.1.1-1 m,z,u,2021-03-31,fix_now\n",
             aspect);
    parsed_t p;
    parse(&p, csv);
    expect_ok(&p, 1);
    cr_assert_eq(strlen(p.plan->rows[0]->aspect), PLAN_CSV_MAX_CELL);
    done(&p);
}

/* --- Refusals: the header ------------------------------------------------------------- */

Test(plan_csv, a_missing_column_is_named)
{
    parsed_t p;
    parse(&p, "aspect,problem,item,measure,lead_leader,responsible_unit,deadline\n"
              "a,1.1,1.1.1 t,1.1.1-1 m,z,u,2021-03-31\n");
    expect_one_error(&p, 1, "track", "missing column \"track\"");
}

Test(plan_csv, an_unknown_column_is_named)
{
    parsed_t p;
    parse(&p, "方面,问题,整改事项,整改措施,牵头领导,责任单位,整改时限,类别,备注\n"
              "a,1.1,1.1.1 t,1.1.1-1 m,z,u,2021-03-31,fix_now,x\n");
    expect_one_error(&p, 1, "", "unknown column \"备注\" (column 9)");
}

Test(plan_csv, a_duplicated_column_is_refused)
{
    parsed_t p;
    parse(&p, "aspect,problem,item,measure,lead_leader,responsible_unit,deadline,track,问题\n"
              "a,1.1,1.1.1 t,1.1.1-1 m,z,u,2021-03-31,fix_now,1.1\n");
    expect_one_error(&p, 1, "problem", "columns 2 and 9");
}

Test(plan_csv, every_header_problem_is_reported)
{
    parsed_t p;
    parse(&p, "\r\nAspect,problem,item,extra,measure,lead_leader,,deadline,track,item\r\n"
              "a,1.1,1.1.1 t,x,1.1.1-1 m,z,,2021-03-31,fix_now,1.1.1 t\r\n");
    cr_assert_eq(p.rc, RC_ERR_INVALID);
    cr_assert_null(p.plan);
    cr_assert_eq(p.nerrs, 4);
    for (size_t i = 0; i < p.nerrs; i++)
        cr_assert_eq(p.errs[i].line, 2, "the header is on line 2");
    cr_assert(strstr(p.errs[0].message, "unknown column \"extra\""), "%s", p.errs[0].message);
    cr_assert(strstr(p.errs[1].message, "column 7 has no name"), "%s", p.errs[1].message);
    cr_assert_str_eq(p.errs[2].field, "item");
    cr_assert(strstr(p.errs[2].message, "duplicated column"), "%s", p.errs[2].message);
    cr_assert_str_eq(p.errs[3].field, "responsible_unit");
    cr_assert(strstr(p.errs[3].message, "missing column"), "%s", p.errs[3].message);
}

/* --- Refusals: cells ---------------------------------------------------------------- */

Test(plan_csv, an_empty_required_cell_is_refused)
{
    parsed_t p;
    parse(&p,
          HEADER ROW("1.1.1 t", "1.1.1-1 m") "a,1.1,1.1.1 t,1.1.1-2 m,  ,u,2021-03-31,fix_now\n");
    expect_one_error(&p, 3, "lead_leader", "lead_leader: the cell is empty");
}

Test(plan_csv, a_date_that_is_not_in_the_calendar_is_refused)
{
    parsed_t p;
    parse(&p, HEADER "a,1.1,1.1.1 t,1.1.1-1 m,z,u,2021-02-30,fix_now\n");
    expect_one_error(&p, 2, "deadline", "deadline: \"2021-02-30\" is not a date (YYYY-MM-DD)");
    cr_assert_str_eq(p.errs[0].message, "deadline: \"2021-02-30\" is not a date (YYYY-MM-DD)");
}

Test(plan_csv, dates_are_checked_for_form_and_calendar)
{
    static const char *bad[] = {"2021-13-01", "2021-00-10", "2021-04-31", "2100-02-29",
                                "0000-01-01", "2021-2-3",   "2021/02/03", "2021-02-03x",
                                "20210203",   "二〇二一年"};
    static const char *good[] = {"2000-02-29", "2024-02-29", "2021-12-31", "9999-01-01"};
    char csv[512];
    parsed_t p;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(csv, sizeof csv, HEADER "a,1.1,1.1.1 t,1.1.1-1 m,z,u,%s,fix_now\n", bad[i]);
        parse(&p, csv);
        expect_one_error(&p, 2, "deadline", "is not a date");
        cr_assert(strstr(p.errs[0].message, bad[i]), "%s", p.errs[0].message);
    }
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        snprintf(csv, sizeof csv, HEADER "a,1.1,1.1.1 t,1.1.1-1 m,z,u,%s,fix_now\n", good[i]);
        parse(&p, csv);
        expect_ok(&p, 1);
        cr_assert_str_eq(p.plan->rows[0]->deadline, good[i]);
        done(&p);
    }
}

Test(plan_csv, an_unknown_track_is_refused)
{
    parsed_t p;
    parse(&p, HEADER "a,1.1,1.1.1 t,1.1.1-1 m,z,u,2021-03-31,马上办\n");
    expect_one_error(&p, 2, "track", "track: \"马上办\" is not a track");
}

Test(plan_csv, a_bad_unit_code_is_refused)
{
    parsed_t p;
    parse(&p, HEADER "a,1.1,1.1.1 t,1.1.1-1 m,z,Sh CGJ,2021-03-31,fix_now\n");
    expect_one_error(&p, 2, "responsible_unit", "\"Sh CGJ\" is not a unit code");
}

Test(plan_csv, an_id_with_other_characters_is_refused)
{
    parsed_t p;
    parse(&p, HEADER "a,1/1,1.1.1 t,1.1.1-1 m,z,u,2021-03-31,fix_now\n");
    expect_one_error(&p, 2, "problem", "problem: \"1/1\" is not an id");
}

Test(plan_csv, an_over_long_id_is_refused)
{
    char id[PLAN_CSV_MAX_ID + 2];
    memset(id, '7', sizeof id - 1);
    id[sizeof id - 1] = '\0';
    char csv[512];
    snprintf(csv, sizeof csv, HEADER "a,1.1,1.1.1 t,%s m,z,u,2021-03-31,fix_now\n", id);
    parsed_t p;
    parse(&p, csv);
    expect_one_error(&p, 2, "measure", "is longer than 64 bytes");
}

Test(plan_csv, an_item_cell_without_a_title_is_refused)
{
    parsed_t p;
    parse(&p, HEADER "a,1.1,  1.1.1  ,1.1.1-1 m,z,u,2021-03-31,fix_now\n");
    expect_one_error(&p, 2, "item", "item: \"1.1.1\" has no title");
}

Test(plan_csv, an_item_id_reused_with_another_title_is_refused)
{
    parsed_t p;
    parse(&p, HEADER ROW("1.1.1 落实责任", "1.1.1-1 m") ROW("1.1.1 落实责任", "1.1.1-2 m")
                  ROW("1.1.1 落实两个责任", "1.1.1-3 m"));
    expect_one_error(&p, 4, "item", "item: \"1.1.1\" is titled \"落实责任\" on line 2");
    cr_assert(strstr(p.errs[0].message, "落实两个责任"), "%s", p.errs[0].message);
}

Test(plan_csv, an_item_id_under_another_problem_is_refused)
{
    parsed_t p;
    parse(&p,
          HEADER ROW("1.1.1 t", "1.1.1-1 m") "a,1.2,1.1.1 t,1.1.1-2 m,z,u,2021-03-31,fix_now\n");
    expect_one_error(&p, 3, "item", "belongs to problem \"1.1\" on line 2");
}

Test(plan_csv, a_repeated_measure_id_is_refused)
{
    parsed_t p;
    parse(&p, HEADER ROW("1.1.1 t", "1.1.1-1 m") ROW("1.1.2 u", "1.1.2-1 m")
                  ROW("1.1.2 u", "1.1.1-1 again"));
    expect_one_error(&p, 4, "measure", "measure: \"1.1.1-1\" already appears on line 2");
}

Test(plan_csv, a_measure_id_equal_to_an_item_id_is_refused)
{
    parsed_t p;
    parse(&p, HEADER ROW("1.1.1 t", "1.1.1-1 m") ROW("1.1.2 u", "1.1.1 m"));
    expect_one_error(&p, 3, "measure", "measure: \"1.1.1\" is also the item id on line 2");

    /* the other way round: the item comes after the measure */
    parse(&p, HEADER ROW("1.1.1 t", "1.1.1-1 m") ROW("1.1.1-1 u", "1.1.1-2 m"));
    expect_one_error(&p, 3, "item", "item: \"1.1.1-1\" is also the measure id on line 2");

    /* and on the same row */
    parse(&p, HEADER ROW("1.1.1 t", "1.1.1 m"));
    expect_one_error(&p, 2, "measure", "is also the item id on line 2");
}

Test(plan_csv, an_unterminated_quote_is_refused)
{
    parsed_t p;
    /* the quote opened on line 3 swallows the rest of the file */
    const char *csv = HEADER ROW("1.1.1 t", "1.1.1-1 m")     /* line 2 */
        "a,1.1,\"1.1.1 t,1.1.1-2 m,z,u,2021-03-31,fix_now\n" /* line 3 */
        ROW("1.1.1 t", "1.1.1-3 m");                         /* line 4 */
    parse(&p, csv);
    expect_one_error(&p, 3, "item", "unterminated quote");
    cr_assert(strstr(p.errs[0].message, "line 3"), "%s", p.errs[0].message);

    parse(&p, "\"aspect,problem\n");
    expect_one_error(&p, 1, "", "unterminated quote");
}

Test(plan_csv, text_after_a_closing_quote_is_refused)
{
    parsed_t p;
    parse(&p, HEADER "a,1.1,\"1.1.1 t\" x,1.1.1-1 m,z,u,2021-03-31,fix_now\n");
    expect_one_error(&p, 2, "item", "text after the closing quote");
}

Test(plan_csv, an_over_long_cell_is_refused)
{
    char csv[2048];
    char title[PLAN_CSV_MAX_CELL];
    memset(title, 'x', sizeof title - 1);
    title[sizeof title - 1] = '\0';
    /* "1.1.1-1 " + 1023 bytes = 1031 bytes */
    snprintf(csv, sizeof csv, HEADER "a,1.1,1.1.1 t,\"1.1.1-1 %s\",z,u,2021-03-31,fix_now\n",
             title);
    parsed_t p;
    parse(&p, csv);
    expect_one_error(&p, 2, "measure", "measure: the cell holds 1031 bytes, at most 1024");
}

Test(plan_csv, a_cell_that_is_not_utf8_is_refused)
{
    parsed_t p;
    parse(&p, HEADER "a,1.1,1.1.1 t,1.1.1-1 m,\xD5\xC5\xC8\xFD,u,2021-03-31,fix_now\n");
    expect_one_error(&p, 2, "lead_leader", "not valid UTF-8");
}

Test(plan_csv, a_row_with_the_wrong_number_of_cells_is_refused)
{
    parsed_t p;
    parse(&p, HEADER "a,1.1,1.1.1 t,1.1.1-1 m,z,u,2021-03-31\n");
    expect_one_error(&p, 2, "", "the row has 7 cells, the header has 8");
}

Test(plan_csv, an_empty_file_has_no_rows)
{
    parsed_t p;
    parse(&p, "");
    expect_one_error(&p, 1, "", "no rows");
    parse_n(&p, NULL, 0);
    expect_one_error(&p, 1, "", "no rows");
    parse(&p, "\xEF\xBB\xBF\r\n\r\n");
    expect_one_error(&p, 1, "", "no rows");
}

Test(plan_csv, a_header_alone_has_no_rows)
{
    parsed_t p;
    parse(&p, "\n" HEADER "\n,,,,,,,\n");
    expect_one_error(&p, 2, "", "no rows");
}

Test(plan_csv, an_empty_round_id_is_refused)
{
    plan_csv_error_t errs[2];
    size_t n = 9;
    Rectify__ImportPlan *plan = NULL;
    const char *csv = HEADER ROW("1.1.1 t", "1.1.1-1 m");
    cr_assert_eq(plan_csv_parse(csv, strlen(csv), "", &plan, errs, 2, &n), RC_ERR_INVALID);
    cr_assert_null(plan);
    cr_assert_eq(n, 1);
    cr_assert(strstr(errs[0].message, "round_id"), "%s", errs[0].message);
}

/* --- Several errors ------------------------------------------------------------------ */

Test(plan_csv, several_errors_are_all_reported_in_line_order)
{
    parsed_t p;
    parse(&p, HEADER                                                /* line 1 */
          "a,1.1,1.1.1 t,1.1.1-1 m,z,u,2021-02-30,fix_now\n"        /* 2: deadline */
          "a,1.1,1.1.1 t,\"1.1.1-2 two\nlines\",z,u,2021-03-31,x\n" /* 3-4: track */
          "a,1.1,1.1.1 t,1.1.1-3 m,,BAD,2021-03-31,fix_now\n"       /* 5: leader, unit */
          "\n"                                                      /* 6 */
          "a,1.1,1.1.2 u,1.1.1-1 m,z,u,2021-03-31,long_term\n");    /* 7: measure */
    cr_assert_eq(p.rc, RC_ERR_INVALID);
    cr_assert_null(p.plan);
    struct {
        int line;
        const char *field;
        const char *needle;
    } want[] = {
        {2, "deadline", "\"2021-02-30\""},
        {3, "track", "\"x\" is not a track"},
        {5, "lead_leader", "empty"},
        {5, "responsible_unit", "\"BAD\""},
        {7, "measure", "already appears on line 2"},
    };
    cr_assert_eq(p.nerrs, sizeof want / sizeof want[0], "%zu errors", p.nerrs);
    for (size_t i = 0; i < p.nerrs; i++) {
        cr_assert_eq(p.errs[i].line, want[i].line, "error %zu: line %d: %s", i, p.errs[i].line,
                     p.errs[i].message);
        cr_assert_str_eq(p.errs[i].field, want[i].field, "error %zu: %s", i, p.errs[i].message);
        cr_assert(strstr(p.errs[i].message, want[i].needle), "error %zu: %s", i, p.errs[i].message);
    }
}

Test(plan_csv, errors_stop_at_the_room_given)
{
    const char *csv = HEADER "a,1.1,1.1.1 t,1.1.1-1 m,z,u,2021-02-30,fix_now\n"
                             "a,1.1,1.1.1 t,1.1.1-2 m,z,u,2021-02-31,fix_now\n"
                             "a,1.1,1.1.1 t,1.1.1-3 m,z,u,2021-02-32,fix_now\n";
    plan_csv_error_t errs[2];
    size_t n = 9;
    Rectify__ImportPlan *plan = NULL;
    cr_assert_eq(plan_csv_parse(csv, strlen(csv), ROUND, &plan, errs, 2, &n), RC_ERR_INVALID);
    cr_assert_null(plan);
    cr_assert_eq(n, 2);
    cr_assert_eq(errs[0].line, 2);
    cr_assert_eq(errs[1].line, 3);

    n = 9;
    cr_assert_eq(plan_csv_parse(csv, strlen(csv), ROUND, &plan, NULL, 0, &n), RC_ERR_INVALID);
    cr_assert_null(plan);
    cr_assert_eq(n, 0);
}

Test(plan_csv, long_values_are_cut_in_messages_on_a_character_boundary)
{
    char csv[2048];
    char track[301];
    for (size_t i = 0; i < 100; i++)
        memcpy(track + 3 * i, "办", 3);
    track[300] = '\0';
    snprintf(csv, sizeof csv, HEADER "a,1.1,1.1.1 t,1.1.1-1 m,z,u,2021-03-31,%s\n", track);
    parsed_t p;
    parse(&p, csv);
    expect_one_error(&p, 2, "track", "...\" is not a track");
    const char *m = p.errs[0].message;
    size_t len = strlen(m);
    cr_assert(len < sizeof p.errs[0].message);
    const char *start = strchr(m, '"') + 1;
    const char *dots = strstr(m, "...");
    cr_assert_eq((size_t)(dots - start) % 3, 0, "cut inside a character: %s", m);
}

Test(plan_csv, an_unterminated_quote_past_the_last_column_is_an_error_not_a_crash)
{
    /* found by the fuzzer: the cell past the header's last column has no
     * column to name */
    parsed_t p;
    parse(&p, HEADER "党的建设,1.1,I,M,张三,sh-cgj,2021-03-31,fix_now,\"open\n");
    cr_assert_eq(p.rc, RC_ERR_INVALID);
    cr_assert_geq(p.nerrs, 1);
    cr_assert(strstr(p.errs[0].message, "unterminated quote"), "%s", p.errs[0].message);
}
