/* ctl_orders.c: what rectifyctl reads back of the hotline's work orders:
 * the orders by unit, status and breach, and one order with its history.
 * Times are shown in the working calendar's time zone (work_calendar.tz). */
#include "ctl.h"
#include "ctl_output.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *unit, *status, *id, *xlsx;
    bool breached, as_json;
} s_args_t;

static int s_parse(const char *cmd, int argc, char **argv, s_args_t *a, bool want_id)
{
    memset(a, 0, sizeof *a);
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i];
        bool has = i + 1 < argc;
        if (!want_id && !strcmp(o, "--unit") && has)
            a->unit = argv[++i];
        else if (!want_id && !strcmp(o, "--status") && has)
            a->status = argv[++i];
        else if (!want_id && !strcmp(o, "--breached"))
            a->breached = true;
        else if (!want_id && !strcmp(o, "--xlsx") && has)
            a->xlsx = argv[++i];
        else if (!strcmp(o, "--json"))
            a->as_json = true;
        else if (want_id && !a->id && o[0] != '-')
            a->id = o;
        else {
            fprintf(stderr, "rectifyctl %s: unexpected argument \"%s\" (try --help)\n", cmd, o);
            return 2;
        }
    }
    if (want_id && !a->id) {
        fprintf(stderr, "rectifyctl %s: name the order id\n", cmd);
        return 2;
    }
    return 0;
}

/* $1 unit ('' any), $2 status ('' any), $3 only breached; $4 one order ('' all) */
static const db_stmt_t s_orders = {
    "ctl_orders",
    "SELECT o.order_id, to_char(o.received_at AT TIME ZONE c.tz, 'YYYY-MM-DD HH24:MI'),"
    " o.category, CASE WHEN o.urgent THEN 'urgent' ELSE 'normal' END,"
    " CASE WHEN o.urgent THEN '紧急' ELSE '一般' END, o.status, order_status_label(o.status),"
    " coalesce(o.unit, ''), coalesce(u.name, o.unit, ''), o.cycle,"
    " (SELECT count(*) FROM subject_breach b WHERE b.lifecycle = 'order'"
    "   AND b.subject = o.order_id),"
    " coalesce((SELECT string_agg(b.clock, ',' ORDER BY b.due_at) FROM subject_breach b"
    "   WHERE b.lifecycle = 'order' AND b.subject = o.order_id), ''),"
    " CASE WHEN o.paused_at IS NULL THEN '' ELSE 'paused' END,"
    " CASE WHEN o.paused_at IS NULL THEN '' ELSE '暂停' END,"
    " coalesce(o.satisfaction, ''), o.address, o.channel"
    " FROM work_order o CROSS JOIN work_calendar c LEFT JOIN unit u ON u.code = o.unit"
    " WHERE ($1 = '' OR o.unit = $1) AND ($2 = '' OR o.status = $2)"
    " AND (NOT $3::bool OR EXISTS (SELECT 1 FROM subject_breach b"
    "   WHERE b.lifecycle = 'order' AND b.subject = o.order_id))"
    " AND ($4 = '' OR o.order_id = $4)"
    " ORDER BY o.received_at, o.order_id",
    4, 0};
static const ctl_col_t s_order_cols[] = {
    {"order_id", 0, "工单号", 0, 0, 0},
    {"received", 1, "受理时间", 1, 0, 0},
    {"category", 2, "类别", 2, 0, 16},
    {"urgency", 3, "紧急程度", 4, 0, 0},
    {"status", 5, "状态", 6, 0, 0},
    {"unit", 7, "承办单位", 8, 0, 24},
    {"cycle", 9, "派单次数", 9, CTL_COL_NUMBER, 0},
    {"breaches", 10, "超时", 10, CTL_COL_NUMBER, 0},
    {"breached_clocks", 11, "超时环节", 11, 0, 0},
    {"paused", 12, "暂停", 13, 0, 0},
    {"satisfaction", 14, "满意度", 14, 0, 0},
    {"address", 15, NULL, 15, 0, 0},
    {"channel", 16, NULL, 16, 0, 0},
};

