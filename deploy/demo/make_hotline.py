#!/usr/bin/env python3
"""Generates the demo's day of 12345 hotline work orders in 黄浦区: Monday
2022-01-10, 08:00 to 20:00 Shanghai time (the orders still open at the end
of the day are completed the next morning), on the clocks of seed 001 (take
within 20 minutes, first contact within 2 hours, on site within 2 hours of
taking, the caller answered within 1 hour of completion).

    python3 deploy/demo/make_hotline.py        # from the repository root, or anywhere

writes, next to this script:

    hotline-units.jsonl   register_unit events (the hotline, the district, its
                          streets and its supervision office), sent by "admin"
    hotline-day.tsv       one event a line: "YYYY-MM-DD HH:MM<TAB>{json}", the
                          Shanghai time at which the hotline or the street posts it;
                          scripts/demo.sh sets the simulated clock to each
                          time and posts that time's events

Most orders go by the norms; 豫园街道 is slow to take and to answer, one
caller complains five times about the same building site (a repeat case),
one order is paused for the caller, one extended, one transferred, one
returned, and two callers are dissatisfied (their orders reopen). Python 3
standard library only; deterministic (event ids are uuid5 of stable keys).
"""
import hashlib
import json
import os
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://rectify.example.gov.cn/demo/hotline")
HOTLINE = "sh-12345"
STREETS = [("hp-nanjing-east", "南京东路街道"), ("hp-waitan", "外滩街道"), ("hp-yuyuan", "豫园街道")]
SLOW = "hp-yuyuan"
DAY_MS = 1641772800000  # 2022-01-10T00:00:00Z = 08:00 in Shanghai


def eid(*key):
    return str(uuid.uuid5(NAMESPACE, "/".join(str(k) for k in key)))


def caller(n):
    """What a hotline sends: a salted digest, never the number."""
    return hashlib.sha256(f"demo-salt/1380000{n:04d}".encode()).hexdigest()


def units():
    rows = [
        (HOTLINE, "上海市12345市民服务热线", None, "HOTLINE"),
        ("sh-huangpu", "黄浦区", None, "UNIT"),
        ("sh-huangpu.team", "黄浦区热线督办组", "sh-huangpu", "SUPERVISION_OFFICE"),
    ] + [(code, name, "sh-huangpu", "UNIT") for code, name in STREETS]
    for code, name, parent, role in rows:
        ev = {"code": code, "name": name, "role": role}
        if parent:
            ev["parent"] = parent
        yield {"event_id": eid("unit", code), "unit": "admin", "register_unit": ev}


PLACES = ["南京东路300号", "九江路120号", "中山东一路18号", "福州路88号", "方浜中路200号",
          "河南南路15号", "四川中路33号", "人民路500号", "丽水路66号", "延安东路10号"]
CATEGORIES = ["noise", "garbage", "illegal-building", "noise", "garbage"]
TEXTS = {"noise": "夜间施工噪声扰民", "garbage": "沿街垃圾堆放未清运",
         "illegal-building": "小区内违法搭建", "structure-damage": "装修破坏承重墙"}


def day():
    events = []  # (minute of the day from 08:00, json)

    def at(minute, sender, kind, body):
        events.append((minute, {"event_id": eid(kind, len(events), body.get("order_id")),
                                "unit": sender, kind: body}))

    def move(minute, sender, order, step, **extra):
        at(minute, sender, "move_order", dict({"order_id": order, "step": step}, **extra))

    for i in range(40):
        order = f"12345-20220110-{i + 1:04d}"
        t = 10 * (i * 71 // 40)  # received between 08:00 and about 19:50, on the 10-minute grid
        street, _ = STREETS[i % 3]
        repeat = i % 8 == 3  # one caller about one building site, five times
        place = "方浜中路200号工地" if repeat else f"{PLACES[i % len(PLACES)]}{101 + i}室"
        category = "noise" if repeat else CATEGORIES[i % len(CATEGORIES)]
        who = 1000 if repeat else i
        at(t, HOTLINE, "post_order",
           {"order_id": order, "received_ms": DAY_MS + t * 60000, "channel": "PHONE",
            "caller_hash": caller(who), "address": place, "category": category,
            "text": TEXTS[category], "urgency": "NORMAL"})
        slow = street == SLOW
        if i == 7:  # not the street's matter: returned, dispatched again
            move(t + 10, HOTLINE, order, "DISPATCH", unit=street)
            move(t + 20, street, order, "RETURN", reason="不属本街道职责, 系物业管理范围")
            street = STREETS[(i + 1) % 3][0]
            slow = street == SLOW
            t += 30
            move(t, HOTLINE, order, "DISPATCH", unit=street)
        elif i == 12:  # across the street line: transferred
            move(t + 10, HOTLINE, order, "DISPATCH", unit=street)
            street = STREETS[(i + 2) % 3][0]
            slow = street == SLOW
            t += 20
            move(t, HOTLINE, order, "TRANSFER", unit=street, reason="地址位于相邻街道辖区")
        else:
            t += 10
            move(t, HOTLINE, order, "DISPATCH", unit=street)
        take = t + (40 if slow and i % 2 == 0 else 10)
        move(take, street, order, "TAKE")
        contact = take + (150 if slow and i % 4 == 1 else 30)
        move(contact, street, order, "CONTACT", note="已电话联系投诉人")
        arrive = max(take + 60, contact + 10)
        if i == 20:  # the caller is away: paused with an approver, resumed
            move(contact + 10, street, order, "PAUSE", reason="投诉人外出, 约定明日上门",
                 approver="街道城管中队 王队长")
            arrive = contact + 160
            move(arrive - 10, street, order, "RESUME")
        move(arrive, street, order, "ARRIVE", note="到场核实")
        if i == 25:  # needs another department: extended
            move(arrive + 20, street, order, "EXTEND", minutes=2880,
                 reason="需规划资源部门认定违建", approver="区城管执法局 李处长")
        done = arrive + 120
        if done > 12 * 60 - 20:
            # still being handled at the end of the day: done the next morning
            done = 25 * 60 + 10 * (i % 6)
        move(done, street, order, "COMPLETE", note="已责令整改")
        reply = done + (90 if slow and i % 3 == 2 else 20)
        move(reply, street, order, "REPLY")
        satisfaction = "DISSATISFIED" if i in (5, 17) else (
            "BASICALLY_SATISFIED" if i % 5 == 4 else "SATISFIED")
        move(reply + 10, HOTLINE, order, "CLOSE", satisfaction=satisfaction)
    events.sort(key=lambda e: e[0])
    return events


def main():
    with open(os.path.join(HERE, "hotline-units.jsonl"), "w", encoding="utf-8") as f:
        for ev in units():
            f.write(json.dumps(ev, ensure_ascii=False) + "\n")
    with open(os.path.join(HERE, "hotline-day.tsv"), "w", encoding="utf-8") as f:
        for minute, ev in day():
            day_no, rest = divmod(8 * 60 + minute, 24 * 60)
            hh, mm = divmod(rest, 60)
            f.write(f"2022-01-{10 + day_no:02d} {hh:02d}:{mm:02d}\t"
                    + json.dumps(ev, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
