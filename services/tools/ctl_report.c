/* ctl_report.c: what rectifyctl reads back: the ledger of a round, one
 * item with its measures and history, and the public bulletin for any date. */
#include "clock.h"
#include "ctl.h"
#include "ctl_output.h"
#include "errors.h"
#include "money.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* --- shared ---------------------------------------------------------------- */

typedef struct {
    const char *round;
    const char *as_of;
    const char *unit, *status, *track, *leader, *id;
    const char *xlsx; /* --xlsx FILE: write a workbook */
    int overdue, as_json;
} s_args_t;

/* Parses the options common to the report commands; returns 0 or 2 (usage). */
static int s_parse(const char *cmd, int argc, char **argv, s_args_t *a, int want_id)
{
    memset(a, 0, sizeof *a);
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i];
        int has = i + 1 < argc;
        if (!strcmp(o, "--round") && has)
            a->round = argv[++i];
        else if (!strcmp(o, "--as-of") && has)
            a->as_of = argv[++i];
        else if (!strcmp(o, "--unit") && has)
            a->unit = argv[++i];
        else if (!strcmp(o, "--status") && has)
            a->status = argv[++i];
        else if (!strcmp(o, "--track") && has)
            a->track = argv[++i];
        else if (!strcmp(o, "--leader") && has)
            a->leader = argv[++i];
        else if (!strcmp(o, "--overdue"))
            a->overdue = 1;
        else if (!strcmp(o, "--json"))
            a->as_json = 1;
        else if (!strcmp(o, "--xlsx") && has)
            a->xlsx = argv[++i];
        else if (want_id && !a->id && o[0] != '-')
            a->id = o;
        else {
            fprintf(stderr, "rectifyctl %s: unexpected argument \"%s\" (try --help)\n", cmd, o);
            return 2;
        }
    }
    if (!a->round) {
        fprintf(stderr, "rectifyctl %s: --round ROUND is required\n", cmd);
        return 2;
    }
    if (want_id && !a->id) {
        fprintf(stderr, "rectifyctl %s: name the item or measure id\n", cmd);
        return 2;
    }
    if (a->as_of) {
        int y, m, d;
        char tail;
        if (strlen(a->as_of) != 10 || sscanf(a->as_of, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3) {
            fprintf(stderr, "rectifyctl %s: --as-of: \"%s\" is not a date (YYYY-MM-DD)\n", cmd,
                    a->as_of);
            return 2;
        }
    }
    return 0;
}

/* Today by the one clock: the simulated clock if one is set (rectifyctl
 * clock), else real time. */
static const db_stmt_t s_today_stmt = {
    "ctl_today", "SELECT (rectify_now(true) AT TIME ZONE 'UTC')::date::text", 0, 0};