static const db_stmt_t s_history = {
    "ctl_order_history",
    "SELECT to_char(h.at AT TIME ZONE c.tz, 'YYYY-MM-DD HH24:MI'), h.action,"
    " coalesce(h.from_status, ''), order_status_label(h.from_status), h.to_status,"
    " order_status_label(h.to_status), h.actor, coalesce(u.name, h.actor),"
    " coalesce(h.reason, ''), coalesce(h.approver, ''), coalesce(h.detail::text, ''),"
    " h.event_id::text"
    " FROM subject_history h CROSS JOIN work_calendar c LEFT JOIN unit u ON u.code = h.actor"
    " WHERE h.lifecycle = 'order' AND h.subject = $1 ORDER BY h.id",
    1, 0};
static const ctl_col_t s_history_cols[] = {
    {"at", 0, "时间", 0, 0, 0},         {"action", 1, "操作", 1, 0, 0},
    {"from", 2, "原状态", 3, 0, 0},     {"to", 4, "新状态", 5, 0, 0},
    {"actor", 6, "操作单位", 7, 0, 20}, {"reason", 8, "事由", 8, 0, 30},
    {"approver", 9, "审批人", 9, 0, 0}, {"detail", 10, "详情", 10, 0, 40},
    {"event_id", 11, NULL, 11, 0, 0},
};

#define NCOLS(cols) ((int)(sizeof cols / sizeof cols[0]))

int ctl_orders(const config_t *cfg, int argc, char **argv)
{
    s_args_t a;
    int rc = s_parse("orders", argc, argv, &a, false);
    if (rc)
        return rc;
    db_t *db = ctl_connect(cfg);
    if (!db)
        return 1;
    const char *params[] = {a.unit ? a.unit : "", a.status ? a.status : "", a.breached ? "t" : "f",
                            ""};
    PGresult *res = db_run(db, &s_orders, params, NULL, NULL);
    int status = 0;
    if (!res) {
        fprintf(stderr, "rectifyctl orders: %s\n", db_error(db));
        status = 1;
    } else {
        ctl_out_t out = {a.as_json, a.xlsx, "工单", "热线工单"};
        status = ctl_emit(res, s_order_cols, NCOLS(s_order_cols), &out);
        if (!a.as_json && !a.xlsx)
            printf("%d orders\n", PQntuples(res));
    }
    PQclear(res);
    db_destroy(&db);
    return status;
}

int ctl_order(const config_t *cfg, int argc, char **argv)
{
    s_args_t a;
    int rc = s_parse("order", argc, argv, &a, true);
    if (rc)
        return rc;
    db_t *db = ctl_connect(cfg);
    if (!db)
        return 1;
    const char *params[] = {"", "", "f", a.id};
    PGresult *res = db_run(db, &s_orders, params, NULL, NULL);
    PGresult *hist = res ? db_run(db, &s_history, &a.id, NULL, NULL) : NULL;
    int status = 0;
    if (!res || !hist) {
        fprintf(stderr, "rectifyctl order: %s\n", db_error(db));
        status = 1;
    } else if (PQntuples(res) == 0) {
        fprintf(stderr, "rectifyctl order: no order \"%s\"\n", a.id);
        status = 1;
    } else {
        status =
            ctl_emit_with_history(res, s_order_cols, NCOLS(s_order_cols), "order", hist,
                                  s_history_cols, NCOLS(s_history_cols), "办理过程:", a.as_json);
    }
    PQclear(res);
    PQclear(hist);
    db_destroy(&db);
    return status;
}

/* --- the repeat-complaint register ---------------------------------------- */

/* $1: every case counted (true) or only the register's */
static const db_stmt_t s_repeats = {
    "ctl_repeats",
    "SELECT c.case_no, c.basis, CASE c.basis WHEN 'caller' THEN '同一来电人' ELSE '同一地点' END,"
    " CASE c.basis WHEN 'caller' THEN left(c.key, 12) || '…' ELSE c.key END, c.category,"
    " c.orders, to_char(c.first_at AT TIME ZONE w.tz, 'YYYY-MM-DD'),"
    " to_char(c.last_at AT TIME ZONE w.tz, 'YYYY-MM-DD'), repeat_case_status(c),"
    " CASE repeat_case_status(c) WHEN 'watching' THEN '观察' WHEN 'registered' THEN '已入库'"
    "  WHEN 'assigned' THEN '办理中' ELSE '已销项' END,"
    " coalesce(c.unit, ''), coalesce(u.name, c.unit, ''), c.follow_ups,"
    " coalesce(c.last_follow_up, '')"
    " FROM repeat_case c CROSS JOIN work_calendar w LEFT JOIN unit u ON u.code = c.unit"
    " WHERE $1::bool OR c.registered_at IS NOT NULL ORDER BY c.case_no",
    1, 0};
static const ctl_col_t s_repeat_cols[] = {
    {"case_no", 0, "编号", 0, CTL_COL_NUMBER, 0},
    {"basis", 1, "重复依据", 2, 0, 0},
    {"key", 3, "来电人/地点", 3, 0, 30},
    {"category", 4, "类别", 4, 0, 16},
    {"orders", 5, "诉件数", 5, CTL_COL_NUMBER, 0},
    {"first", 6, "首次", 6, 0, 0},
    {"last", 7, "最近", 7, 0, 0},
    {"status", 8, "状态", 9, 0, 0},
    {"unit", 10, "责任单位", 11, 0, 24},
    {"follow_ups", 12, "跟进次数", 12, CTL_COL_NUMBER, 0},
    {"last_follow_up", 13, "最近跟进", 13, 0, 30},
};
static const db_stmt_t s_repeat_figures = {
    "ctl_repeat_figures", "SELECT cases, written_off, rate FROM repeat_figures(rectify_now(true))",
    0, 0};

int ctl_repeats(const config_t *cfg, int argc, char **argv)
{
    bool all = false, as_json = false;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--all"))
            all = true;
        else if (!strcmp(argv[i], "--json"))
            as_json = true;
        else {
            fprintf(stderr, "rectifyctl repeats: unexpected argument \"%s\" (try --help)\n",
                    argv[i]);
            return 2;
        }
    }
    db_t *db = ctl_connect(cfg);
    if (!db)
        return 1;
    const char *params[] = {all ? "t" : "f"};
    PGresult *res = db_run(db, &s_repeats, params, NULL, NULL);
    PGresult *fig = res ? db_run(db, &s_repeat_figures, NULL, NULL, NULL) : NULL;
    int status = 0;
    if (!res || !fig) {
        fprintf(stderr, "rectifyctl repeats: %s\n", db_error(db));
        status = 1;
    } else {
        ctl_out_t out = {as_json, NULL, NULL, NULL};
        if (as_json)
            printf("{\"cases\": %s, \"written_off\": %s, \"write_off_rate\": %s, \"register\":\n",
                   PQgetvalue(fig, 0, 0), PQgetvalue(fig, 0, 1), PQgetvalue(fig, 0, 2));
        status = ctl_emit(res, s_repeat_cols, NCOLS(s_repeat_cols), &out);
        if (as_json)
            printf("}\n");
        else
            printf("重复诉件库: %s 件, 已销项 %s 件, 销项率 %s%%\n", PQgetvalue(fig, 0, 0),
                   PQgetvalue(fig, 0, 1), PQgetvalue(fig, 0, 2));
    }
    PQclear(res);
    PQclear(fig);
    db_destroy(&db);
    return status;
}

/* --- the monthly table per undertaking unit --------------------------------- */

static const db_stmt_t s_month = {
    "ctl_hotline_month",
    "SELECT m.unit, coalesce(u.name, m.unit), m.orders, m.take_rate, m.contact_rate,"
    " m.onsite_rate, m.complete_rate, m.reply_rate, m.breaches, m.repeats, m.closed,"
    " m.satisfaction, m.card, CASE m.card WHEN 'red' THEN '红牌' WHEN 'yellow' THEN '黄牌'"
    " ELSE '' END"
    " FROM hotline_month($1::date, $2::int, $3::int) m LEFT JOIN unit u ON u.code = m.unit",
    3, 0};