static void s_today(db_t *db, char out[11])
{
    PGresult *res = db_run(db, &s_today_stmt, NULL, NULL, NULL);
    if (res) {
        snprintf(out, 11, "%s", PQgetvalue(res, 0, 0));
        PQclear(res);
        return;
    }
    time_t secs = (time_t)(clock_now_ms() / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

/* Connects and reads today's date by the one clock; NULL when it cannot connect. */
static db_t *s_connect(const config_t *cfg, char today[11])
{
    db_t *db = ctl_connect(cfg);
    if (db)
        s_today(db, today);
    return db;
}

static void s_print_json(json_t *o)
{
    char *text = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    if (text)
        puts(text);
    free(text);
}

/* --- ledger ---------------------------------------------------------------- */

/* The ledger: codes for --json, unit names and Chinese labels for people.
 * A task is flagged overdue past its deadline until done, or report owed
 * when it still owes reports (task_owes_reports) and its latest owed report
 * fell due unanswered; a closed task owes nothing. The filters take codes
 * or labels. */
static const db_stmt_t s_ledger = {
    "ctl_ledger",
    "WITH l AS (SELECT t.*, coalesce(u.name, t.responsible_unit, '') AS unit_name,"
    "   CASE WHEN t.deadline < $7::date AND NOT task_done(t.status) THEN 'overdue'"
    "        WHEN task_owes_reports(t.status, t.track) AND coalesce(m.missed, false)"
    "        THEN 'report_owed' ELSE '' END AS flag"
    "  FROM task t LEFT JOIN unit u ON u.code = t.responsible_unit"
    "  LEFT JOIN LATERAL (SELECT tm.fired_at IS NOT NULL AS missed FROM timer tm"
    "    WHERE tm.round_id = t.round_id AND tm.task_id = t.task_id AND tm.kind = 'report_due'"
    "    AND tm.cancelled_at IS NULL ORDER BY tm.id DESC LIMIT 1) m ON true"
    "  WHERE t.round_id = $1"
    "  AND ($2 = '' OR starts_with(u.path, (SELECT path FROM unit WHERE code = $2)))"
    "  AND ($3 = '' OR $3 IN (t.status, status_label(t.status)))"
    "  AND ($4 = '' OR $4 IN (t.track, track_label(t.track)))"
    "  AND ($5 = '' OR t.lead_leader = $5))"
    " SELECT task_id, kind, CASE kind WHEN 'item' THEN '事项' ELSE '  措施' END, title,"
    "  coalesce(lead_leader, ''), coalesce(responsible_unit, ''), unit_name,"
    "  coalesce(deadline::text, ''), coalesce(track, ''), track_label(track), status,"
    "  status_label(status), flag,"
    "  CASE flag WHEN 'overdue' THEN '逾期' WHEN 'report_owed' THEN '欠报' ELSE '' END"
    " FROM l WHERE $6 = '' OR flag <> ''"
    " ORDER BY coalesce(item_id, task_id), kind <> 'item', task_id",
    7, 0};
static const ctl_col_t s_ledger_cols[] = {
    {"id", 0, "编号", 0, 0, 0},
    {"kind", 1, "类型", 2, 0, 0},
    {"title", 3, "标题", 3, 0, 40},
    {"lead_leader", 4, "牵头领导", 4, 0, 20},
    {"responsible_unit", 5, "责任单位", 6, 0, 24},
    {"deadline", 7, "整改时限", 7, 0, 0},
    {"track", 8, "类别", 9, 0, 0},
    {"status", 10, "状态", 11, 0, 0},
    {"flag", 12, "提示", 13, 0, 0},
};
static const db_stmt_t s_ledger_summary = {
    "ctl_ledger_summary",
    "SELECT CASE kind WHEN 'item' THEN '事项' ELSE '措施' END, status_label(status), count(*)"
    " FROM task WHERE round_id = $1 GROUP BY kind, status ORDER BY kind, status",
    1, 0};

int ctl_ledger(const config_t *cfg, int argc, char **argv)
{
    s_args_t a;
    int rc = s_parse("ledger", argc, argv, &a, 0);
    if (rc)
        return rc;
    char today[11];
    db_t *db = s_connect(cfg, today);
    if (!db)
        return 1;
    const char *params[] = {a.round,
                            a.unit ? a.unit : "",
                            a.status ? a.status : "",
                            a.track ? a.track : "",
                            a.leader ? a.leader : "",
                            a.overdue ? "1" : "",
                            today};
    PGresult *res = db_run(db, &s_ledger, params, NULL, NULL);
    PGresult *sum = res ? db_run(db, &s_ledger_summary, params, NULL, NULL) : NULL;
    if (!res || !sum) {
        fprintf(stderr, "rectifyctl ledger: %s\n", db_error(db));
        PQclear(res);
        db_destroy(&db);
        return 1;
    }
    char title[256];
    snprintf(title, sizeof title, "巡视整改台账 %s (%s)", a.round, today);
    ctl_out_t out = {a.as_json, a.xlsx, "整改台账", title};
    int status = ctl_emit(res, s_ledger_cols, sizeof s_ledger_cols / sizeof s_ledger_cols[0], &out);
    if (!a.as_json && !a.xlsx) {
        printf("\n%d 行。%s 全部:", PQntuples(res), a.round);
        for (int r = 0; r < PQntuples(sum); r++)
            printf("%s%s%s %s", r ? "," : "", PQgetvalue(sum, r, 0), PQgetvalue(sum, r, 1),
                   PQgetvalue(sum, r, 2));
        printf("\n");
    }
    PQclear(res);
    PQclear(sum);
    db_destroy(&db);
    return status;
}

/* --- item ------------------------------------------------------------------ */

static const db_stmt_t s_item = {
    "ctl_item",
    "SELECT t.task_id, t.kind, CASE t.kind WHEN 'item' THEN '事项' ELSE '措施' END, t.title,"
    " t.status, status_label(t.status), coalesce(t.lead_leader, ''),"
    " coalesce(t.responsible_unit, ''), coalesce(u.name, t.responsible_unit, ''),"
    " coalesce(t.deadline::text, ''), coalesce(t.track, ''), track_label(t.track), t.problem_id,"
    " coalesce(t.item_id, '')"
    " FROM task t LEFT JOIN unit u ON u.code = t.responsible_unit"
    " WHERE t.round_id = $1 AND (t.task_id = $2 OR t.item_id = $2)"
    " ORDER BY t.kind <> 'item', t.task_id",
    2, 0};
static const ctl_col_t s_item_cols[] = {
    {"id", 0, "编号", 0, 0, 0},
    {"kind", 1, "类型", 2, 0, 0},
    {"title", 3, "标题", 3, 0, 40},
    {"status", 4, "状态", 5, 0, 0},
    {"lead_leader", 6, "牵头领导", 6, 0, 20},
    {"responsible_unit", 7, "责任单位", 8, 0, 24},
    {"deadline", 9, "整改时限", 9, 0, 0},
    {"track", 10, "类别", 11, 0, 0},
    {"problem", 12, NULL, 12, 0, 0},
    {"item", 13, NULL, 13, 0, 0},
};
/* the whole history of the item and its measures: one query */
static const db_stmt_t s_history = {
    "ctl_history",
    "SELECT h.effective_on::text, h.task_id, h.action, coalesce(h.from_status, ''),"
    " status_label(h.from_status), h.to_status, status_label(h.to_status), h.actor,"
    " coalesce(u.name, h.actor), coalesce(h.reason, ''), h.event_id::text"
    " FROM task_history h JOIN task t USING (round_id, task_id)"
    " LEFT JOIN unit u ON u.code = h.actor"
    " WHERE h.round_id = $1 AND (t.task_id = $2 OR t.item_id = $2)"
    " ORDER BY h.effective_on, h.id",
    2, 0};
static const ctl_col_t s_history_cols[] = {
    {"day", 0, "日期", 0, 0, 0},     {"id", 1, "编号", 1, 0, 0},
    {"action", 2, "操作", 2, 0, 0},  {"from", 3, "原状态", 4, 0, 0},
    {"to", 5, "新状态", 6, 0, 0},    {"actor", 7, "操作单位", 8, 0, 24},
    {"reason", 9, "事由", 9, 0, 40}, {"event_id", 10, NULL, 10, 0, 0},
};

int ctl_item(const config_t *cfg, int argc, char **argv)
{
    s_args_t a;
    int rc = s_parse("item", argc, argv, &a, 1);
    if (rc)
        return rc;
    db_t *db = ctl_connect(cfg);
    if (!db)
        return 1;
    const char *params[] = {a.round, a.id};
    PGresult *res = db_run(db, &s_item, params, NULL, NULL);
    PGresult *hist = res ? db_run(db, &s_history, params, NULL, NULL) : NULL;
    int status = 0;
    if (!res || !hist) {
        fprintf(stderr, "rectifyctl item: %s\n", db_error(db));
        status = 1;
    } else if (PQntuples(res) == 0) {
        fprintf(stderr, "rectifyctl item: no item or measure \"%s\" in round \"%s\"\n", a.id,
                a.round);
        status = 1;
    } else {
        status = ctl_emit_with_history(res, s_item_cols, sizeof s_item_cols / sizeof s_item_cols[0],
                                       "tasks", hist, s_history_cols,
                                       sizeof s_history_cols / sizeof s_history_cols[0],
                                       "整改过程:", a.as_json);
    }
    PQclear(res);
    PQclear(hist);
    db_destroy(&db);
    return status;
}

/* --- bulletin -------------------------------------------------------------- */

static const db_stmt_t s_bulletin = {
    "ctl_bulletin",
    "WITH s AS (SELECT * FROM task_status_as_of($1, $2::date)),"
    " done AS (SELECT ARRAY['closed', 'confirmed'] AS states),"
    " it AS (SELECT count(*) AS total, count(*) FILTER (WHERE status = ANY (done.states)) AS ok"
    "        FROM s, done WHERE kind = 'item'),"
    " me AS (SELECT count(*) AS total, count(*) FILTER (WHERE status = ANY (done.states)) AS ok"
    "        FROM s, done WHERE kind = 'measure'),"
    " pr AS (SELECT count(*) AS total, count(*) FILTER (WHERE n > 0 AND n_open = 0) AS ok FROM ("
    "          SELECT p.problem_id, count(s.task_id) AS n,"
    "                 count(s.task_id) FILTER (WHERE NOT s.status = ANY (done.states)) AS n_open"
    "            FROM feedback_problem p CROSS JOIN done"
    "            LEFT JOIN s ON s.problem_id = p.problem_id AND s.kind = 'item'"
    "           WHERE p.round_id = $1 GROUP BY p.problem_id) x),"
    " asp AS (SELECT count(DISTINCT aspect) AS total FROM feedback_problem WHERE round_id = $1),"
    " acc AS (SELECT coalesce(sum(cases), 0) AS cases,"
    "         coalesce(sum(persons) FILTER (WHERE kind = 'disciplinary_sanction'), 0) AS "
    "sanctioned,"
    "         coalesce(sum(persons) FILTER (WHERE kind = 'admonishment_talk'), 0) AS admonished,"
    "         coalesce(sum(persons) FILTER (WHERE kind IN ('reminder_talk', 'criticism',"
    "                  'written_self_criticism', 'reassignment')), 0) AS handled,"
    "         coalesce(sum(amount_fen), 0)"
    "         + (SELECT coalesce(sum(f.amount_fen), 0) FROM funds_recovered f"
    "             WHERE f.round_id = $1 AND f.effective_on <= $2::date) AS fen"
    "         FROM accountability WHERE round_id = $1 AND effective_on <= $2::date),"
    " ins AS (SELECT count(*) FILTER (WHERE kind = 'new') AS new,"
    "         count(*) FILTER (WHERE kind = 'revised') AS revised,"
    "         count(*) FILTER (WHERE kind = 'planned') AS planned"
    "         FROM institution WHERE round_id = $1 AND effective_on <= $2::date)"
    " SELECT r.group_name, r.target_unit, coalesce(u.name, r.target_unit),"
    "  coalesce(r.onsite_from::text, ''), coalesce(r.onsite_to::text, ''), r.feedback_date::text,"
    "  asp.total, pr.total, pr.ok, it.total, it.ok, me.total, me.ok, acc.cases, acc.sanctioned,"
    "  acc.admonished, acc.handled, acc.fen, ins.new, ins.revised, ins.planned, r.kind"
    " FROM inspection_round r LEFT JOIN unit u ON u.code = r.target_unit,"
    "  it, me, pr, asp, acc, ins WHERE r.round_id = $1",
    2, 0};

enum {
    B_GROUP,
    B_TARGET,
    B_TARGET_NAME,
    B_FROM,
    B_TO,
    B_FEEDBACK,
    B_ASPECTS,
    B_PROBLEMS,
    B_PROBLEMS_OK,
    B_ITEMS,
    B_ITEMS_OK,
    B_MEASURES,
    B_MEASURES_OK,
    B_CASES,
    B_SANCTIONED,
    B_ADMONISHED,
    B_HANDLED,
    B_FEN,
    B_INST_NEW,
    B_INST_REVISED,
    B_INST_PLANNED,
    B_KIND
};

/* "2021-01-29" -> "2021年1月29日" */
static void s_cn_date(const char *iso, char *out, size_t outlen)
{
    int y, m, d;
    if (sscanf(iso, "%d-%d-%d", &y, &m, &d) == 3)
        snprintf(out, outlen, "%d年%d月%d日", y, m, d);
    else
        snprintf(out, outlen, "%s", iso);
}

static long long s_num(PGresult *res, int col)
{
    return strtoll(PQgetvalue(res, 0, col), NULL, 10);
}

static void s_bulletin_text(PGresult *res, const char *as_of)
{
    char from[32], to[32], fb[32], day[32], wan[32];
    s_cn_date(PQgetvalue(res, 0, B_FROM), from, sizeof from);
    s_cn_date(PQgetvalue(res, 0, B_TO), to, sizeof to);
    s_cn_date(PQgetvalue(res, 0, B_FEEDBACK), fb, sizeof fb);
    s_cn_date(as_of, day, sizeof day);
    money_format_wan(s_num(res, B_FEN), wan, sizeof wan);
    const char *name = PQgetvalue(res, 0, B_TARGET_NAME);
    const char *look_back =
        strcmp(PQgetvalue(res, 0, B_KIND), "look_back") == 0 ? "巡视“回头看”" : "巡视";
    printf("%s关于%s整改进展情况的通报\n\n", name, look_back);
    printf("按照统一部署,");
    if (*PQgetvalue(res, 0, B_FROM))
        printf("%s至%s,", from, to);
    printf("%s对%s开展了%s,并于%s反馈了巡视意见。现将巡视整改进展情况予以公布。\n\n",
           PQgetvalue(res, 0, B_GROUP), name, look_back, fb);
    printf("巡视指出了%lld方面%lld个问题,分解细化为%lld个整改事项", s_num(res, B_ASPECTS),
           s_num(res, B_PROBLEMS), s_num(res, B_ITEMS));
    printf(",其中%lld个问题的整改事项已全部完成。\n\n", s_num(res, B_PROBLEMS_OK));
    printf("截至%s,巡视反馈的%lld项问题已经整改%lld项。提出整改措施%lld条,已经完成%lld条。", day,
           s_num(res, B_ITEMS), s_num(res, B_ITEMS_OK), s_num(res, B_MEASURES),
           s_num(res, B_MEASURES_OK));
    if (s_num(res, B_CASES) || s_num(res, B_SANCTIONED))
        printf("党纪政务立案%lld件,党纪政务处分共%lld人。", s_num(res, B_CASES),
               s_num(res, B_SANCTIONED));
    /* the organisational handling sentence: its clauses joined by commas */
    char clauses[512] = "";
    size_t len = 0;
    if (s_num(res, B_ADMONISHED))
        len += (size_t)snprintf(clauses + len, sizeof clauses - len, "%s诫勉谈话%lld人",
                                len ? "," : "", s_num(res, B_ADMONISHED));
    if (s_num(res, B_HANDLED) && len < sizeof clauses)
        len += (size_t)snprintf(clauses + len, sizeof clauses - len,
                                "%s通过提醒谈话、批评教育、书面检查、调整职务等方式组织处理%lld人",
                                len ? "," : "", s_num(res, B_HANDLED));
    if (s_num(res, B_FEN) && len < sizeof clauses)
        len += (size_t)snprintf(clauses + len, sizeof clauses - len, "%s共退出违规钱款%s万元",
                                len ? "," : "", wan);
    if (len)
        printf("%s。", clauses);
    printf("已新建制度%lld项,修订完善%lld项", s_num(res, B_INST_NEW), s_num(res, B_INST_REVISED));
    if (s_num(res, B_INST_PLANNED))
        printf(",拟修订和完善%lld项", s_num(res, B_INST_PLANNED));
    printf("。\n");
}

static json_t *s_bulletin_json(PGresult *res, const char *round, const char *as_of)
{
    char yuan[32], wan[32];
    money_format_yuan(s_num(res, B_FEN), yuan, sizeof yuan);
    money_format_wan(s_num(res, B_FEN), wan, sizeof wan);
    return json_pack(
        "{s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s}, s:I, s:{s:I, s:I}, s:{s:I, s:I},"
        " s:{s:I, s:I}, s:{s:I, s:I, s:I, s:I, s:s, s:s}, s:{s:I, s:I, s:I}}",
        "round", round, "as_of", as_of, "facts", "group", PQgetvalue(res, 0, B_GROUP),
        "target_unit", PQgetvalue(res, 0, B_TARGET), "target_name",
        PQgetvalue(res, 0, B_TARGET_NAME), "onsite_from", PQgetvalue(res, 0, B_FROM), "onsite_to",
        PQgetvalue(res, 0, B_TO), "feedback_date", PQgetvalue(res, 0, B_FEEDBACK), "aspects",
        (json_int_t)s_num(res, B_ASPECTS), "problems", "total", (json_int_t)s_num(res, B_PROBLEMS),
        "rectified", (json_int_t)s_num(res, B_PROBLEMS_OK), "items", "total",
        (json_int_t)s_num(res, B_ITEMS), "rectified", (json_int_t)s_num(res, B_ITEMS_OK),
        "measures", "total", (json_int_t)s_num(res, B_MEASURES), "completed",
        (json_int_t)s_num(res, B_MEASURES_OK), "accountability", "cases_filed",
        (json_int_t)s_num(res, B_CASES), "sanctioned_persons", (json_int_t)s_num(res, B_SANCTIONED),
        "admonishment_talk_persons", (json_int_t)s_num(res, B_ADMONISHED), "other_handling_persons",
        (json_int_t)s_num(res, B_HANDLED), "funds_recovered_yuan", yuan, "funds_recovered_wan_yuan",
        wan, "institutions", "new", (json_int_t)s_num(res, B_INST_NEW), "revised",
        (json_int_t)s_num(res, B_INST_REVISED), "planned", (json_int_t)s_num(res, B_INST_PLANNED));
}

int ctl_bulletin(const config_t *cfg, int argc, char **argv)
{
    s_args_t a;
    int rc = s_parse("bulletin", argc, argv, &a, 0);
    if (rc)
        return rc;
    char today[11];
    db_t *db = s_connect(cfg, today);
    if (!db)
        return 1;
    const char *as_of = a.as_of ? a.as_of : today;
    const char *params[] = {a.round, as_of};
    PGresult *res = db_run(db, &s_bulletin, params, NULL, NULL);
    int status = 0;
    if (!res) {
        fprintf(stderr, "rectifyctl bulletin: %s\n", db_error(db));
        status = 1;
    } else if (PQntuples(res) != 1) {
        fprintf(stderr, "rectifyctl bulletin: no round \"%s\"\n", a.round);
        status = 1;
    } else if (a.as_json) {
        json_t *o = s_bulletin_json(res, a.round, as_of);
        s_print_json(o);
        json_decref(o);
    } else {
        json_t *o = s_bulletin_json(res, a.round, as_of);
        s_print_json(o);
        json_decref(o);
        printf("\n");
        s_bulletin_text(res, as_of);
    }
    PQclear(res);
    db_destroy(&db);
    return status;
}

/* --- supervision reports -------------------------------------------------- */

static const db_stmt_t s_weekly = {
    "ctl_weekly",
    "SELECT w.unit, coalesce(u.name, w.unit), w.moved, w.closed, w.overdue, w.escalated"
    " FROM report_weekly($1, ($2::date + 1)::timestamp AT TIME ZONE 'UTC') w"
    " LEFT JOIN unit u ON u.code = w.unit ORDER BY w.unit",
    2, 0};
static const ctl_col_t s_weekly_cols[] = {
    {"unit", 0, NULL, 0, 0, 0},
    {"unit_name", -1, "责任单位", 1, 0, 30},
    {"moved", 2, "本周变动", 2, CTL_COL_NUMBER, 0},
    {"closed", 3, "本周销号", 3, CTL_COL_NUMBER, 0},
    {"overdue", 4, "逾期未完成", 4, CTL_COL_NUMBER, 0},
    {"escalated", 5, "本周升级督办", 5, CTL_COL_NUMBER, 0},
};
static const db_stmt_t s_monthly = {
    "ctl_monthly",
    "SELECT m.unit, coalesce(u.name, m.unit), m.items, m.items_done, m.items_overdue, m.measures,"
    " m.measures_done, m.measures_in_progress, m.measures_overdue"
    " FROM report_monthly($1, $2::date) m LEFT JOIN unit u ON u.code = m.unit ORDER BY m.unit",
    2, 0};
static const ctl_col_t s_monthly_cols[] = {
    {"unit", 0, NULL, 0, 0, 0},
    {"unit_name", -1, "责任单位", 1, 0, 30},
    {"items", 2, "整改事项", 2, CTL_COL_NUMBER, 0},
    {"items_done", 3, "事项已销号", 3, CTL_COL_NUMBER, 0},
    {"items_overdue", 4, "事项逾期", 4, CTL_COL_NUMBER, 0},
    {"measures", 5, "整改措施", 5, CTL_COL_NUMBER, 0},
    {"measures_done", 6, "措施已完成", 6, CTL_COL_NUMBER, 0},
    {"measures_in_progress", 7, "措施推进中", 7, CTL_COL_NUMBER, 0},
    {"measures_overdue", 8, "措施逾期", 8, CTL_COL_NUMBER, 0},
};

int ctl_report(const config_t *cfg, int argc, char **argv)
{
    const char *kind = argc > 0 ? argv[0] : "";
    bool weekly = !strcmp(kind, "weekly");
    if (!weekly && strcmp(kind, "monthly")) {
        fprintf(stderr, "rectifyctl report: weekly or monthly\n");
        return 2;
    }
    s_args_t a;
    int rc = s_parse("report", argc - 1, argv + 1, &a, 0);
    if (rc)
        return rc;
    char today[11];
    db_t *db = s_connect(cfg, today);
    if (!db)
        return 1;
    const char *params[] = {a.round, a.as_of ? a.as_of : today};
    PGresult *res = db_run(db, weekly ? &s_weekly : &s_monthly, params, NULL, NULL);
    if (!res) {
        fprintf(stderr, "rectifyctl report: %s\n", db_error(db));
        db_destroy(&db);
        return 1;
    }
    char title[256];
    snprintf(title, sizeof title, "%s %s %s%s", weekly ? "每周梳理对账" : "每月进度表", a.round,
             weekly ? "截至" : "", params[1]);
    if (!a.as_json && !a.xlsx)
        printf("%s\n\n", title);
    ctl_out_t out = {a.as_json, a.xlsx, weekly ? "每周梳理对账" : "每月进度表", title};
    int status =
        weekly ? ctl_emit(res, s_weekly_cols, 6, &out) : ctl_emit(res, s_monthly_cols, 9, &out);
    PQclear(res);
    db_destroy(&db);
    return status;
}