static const ctl_col_t s_month_cols[] = {
    {"unit", 0, "承办单位", 1, 0, 24},
    {"orders", 2, "工单数", 2, CTL_COL_NUMBER, 0},
    {"take_on_time", 3, "接单及时率%", 3, CTL_COL_DECIMAL, 0},
    {"contact_on_time", 4, "先行联系及时率%", 4, CTL_COL_DECIMAL, 0},
    {"onsite_on_time", 5, "到场及时率%", 5, CTL_COL_DECIMAL, 0},
    {"complete_on_time", 6, "办结及时率%", 6, CTL_COL_DECIMAL, 0},
    {"reply_on_time", 7, "回复及时率%", 7, CTL_COL_DECIMAL, 0},
    {"breaches", 8, "超时", 8, CTL_COL_NUMBER, 0},
    {"repeats", 9, "重复诉件", 9, CTL_COL_NUMBER, 0},
    {"closed", 10, "结案", 10, CTL_COL_NUMBER, 0},
    {"satisfaction", 11, "满意率%", 11, CTL_COL_DECIMAL, 0},
    {"card", 12, "亮牌", 13, 0, 0},
};
static const db_stmt_t s_quarter = {
    "ctl_hotline_quarter",
    "SELECT quarter, orders, previous, coalesce(change_percent::text, '')"
    " FROM hotline_quarter($1::date)",
    1, 0};

int ctl_hotline(const config_t *cfg, int argc, char **argv)
{
    const char *month = NULL, *xlsx = NULL;
    bool as_json = false;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--month") && i + 1 < argc)
            month = argv[++i];
        else if (!strcmp(argv[i], "--xlsx") && i + 1 < argc)
            xlsx = argv[++i];
        else if (!strcmp(argv[i], "--json"))
            as_json = true;
        else {
            fprintf(stderr, "rectifyctl hotline: unexpected argument \"%s\" (try --help)\n",
                    argv[i]);
            return 2;
        }
    }
    int y, m;
    char tail;
    if (!month || strlen(month) != 7 || sscanf(month, "%4d-%2d%c", &y, &m, &tail) != 2 || m < 1 ||
        m > 12) {
        fprintf(stderr, "rectifyctl hotline: --month YYYY-MM is required\n");
        return 2;
    }
    char day[16], yellow[16], red[16], title[64];
    snprintf(day, sizeof day, "%04d-%02d-01", y, m);
    snprintf(yellow, sizeof yellow, "%lld", config_int(cfg, SET_hotline_yellow_percent));
    snprintf(red, sizeof red, "%lld", config_int(cfg, SET_hotline_red_percent));
    snprintf(title, sizeof title, "%04d年%d月承办单位热线办理情况", y, m);
    db_t *db = ctl_connect(cfg);
    if (!db)
        return 1;
    const char *params[] = {day, yellow, red};
    PGresult *res = db_run(db, &s_month, params, NULL, NULL);
    PGresult *q = res ? db_run(db, &s_quarter, params, NULL, NULL) : NULL;
    int status = 0;
    if (!res || !q) {
        fprintf(stderr, "rectifyctl hotline: %s\n", db_error(db));
        status = 1;
    } else {
        ctl_out_t out = {as_json, xlsx, "热线办理情况", title};
        if (as_json)
            printf("{\"month\": \"%.7s\", \"quarter\": {\"quarter\": \"%s\", \"orders\": %s,"
                   " \"previous\": %s, \"change_percent\": %s},\n\"units\":\n",
                   day, PQgetvalue(q, 0, 0), PQgetvalue(q, 0, 1), PQgetvalue(q, 0, 2),
                   *PQgetvalue(q, 0, 3) ? PQgetvalue(q, 0, 3) : "null");
        else if (!xlsx)
            printf("%s\n", title);
        status = ctl_emit(res, s_month_cols, NCOLS(s_month_cols), &out);
        if (as_json)
            printf("}\n");
        else if (!xlsx)
            printf("%s: 共受理热线工单 %s 件, 上季度 %s 件%s%s%s\n", PQgetvalue(q, 0, 0),
                   PQgetvalue(q, 0, 1), PQgetvalue(q, 0, 2), *PQgetvalue(q, 0, 3) ? ", 环比 " : "",
                   PQgetvalue(q, 0, 3), *PQgetvalue(q, 0, 3) ? "%" : "");
    }
    PQclear(res);
    PQclear(q);
    db_destroy(&db);
    return status;
}

/* --- the service levels and the working calendar -------------------------- */

static const db_stmt_t s_sla_list = {
    "ctl_sla_list",
    "SELECT category, CASE WHEN urgent THEN 'urgent' ELSE 'normal' END,"
    " CASE WHEN urgent THEN '紧急' ELSE '一般' END, take_min, contact_min, onsite_min,"
    " complete_min, reply_min, warn_percent, CASE WHEN calendar THEN 'working' ELSE 'wall' END,"
    " CASE WHEN calendar THEN '工作时间' ELSE '自然时间' END"
    " FROM order_sla ORDER BY category = '*' DESC, category, urgent",
    0, 0};
static const ctl_col_t s_sla_cols[] = {
    {"category", 0, "类别", 0, 0, 0},
    {"urgency", 1, "紧急程度", 2, 0, 0},
    {"take_min", 3, "接单(分)", 3, CTL_COL_NUMBER, 0},
    {"contact_min", 4, "先行联系(分)", 4, CTL_COL_NUMBER, 0},
    {"onsite_min", 5, "到场(分)", 5, CTL_COL_NUMBER, 0},
    {"complete_min", 6, "办结(分)", 6, CTL_COL_NUMBER, 0},
    {"reply_min", 7, "回复(分)", 7, CTL_COL_NUMBER, 0},
    {"warn_percent", 8, "预警%", 8, CTL_COL_NUMBER, 0},
    {"time", 9, "计时", 10, 0, 0},
};
/* $1 category, $2 urgent, $3..$8 minutes and percent ('' keeps), $9 calendar ('' keeps):
 * what is not given comes from the row as it is, else from the row of '*' */
static const db_stmt_t s_sla_set = {
    "ctl_sla_set",
    "INSERT INTO order_sla AS o (category, urgent, take_min, contact_min, onsite_min,"
    " complete_min, reply_min, warn_percent, calendar)"
    " SELECT $1, $2::bool, coalesce(nullif($3, '')::int, s.take_min),"
    " coalesce(nullif($4, '')::int, s.contact_min), coalesce(nullif($5, '')::int, s.onsite_min),"
    " coalesce(nullif($6, '')::int, s.complete_min), coalesce(nullif($7, '')::int, s.reply_min),"
    " coalesce(nullif($8, '')::int, s.warn_percent), coalesce(nullif($9, '')::bool, s.calendar)"
    " FROM order_sla_of($1, $2::bool) s"
    " ON CONFLICT (category, urgent) DO UPDATE SET take_min = excluded.take_min,"
    " contact_min = excluded.contact_min, onsite_min = excluded.onsite_min,"
    " complete_min = excluded.complete_min, reply_min = excluded.reply_min,"
    " warn_percent = excluded.warn_percent, calendar = excluded.calendar",
    9, 0};

static int s_minutes(const char *cmd, const char *opt, const char *v)
{
    char *end = NULL;
    long n = strtol(v, &end, 10);
    if (end == v || *end || n < 1 || n > 525600) {
        fprintf(stderr, "rectifyctl %s: %s: \"%s\" is not 1 .. 525600 minutes\n", cmd, opt, v);
        return 2;
    }
    return 0;
}

int ctl_sla(const config_t *cfg, int argc, char **argv)
{
    bool set = argc > 0 && !strcmp(argv[0], "set");
    if (argc > 0 && !set && strcmp(argv[0], "list")) {
        fprintf(stderr, "rectifyctl sla: list, or set CATEGORY [--urgent] [--take M] "
                        "[--contact M] [--onsite M] [--complete M] [--reply M] "
                        "[--warn-percent P] [--calendar | --wall]\n");
        return 2;
    }
    const char *v[9] = {NULL, "f", "", "", "", "", "", "", ""};
    static const char *const opts[] = {"--take",     "--contact", "--onsite",
                                       "--complete", "--reply",   "--warn-percent"};
    bool as_json = false;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        bool known = false;
        for (int k = 0; set && k < 6 && !known; k++)
            if (!strcmp(o, opts[k]) && i + 1 < argc) {
                v[2 + k] = argv[++i];
                known = true;
                if (k < 5 && s_minutes("sla set", o, v[2 + k]))
                    return 2;
            }
        if (known)
            continue;
        if (set && !strcmp(o, "--urgent"))
            v[1] = "t";
        else if (set && !strcmp(o, "--calendar"))
            v[8] = "t";
        else if (set && !strcmp(o, "--wall"))
            v[8] = "f";
        else if (!set && !strcmp(o, "--json"))
            as_json = true;
        else if (set && !v[0] && o[0] != '-')
            v[0] = o;
        else {
            fprintf(stderr, "rectifyctl sla: unexpected argument \"%s\" (try --help)\n", o);
            return 2;
        }
    }
    if (set && !v[0]) {
        fprintf(stderr, "rectifyctl sla set: name the category ('*' for every other)\n");
        return 2;
    }
    db_t *db = ctl_connect(cfg);
    if (!db)
        return 1;
    int status = 0;
    if (set && db_do(db, &s_sla_set, v) != 0) {
        fprintf(stderr, "rectifyctl sla set: %s\n", db_error(db));
        status = 1;
    }
    PGresult *res = status ? NULL : db_run(db, &s_sla_list, NULL, NULL, NULL);
    if (!status && !res) {
        fprintf(stderr, "rectifyctl sla: %s\n", db_error(db));
        status = 1;
    } else if (res) {
        ctl_out_t out = {as_json, NULL, NULL, NULL};
        status = ctl_emit(res, s_sla_cols, NCOLS(s_sla_cols), &out);
        if (set)
            printf("(clocks started from now on run on these; running ones keep theirs)\n");
    }
    PQclear(res);
    db_destroy(&db);
    return status;
}

static const db_stmt_t s_holiday_add = {
    "ctl_holiday_add",
    "INSERT INTO work_holiday (day, working, note) VALUES ($1::date, $2::bool, $3)"
    " ON CONFLICT (day) DO UPDATE SET working = excluded.working, note = excluded.note",
    3, 0};
static const db_stmt_t s_holiday_remove = {
    "ctl_holiday_remove", "DELETE FROM work_holiday WHERE day = $1::date RETURNING 1", 1, 0};
static const db_stmt_t s_holiday_list = {
    "ctl_holiday_list",
    "SELECT day::text, CASE WHEN working THEN 'working' ELSE 'holiday' END,"
    " CASE WHEN working THEN '调休上班' ELSE '放假' END, note FROM work_holiday ORDER BY day",
    0, 0};
static const ctl_col_t s_holiday_cols[] = {
    {"day", 0, "日期", 0, 0, 0},
    {"kind", 1, "安排", 2, 0, 0},
    {"note", 3, "说明", 3, 0, 30},
};

int ctl_holiday(const config_t *cfg, int argc, char **argv)
{
    const char *cmd = argc > 0 ? argv[0] : "list";
    const char *day = NULL, *note = "", *working = "f";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--working"))
            working = "t";
        else if (!strcmp(argv[i], "--note") && i + 1 < argc)
            note = argv[++i];
        else if (!day && argv[i][0] != '-')
            day = argv[i];
        else {
            fprintf(stderr, "rectifyctl holiday: unexpected argument \"%s\"\n", argv[i]);
            return 2;
        }
    }
    bool add = !strcmp(cmd, "add"), remove = !strcmp(cmd, "remove");
    int y, m, d;
    char tail;
    if ((add || remove) &&
        (!day || strlen(day) != 10 || sscanf(day, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)) {
        fprintf(stderr, "rectifyctl holiday %s: name the day, YYYY-MM-DD\n", cmd);
        return 2;
    }
    if (!add && !remove && strcmp(cmd, "list")) {
        fprintf(stderr, "rectifyctl holiday: add DAY [--working] [--note TEXT] | remove DAY | "
                        "list\n");
        return 2;
    }
    db_t *db = ctl_connect(cfg);
    if (!db)
        return 1;
    int status = 0;
    if (add) {
        const char *params[] = {day, working, note};
        if (db_do(db, &s_holiday_add, params) != 0) {
            fprintf(stderr, "rectifyctl holiday add: %s\n", db_error(db));
            status = 1;
        }
    } else if (remove) {
        PGresult *res = db_run(db, &s_holiday_remove, &day, NULL, NULL);
        if (!res || PQntuples(res) == 0) {
            fprintf(stderr, "rectifyctl holiday remove: %s\n",
                    res ? "no such day in the calendar" : db_error(db));
            status = 1;
        }
        PQclear(res);
    }
    PGresult *res = status ? NULL : db_run(db, &s_holiday_list, NULL, NULL, NULL);
    if (res) {
        ctl_out_t out = {0, NULL, NULL, NULL};
        status = ctl_emit(res, s_holiday_cols, NCOLS(s_holiday_cols), &out);
    } else if (!status) {
        fprintf(stderr, "rectifyctl holiday: %s\n", db_error(db));
        status = 1;
    }
    PQclear(res);
    db_destroy(&db);
    return status;
}
