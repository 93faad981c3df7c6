#!/usr/bin/env python3
"""Generates seed 001's demo data: the units, the rectification plan and the
lifecycle of the campaign of 上海市城市管理行政执法局 after the inspection of
市委第六巡视组 (source: shared/seeds/001_de056b3448ae8128.txt beside the repository, the public
bulletin 关于巡视整改进展情况的通报).

    python3 deploy/demo/make_seed001.py        # from the repository root, or anywhere

writes, next to this script:

    seed001-units.jsonl     register_unit events, sent by "admin"
    seed001-plan.csv        the plan, one row per measure (the columns plan_csv.h reads)
    seed001-progress.jsonl  start / progress / submission / write-off / rejection,
                            accountability, institutions, and the look-back of 2021-10-20

and checks the bulletin's figures on the result. seed001-round.jsonl (the round
and its 11 problems) is read, never written. Python 3 standard library only;
the output is deterministic: event ids are uuid5(NAMESPACE, stable key), so
posting a file twice gives DUPLICATE answers, not new effects.

Order of posting: units, round, plan (import_plan from the CSV), progress.
"""
import collections
import csv
import datetime
import decimal
import hashlib
import io
import json
import os
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROUND = "2020-sh-xs6-cgzf"
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://rectify.example.gov.cn/demo/seed001")
OA = "https://oa.example.gov.cn/rectify/" + ROUND

FIX, SPECIAL, LONG = "FIX_NOW", "SPECIAL_CAMPAIGN", "LONG_TERM"
TRACK_CN = {FIX: "立行立改", SPECIAL: "专项整治", LONG: "长期推进"}

ADMIN = "admin"
TARGET = "sh-cgzf"
TEAM = "sh-cgzf.rectify-team"
DISCIPLINE = "sh-cgzf.discipline"

# --- Units ---------------------------------------------------------------------
# (code, name, parent, role); parents before children.
UNITS = [
    ("sh-inspection-office", "市委巡视工作领导小组办公室", "", "INSPECTION_OFFICE"),
    ("sh-cgzf", "上海市城市管理行政执法局", "", "UNIT"),
    ("sh-cgzf.office", "办公室", "sh-cgzf", "UNIT"),
    ("sh-cgzf.law", "法制处", "sh-cgzf", "UNIT"),
    ("sh-cgzf.guide", "执法指导处", "sh-cgzf", "UNIT"),
    ("sh-cgzf.oversight", "执法监督处", "sh-cgzf", "UNIT"),
    ("sh-cgzf.personnel", "组织人事处", "sh-cgzf", "UNIT"),
    ("sh-cgzf.party", "机关党委", "sh-cgzf", "UNIT"),
    ("sh-cgzf.publicity", "宣传教育处", "sh-cgzf", "UNIT"),
    ("sh-cgzf.finance", "计划财务处", "sh-cgzf", "UNIT"),
    ("sh-cgzf.corps", "执法总队", "sh-cgzf", "UNIT"),
    (TEAM, "巡视整改工作专班", "sh-cgzf", "SUPERVISION_OFFICE"),
    (DISCIPLINE, "驻局纪检监察组", "sh-cgzf", "SUPERVISION_OFFICE"),
]

# --- The plan --------------------------------------------------------------------
# Lead leaders are positions, not persons.
L_SEC = "局党组书记、局长"
L_DEP = "局党组成员、副局长"
L_PARTY = "局党组成员、机关党委书记"
L_DIS = "驻局纪检监察组组长"

DL_LONG = "2021-12-31"
DL_SPECIAL = "2021-06-30"

# (problem, item id, item title, track, deadline, lead leader,
#  [(measure title, responsible department suffix), ...])
# The items follow the bulletin's "一是……二是……" points under each problem
# (31 points); problem 4.1 has no numbered points and is split in two
# (complaint handling / special enforcement actions), which makes 32.
PLAN = [
    ("1.1", "1.1.1", "深化对城管执法在城市治理现代化中重要作用的认识,加强统筹谋划", FIX, "2021-04-30", L_SEC, [
        ("召开党组理论学习中心组学习会,扎实组织党史学习教育", "office"),
        ("召开巡视整改专题民主生活会,对照反馈意见查摆问题、剖析原因", "personnel"),
        ("制定“十四五”规划和精细化三年行动计划,局领导带队督导调研16个区局", "office"),
    ]),
    ("1.1", "1.1.2", "加强城管体制改革研究,解决改革中遇到的新情况新问题", LONG, DL_LONG, L_SEC, [
        ("制定落实街道乡镇管理体制改革实施意见的工作方案,推动街镇综合执法改革", "office"),
        ("会同有关单位制定加强街道乡镇综合行政执法队伍建设的实施意见", "personnel"),
        ("研究报送《上海市城市管理行政执法条例》及其《实施办法》修订草案", "law"),
    ]),
    ("1.1", "1.1.3", "有效推进城管执法领域“双随机、一公开”工作", FIX, "2021-04-15", L_DEP, [
        ("召开“双随机、一公开”模块运行推进会,定期检查通报各区应用情况", "guide"),
        ("制定《进一步做好“双随机、一公开”监管工作实施意见》", "guide"),
        ("将“双随机、一公开”工作纳入2021年度区局重点工作绩效考核评分细则", "guide"),
    ]),
    ("1.1", "1.1.4", "落实市级行业管理部门责任,提升业务指导和统筹协调能力", FIX, "2021-04-30", L_DEP, [
        ("会同相关部门制定加强街道乡镇综合行政执法工作的实施意见", "guide"),
        ("规范街镇综合执法行为,依法确定赋权执法事项,完善管辖权限界定移送", "law"),
        ("厘清区城管执法局和执法大队职能,优化内设机构设置", "personnel"),
    ]),
    ("1.2", "1.2.1", "牢固树立“执法为民”意识,推动解决城市管理难题顽症", SPECIAL, DL_SPECIAL, L_DEP, [
        ("分析梳理近年来市民群众投诉情况,把握市民诉求,明确工作方向路径", "guide"),
        ("制定街面环境分级分类执法管控工作方案,组织专题培训和现场推进会", "guide"),
        ("全面采集更新沿街商户等执法对象监管信息,完善执法对象监管系统", "guide"),
    ]),
    ("1.2", "1.2.2", "紧扣群众痛点难点,提高市民对城管执法投诉处置满意度", SPECIAL, DL_SPECIAL, L_DEP, [
        ("开展2021年住宅小区环境专项执法行动,依法查处违法搭建等违章现象", "guide"),
        ("召开住宅物业管执联动现场推进会,建立物业企业扣分降级、信用惩戒机制", "guide"),
        ("召开全系统信访工作会议,将重复信访治理和群众满意度纳入绩效考核", "office"),
        ("健全市民投诉快速反应机制,落实24小时受理、20分钟内接单等规范", "oversight"),
    ]),
    ("1.3", "1.3.1", "运用法治思维和法治方式,提升基层依法行政能力", FIX, "2021-04-15", L_DEP, [
        ("修订《上海市城市管理综合行政执法程序规定》,细化管辖、审核、取证等内容", "law"),
        ("建立复议应诉工作约谈制度,发布2020年度行政复议及行政应诉情况通报", "law"),
        ("印发2021年队伍业务培训方案,开设习近平法治思想专题课", "personnel"),
    ]),
    ("1.3", "1.3.2", "加大重大执法决定法制审核力度,提高法核占比和持证人员在岗率", FIX, "2021-04-30", L_DEP, [
        ("修订重大执法决定法制审核办法,将拆违责拆决定纳入重大法核", "law"),
        ("区局绩效考核专设“重大法核”指标,每季度抽查不少于50家基层中队", "law"),
        ("持法律职业资格证书人员“一人一档”归口管理,公职律师参与法核纳入考核", "law"),
    ]),
    ("1.3", "1.3.3", "严格执法规范,降低行政复议纠错率、行政诉讼败诉率", SPECIAL, DL_SPECIAL, L_DEP, [
        ("印发降低复议纠错诉讼败诉率的通知,推行负责人出庭应诉“三合一”制度", "law"),
        ("坚持源头治理和管执联动,杜绝运动式、突击式集中执法整治", "guide"),
        ("对首次轻微违法行为推行指导、建议、提醒、劝告等非强制性执法", "guide"),
    ]),
    ("1.3", "1.3.4", "注重执法全流程管控,强化执法源头监督和办案规范监督", SPECIAL, DL_SPECIAL, L_DEP, [
        ("印发《上海市城管执法系统2021年执法监督工作方案》,完善全流程监督举措", "oversight"),
        ("起草《关于进一步加强城管执法监督工作的实施意见》", "oversight"),
        ("3万元以上案件全流程检查、一般程序案件抽查不少于0.1%,开展线上督察", "oversight"),
    ]),
    ("1.3", "1.3.5", "严格责任追究,推动严格规范公正文明执法", FIX, "2021-04-30", L_DEP, [
        ("制定《上海市城市管理综合行政执法责任制规定》", "law"),
        ("建立约谈和执法监督建议制度,对多起败诉单位制发《执法监督建议书》", "oversight"),
        ("将诉讼、复议典型案例剖析列入业务培训必修内容,加强警示教育", "personnel"),
    ]),
    ("2.1", "2.1.1", "严格落实党组主体责任,健全党风廉政建设责任制检查考核机制", FIX, "2021-03-31", L_SEC, [
        ("建立党风廉政建设责任制检查考核制度,明确评价标准、内容、方法和程序", "party"),
        ("落实述职述廉工作实施意见,将落实党风廉政建设责任制作为述职述廉重要内容", "personnel"),
        ("班子成员签订党风廉政职责承诺书,开展廉政谈话和节假日风险警示", "party"),
    ]),
    ("2.1", "2.1.2", "完善廉政风险防控机制,规范执法队伍守法履职", SPECIAL, DL_SPECIAL, L_DEP, [
        ("开展2021年作风纪律教育整顿活动,重点抓好六类突出问题整改", "personnel"),
        ("通报全市城管执法人员违纪违法案件,将廉政警示教育列入各类培训计划", "party"),
        ("修订队伍规范化建设规定,将“违法违纪”纳入中队创建考核细则", "guide"),
    ]),
    ("2.2", "2.2.1", "落实全面从严治党主体责任,压紧压实管党治党责任链条", FIX, "2021-03-31", L_SEC, [
        ("与驻市建设交通工作党委纪检监察组建立定期会商机制,制定联席会议实施办法", "party"),
        ("制定局党组、党组书记、班子其他成员履行全面从严治党主体责任台账", "party"),
        ("印发2021年局机关党建和党风廉政建设工作要点", "party"),
    ]),
    ("2.2", "2.2.2", "严格程序规范,把日常管理监督落到实处", FIX, "2021-03-31", L_DEP, [
        ("推荐评优评先人选时征求驻在纪检监察组廉政意见,把牢廉洁关", "personnel"),
        ("处分影响期内获得的先进奖励不记入个人档案,不作为考核、晋升依据", "personnel"),
    ]),
    ("2.2", "2.2.3", "规范信访举报件处置流程,强化信访件过程管理", FIX, "2021-04-15", L_DIS, [
        ("制订《问题线索处置流程规范》,明确归口管理、登记归档、移交办理要求", "party"),
        ("对信访件受理、流转、承办、归档实行“闭环”管理,做到件件有着落", "office"),
        ("对信访件处置不规范问题严肃批评有关人员,查找不足、提出改进方向", "party"),
    ]),
    ("2.3", "2.3.1", "严格执行中央八项规定精神,加强新闻宣传经费使用管理", FIX, "2021-03-31", L_DEP, [
        ("制定《上海市城市管理行政执法局新闻宣传工作管理办法》", "publicity"),
        ("组织宣传工作专题培训,对宣传管理办法和相关纪律再强调、再部署", "publicity"),
        ("对违规发放补贴问题,对相关负责人进行批评教育", "publicity"),
    ]),
    ("2.3", "2.3.2", "坚持统一管理、专款专用,严格规范培训经费支出", FIX, "2021-04-15", L_DEP, [
        ("修订《上海市城管执法系统教育培训管理规定》,严格区分会议与培训", "personnel"),
        ("建立培训计划编报和审批制度,开展培训评估和执行情况监督检查", "personnel"),
        ("对违规从培训费中列支会议费用问题,对相关负责人进行提醒谈话", "finance"),
    ]),
    ("2.3", "2.3.3", "规范招标项目采购,防范廉政风险", SPECIAL, DL_SPECIAL, L_DEP, [
        ("对涉嫌围标串标项目开展初步核实,函告主管部门并配合调查核实", "finance"),
        ("将投标方代理人社保证明纳入招标需求,加强投标公司资质审查", "finance"),
        ("邀请专业人士解读采购招标制度规定,增强风险防范意识", "finance"),
        ("对代理采购中未尽审查责任的有关单位负责人进行提醒谈话", "finance"),
    ]),
    ("3.1", "3.1.1", "规范“三重一大”事项议事决策和监督程序", FIX, "2021-03-31", L_SEC, [
        ("修订完善局党组贯彻“三重一大”制度实施细则,明确议事范围和决策形式", "office"),
        ("5万元以上采购项目一律经党组会审议,加强资金使用监督管理", "finance"),
        ("落实上会议题“五步审核”流程,征求局纪检部门意见后报党组书记审定", "office"),
    ]),
    ("3.1", "3.1.2", "规范培训讲课费管理使用", FIX, "2021-03-31", L_SEC, [
        ("严格落实局机关干部外出授课管理规定,在本单位及执法对象单位授课不取酬", "personnel"),
        ("领导干部个人事项报告、非领导干部组织生活会如实报告领取授课费情况", "personnel"),
        ("违规领取讲课费的领导干部对照检查、退回讲课费,给予诫勉谈话", "personnel"),
    ]),
    ("3.2", "3.2.1", "加强机关党支部标准化、规范化建设", FIX, "2021-04-15", L_PARTY, [
        ("达到7名党员的支部一律设立支部委员会,优化机关党组织设置", "party"),
        ("启动机关支部换届改选,召开党员大会选举产生支部委员会", "party"),
        ("召开机关党委扩大会议,研究年度纪检、工会和团支部工作", "party"),
    ]),
    ("3.2", "3.2.2", "加大对城管执法系统行业党建工作的指导力度", SPECIAL, DL_SPECIAL, L_PARTY, [
        ("成立系统行业党建工作领导小组,印发高质量推进行业党建工作指导意见", "party"),
        ("查纠“不具有城管身份人员担任支部书记”,推动街镇执法队建立独立党支部", "party"),
        ("将党的建设纳入区局重点工作绩效考核,作为一级指标赋予6分分值", "party"),
    ]),
    ("3.2", "3.2.3", "严格纪律规矩,建设廉政勤政的党员干部队伍", FIX, "2021-04-30", L_PARTY, [
        ("梳理分析近5年全系统违法违纪案件,形成违纪违法情况报告并提出对策", "party"),
        ("定期向各区城管执法局、街道乡镇通报全系统违法违纪案件", "party"),
        ("对发生违纪违法案件的区局考核扣分,取消4家中队“示范中队”“规范化中队”称号", "guide"),
    ]),
    ("3.3", "3.3.1", "营造拴心留人环境,加强干部关心关爱", FIX, "2021-04-15", L_PARTY, [
        ("梳理分析局机关干部离职情况,研究制定干部关心关爱对策措施", "personnel"),
        ("开展干部思想状况分析交流,党员领导干部主动开展谈心谈话", "party"),
        ("落实生病住院、结婚生育、离岗退休慰问等措施,定期开展文体活动", "party"),
    ]),
    ("3.3", "3.3.2", "加强机关干部梯队建设", FIX, "2021-04-30", L_SEC, [
        ("对照正处级岗位任职条件向上级党委提出选任人选,逐步配齐处室正职", "personnel"),
        ("拓宽干部来源渠道,加大外部引进与系统内部选拔力度", "personnel"),
        ("启动职级晋升工作,选调5名基层干部到市局挂职锻炼", "personnel"),
    ]),
    ("3.3", "3.3.3", "加大年轻干部培养使用力度", SPECIAL, DL_SPECIAL, L_SEC, [
        ("开展正处级后备干部推荐,制订副处级后备干部推荐方案并调整名单", "personnel"),
        ("指导执法总队制定副科级后备干部选拔方案", "corps"),
        ("结合水域执法事项划转,从水管处执法人员中定向招录,充实执法总队力量", "corps"),
        ("制订加强年轻干部培训工作的实施方案,依托进博会、花博会保障搭建成长平台", "personnel"),
    ]),
    ("3.3", "3.3.4", "加大高素质专业人才引进培养储备力度", LONG, DL_LONG, L_SEC, [
        ("研究制订《上海城管执法系统“十四五”人才发展规划》", "personnel"),
        ("引进“双一流”高校优秀毕业生,开展社会公开招录专业紧缺人才", "personnel"),
        ("建立健全“三支队伍”培养机制,形成适应事业发展需求的人才培养体系", "personnel"),
    ]),
    ("3.4", "3.4.1", "牢固树立鼓励干部担当作为的用人导向", FIX, "2021-04-30", L_SEC, [
        ("系统梳理5年来提拔的处、科级干部表现,分析担当精神欠缺的原因", "personnel"),
        ("研究制定《激励担当作为实行容错纠错指导意见》", "personnel"),
        ("加大优秀城管队员和城管故事宣传,践行上海城管职业精神", "publicity"),
    ]),
    ("3.4", "3.4.2", "推广使用“执法全过程记录后台管理系统”", SPECIAL, DL_SPECIAL, L_DEP, [
        ("研究制定系统推广使用技术改造方案和与各区现有系统的对接方案", "guide"),
        ("完成系统接口开发,与15个区城管执法局后台管理系统实现连接", "guide"),
        ("推广执法文书关联管理、音视频电子证据管理、工作站管理等功能", "guide"),
        ("对工作不盯不推、作风不实问题,责成相关单位作出书面检查", "guide"),
    ]),
    ("4.1", "4.1.1", "规范投诉处置,加大对市民重复投诉件的督查督办力度", LONG, DL_LONG, L_SEC, [
        ("制定《关于进一步加强投诉处置工作的实施意见》,实现“一个文件管投诉”", "oversight"),
        ("制定《2021年市民诉件办理考核评分细则》,加大重复投诉件考核力度", "oversight"),
        ("建立重复诉件数据库,推行销项管理,逐项推进、逐件办理、逐一落实", "oversight"),
        ("召开全市投诉处置工作推进会,总结推广先进经验", "oversight"),
    ]),
    ("4.1", "4.1.2", "开展专项执法行动,解决市民群众关切的城市环境问题", SPECIAL, DL_SPECIAL, L_DEP, [
        ("开展街面环境、住宅小区、建筑垃圾、生活垃圾、农贸市场等专项执法行动", "guide"),
        ("开展联合执法整治行动,依法查处违法违规案件、拆除违法建筑", "corps"),
    ]),
]

# One measure in each long-term item stays open (started, reports progress,
# not submitted): 99 measures, 96 completed.
OPEN_MEASURES = {
    "1.1.2-3": [
        ("2021-04-20", "《上海市城市管理行政执法条例》及其《实施办法》修订草案已研究报送,配合立法部门开展调研论证。"),
        ("2021-06-18", "根据立法部门意见修改完善修订草案,就街镇综合执法相关条款征求各区意见。"),
        ("2021-07-16", "修订草案进入立法审查程序,持续跟进,保障城市管理综合执法改革。"),
    ],
    "3.3.4-3": [
        ("2021-04-20", "结合队伍状况、分布结构和质量水平,研究“三支队伍”培养机制框架。"),
        ("2021-06-18", "发挥专项招录、身份调整优势,形成“三支队伍”培养机制初稿,征求各区局意见。"),
        ("2021-07-16", "“三支队伍”培养机制与“十四五”人才发展规划衔接,持续推进人才引进和培养体系建设。"),
    ],
    "4.1.1-3": [
        ("2021-04-20", "重复诉件数据库已建立,截至一季度末已办结销项重复投诉280件,办结率50.2%。"),
        ("2021-06-18", "对剩余重复诉件逐件明确责任单位和办结时限,按月督查督办、销项管理。"),
        ("2021-07-16", "重复诉件继续逐项推进、逐件办理,纳入2021年市民诉件办理考核,确保件件有着落。"),
    ],
}
# Course correction (纠偏): submitted, rejected with a reason, submitted again, written off.
REJECTED_MEASURE = "3.1.1-1"
REJECT_REASON = ("报送材料仅有实施细则修订稿,缺少党组会审议通过的会议纪要和正式印发文件,"
                 "不能证明整改已落实到位,请补充后重新报送。")
# Look-back (回头看) of 2021-10-20: every written-off item passes but this one.
LOOK_BACK_DATE = "2021-10-20"
RELAPSED_ITEM = "1.2.2"
RELAPSE_FINDING = ("问题反弹:回头看抽查发现,部分区三季度市民投诉处置未落实“接单后2小时内到场处置”要求,"
                   "住宅小区违法搭建重复投诉回升,管执联动机制落实不到位,需重新整改。")

# --- Accountability (seed: 诫勉谈话1人; 提醒谈话、批评教育、书面检查等组织处理4人; 退出违规钱款0.20万元)
# (action id, kind, persons, amount_yuan or "", the measure it belongs to)
ACCOUNTABILITY = [
    ("A1", "ADMONISHMENT_TALK", 1, "2000.00", "3.1.2-3"),    # 违规领取讲课费, 退回讲课费
    ("A2", "CRITICISM", 1, "", "2.3.1-3"),                   # 新闻宣传: 违规发放补贴
    ("A3", "REMINDER_TALK", 1, "", "2.3.2-3"),               # 培训费中列支会议费用
    ("A4", "REMINDER_TALK", 1, "", "2.3.3-4"),               # 代理采购未尽审查责任
    ("A5", "WRITTEN_SELF_CRITICISM", 1, "", "3.4.2-4"),      # 工作不盯不推、作风不实
]

# --- Institutions: the 《…》 documents of the seed (19 new, 7 revised, 3 planned)
# (title, kind, the measure it belongs to); ids I01… in this order.
INSTITUTIONS = [
    ("上海市城管综合执法“十四五”规划", "NEW", "1.1.1-3"),
    ("上海市城管执法精细化三年行动计划(2021-2023年)", "NEW", "1.1.1-3"),
    ("市城管执法局关于落实〈关于完善街道乡镇管理体制整合街道乡镇管理服务资源的实施意见〉工作方案", "NEW", "1.1.2-1"),
    ("关于进一步加强本市街道乡镇综合行政执法队伍建设的实施意见", "NEW", "1.1.2-2"),
    ("上海市城市管理行政执法条例", "PLANNED", "1.1.2-3"),
    ("上海市城市管理行政执法条例实施办法", "PLANNED", "1.1.2-3"),
    ("进一步做好“双随机、一公开”监管工作实施意见", "NEW", "1.1.3-2"),
    ("2021年度区城管执法部门重点工作绩效考核评分细则", "REVISED", "1.1.3-3"),
    ("关于进一步加强本市街道乡镇综合行政执法工作的实施意见", "NEW", "1.1.4-1"),
    ("本市街面环境分级分类执法管控工作方案", "NEW", "1.2.1-2"),
    ("上海市城市管理综合行政执法程序规定", "REVISED", "1.3.1-1"),
    ("上海市城市管理综合行政执法重大执法决定法制审核办法", "REVISED", "1.3.2-1"),
    ("关于进一步规范执法办案降低复议纠错诉讼败诉率的通知", "NEW", "1.3.3-1"),
    ("上海市城管执法系统2021年执法监督工作方案", "NEW", "1.3.4-1"),
    ("关于进一步加强城管执法监督工作的实施意见", "PLANNED", "1.3.4-2"),
    ("上海市城市管理综合行政执法责任制规定", "NEW", "1.3.5-1"),
    ("上海市城市管理综合行政执法队伍规范化建设规定", "REVISED", "2.1.2-3"),
    ("市纪委监委驻市建设交通工作党委纪检监察组市城管执法局党组党风廉政建设联席会议制度实施办法", "NEW", "2.2.1-1"),
    ("局党组、党组书记、领导班子其他成员履行全面从严治党主体责任台账", "NEW", "2.2.1-2"),
    ("问题线索处置流程规范", "NEW", "2.2.3-1"),
    ("上海市城市管理行政执法局新闻宣传工作管理办法", "NEW", "2.3.1-1"),
    ("上海市城管执法系统教育培训管理规定", "REVISED", "2.3.2-1"),
    ("局党组贯彻“三重一大”制度实施细则", "REVISED", "3.1.1-1"),
    ("关于高质量推进本市城管执法系统行业党建工作的指导意见", "NEW", "3.2.2-1"),
    ("关于进一步加强年轻干部培训工作的实施方案", "NEW", "3.3.3-4"),
    ("上海城管执法系统“十四五”人才发展规划", "NEW", "3.3.4-1"),
    ("激励担当作为实行容错纠错指导意见", "NEW", "3.4.1-2"),
    ("关于进一步加强投诉处置工作的实施意见", "NEW", "4.1.1-1"),
    ("2021年市民诉件办理考核评分细则", "REVISED", "4.1.1-2"),
]

# --- The bulletin's figures ---------------------------------------------------------
BULLETIN = {
    "items": 32, "items_rectified": 29,
    "measures": 99, "measures_completed": 96,
    "admonishment_persons": 1, "other_handling_persons": 4, "funds_yuan": decimal.Decimal("2000.00"),
    "new": 19, "revised": 7, "planned": 3,
}

# --- Dates ---------------------------------------------------------------------
D = datetime.date
# 2021 public holidays that fall on weekdays (春节, 清明, 劳动节, 端午); weekends are off too.
HOLIDAYS = {D(2021, 2, 11), D(2021, 2, 12), D(2021, 2, 15), D(2021, 2, 16), D(2021, 2, 17),
            D(2021, 4, 5), D(2021, 5, 3), D(2021, 5, 4), D(2021, 5, 5), D(2021, 6, 14)}
FIRST_DAY, LAST_DAY = D(2021, 2, 1), D(2021, 7, 20)


def day(s):
    return datetime.date.fromisoformat(s)


def is_bd(d):
    return d.weekday() < 5 and d not in HOLIDAYS


def bd_add(d, n):
    """n business days after d (n = 0: d itself, moved forward to a business day)."""
    while not is_bd(d):
        d += datetime.timedelta(days=1)
    for _ in range(n):
        d += datetime.timedelta(days=1)
        while not is_bd(d):
            d += datetime.timedelta(days=1)
    return d


def bd_sub(d, n):
    """n business days before d (n = 0: d itself, moved back to a business day)."""
    while not is_bd(d):
        d -= datetime.timedelta(days=1)
    for _ in range(n):
        d -= datetime.timedelta(days=1)
        while not is_bd(d):
            d -= datetime.timedelta(days=1)
    return d


def h(key, mod):
    """A stable small number from a key (no random module: identical on every run)."""
    return int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:8], 16) % mod


# --- Events -----------------------------------------------------------------------
def event_id(key):
    return str(uuid.uuid5(NAMESPACE, key))


def envelope(key, unit, name, body):
    return {"event_id": event_id("seed001/" + key), "unit": unit, name: body}


def evidence(title, task_id, what):
    return [{"title": title,
             "sha256": hashlib.sha256(title.encode("utf-8")).hexdigest(),
             "uri": "%s/%s/%s.pdf" % (OA, task_id, what)}]


def dumps(obj):
    return json.dumps(obj, ensure_ascii=False)


def load_round():
    """The problems of seed001-round.jsonl: {problem_id: aspect}, in file order."""
    problems = collections.OrderedDict()
    with open(os.path.join(HERE, "seed001-round.jsonl"), encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            ev = json.loads(line)
            if "open_round" in ev:
                assert ev["open_round"]["round_id"] == ROUND
                assert ev["open_round"]["target_unit"] == TARGET
            if "post_problem" in ev:
                p = ev["post_problem"]
                assert p["round_id"] == ROUND
                problems[p["problem_id"]] = p["aspect"]
    return problems


def build_plan(problems):
    """Items and measures, checked: [{id, problem, title, track, deadline, lead, measures: [...]}]."""
    items, seen = [], set()
    unit_codes = {u[0] for u in UNITS if u[3] == "UNIT"}
    for problem, iid, ititle, track, deadline, lead, measures in PLAN:
        assert problem in problems, problem
        assert iid.startswith(problem + ".") and iid not in seen, iid
        assert len(ititle) <= 40, (iid, len(ititle))
        assert measures, iid
        seen.add(iid)
        item = {"id": iid, "problem": problem, "aspect": problems[problem], "title": ititle,
                "track": track, "deadline": deadline, "lead": lead, "measures": []}
        for n, (mtitle, dept) in enumerate(measures, 1):
            mid = "%s-%d" % (iid, n)
            unit = "sh-cgzf." + dept
            assert unit in unit_codes and unit.startswith(TARGET + "."), unit
            assert len(mtitle) <= 50, (mid, len(mtitle))
            assert "\n" not in mtitle and "\n" not in ititle
            item["measures"].append({"id": mid, "title": mtitle, "unit": unit, "item": item})
        item["unit"] = item["measures"][0]["unit"]
        if track == LONG:
            assert deadline == DL_LONG
        elif track == SPECIAL:
            assert deadline == DL_SPECIAL
        else:
            assert "2021-03-31" <= deadline <= "2021-04-30", (iid, deadline)
        items.append(item)
    return items


def write_units():
    out, known = [], set()
    for code, name, parent, role in UNITS:
        assert not parent or parent in known, code  # parents before children
        known.add(code)
        body = {"code": code, "name": name}
        if parent:
            body["parent"] = parent
        body["role"] = role
        out.append(envelope("register_unit/" + code, ADMIN, "register_unit", body))
    return out


def write_plan_csv(items):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(["方面", "问题", "整改事项", "整改措施", "牵头领导", "责任单位", "整改时限", "类别"])
    for it in items:
        for m in it["measures"]:
            w.writerow([it["aspect"], it["problem"], it["id"] + " " + it["title"],
                        m["id"] + " " + m["title"], it["lead"], m["unit"], it["deadline"],
                        TRACK_CN[it["track"]]])
    return buf.getvalue()


def schedule(items):
    """Dates of every step of every task: fills m["start"], m["progress"] [(date, text)],
    m["submits"] [date, ...], m["reject"], m["close"]; it["start"], it["submit"], it["close"]."""
    for i, it in enumerate(items):
        it["start"] = bd_add(D(2021, 2, 3), i % 10)
        dl = day(it["deadline"])
        if it["track"] == FIX:
            window = bd_sub(dl, 4)
        elif it["track"] == SPECIAL:
            window = bd_sub(dl, 4 + h("window/" + it["id"], 25))
        else:
            window = bd_sub(D(2021, 7, 12), h("window/" + it["id"], 40))
        for j, m in enumerate(it["measures"]):
            m["start"] = bd_add(it["start"], j)
            m["progress"], m["submits"], m["reject"], m["close"] = [], [], None, None
            if m["id"] in OPEN_MEASURES:
                m["progress"] = [(day(d), t) for d, t in OPEN_MEASURES[m["id"]]]
                continue
            close = bd_sub(window, h("close/" + m["id"], 3))
            submit = bd_sub(close, 2 + h("submit/" + m["id"], 3))
            if m["id"] == REJECTED_MEASURE:
                resubmit = submit
                reject = bd_sub(resubmit, 5)
                m["submits"] = [bd_sub(reject, 2), resubmit]
                m["reject"] = reject
            else:
                m["submits"] = [submit]
            m["close"] = close
            m["global"] = sum(len(x["measures"]) for x in items[:i]) + j
            if m["global"] % 3 == 2:  # about a third report progress on the way
                first = m["submits"][0]
                mid = m["start"] + (first - m["start"]) / 2
                m["progress"] = [(bd_add(mid, 0), "已启动并按计划推进:%s。阶段性工作已完成,相关材料已报专班。"
                                  % m["title"])]
        if it["track"] != LONG:
            last = max(m["close"] for m in it["measures"])
            it["submit"] = bd_add(last, 1)
            it["close"] = bd_add(it["submit"], 2)
        else:
            it["submit"] = it["close"] = None


def lifecycle(items):
    """The progress events, sorted by on_date (stable: causal order within a day)."""
    evs = []  # (date, seq, envelope)

    def add(d, unit, name, key, body):
        body = dict(body)
        body["on_date"] = d.isoformat()
        evs.append((d, len(evs), envelope("%s/%s/%s" % (ROUND, name, key), unit, name,
                                          dict({"round_id": ROUND}, **body))))

    by_measure = {}
    for it in items:
        add(it["start"], it["unit"], "start", it["id"], {"task_id": it["id"]})
        for m in it["measures"]:
            by_measure[m["id"]] = m
            mid, unit = m["id"], m["unit"]
            add(m["start"], unit, "start", mid, {"task_id": mid})
            pending = list(m["progress"])
            # progress reports dated before the first submission come first
            for n, (d, text) in enumerate(pending, 1):
                add(d, unit, "report_progress", "%s/%d" % (mid, n),
                    {"task_id": mid, "text": text,
                     "evidence": evidence("%s 阶段性推进材料(%s)" % (mid, d.isoformat()), mid,
                                          "progress-%d" % n)})
            if not m["submits"]:
                continue
            for n, d in enumerate(m["submits"], 1):
                docs = [t for t, _, mm in INSTITUTIONS if mm == mid]
                if n == 1 and m["reject"]:
                    ev_title = "%s 实施细则修订稿" % mid
                    text = "已完成:%s。现报送修订稿,申请销号。" % m["title"]
                elif docs:
                    ev_title = "《%s》印发文件及会议纪要" % docs[0]
                    text = "已完成:%s。佐证材料见附件,申请销号。" % m["title"]
                else:
                    ev_title = "%s 整改完成佐证材料(会议纪要、工作台账)" % mid
                    text = "已完成:%s。佐证材料见附件,申请销号。" % m["title"]
                if n == 2:
                    text = "已按专班意见补充党组会审议纪要和正式印发文件,重新申请销号。"
                add(d, unit, "submit_write_off", "%s/%d" % (mid, n),
                    {"task_id": mid, "text": text,
                     "evidence": evidence(ev_title, mid, "submit-%d" % n)})
                if n == 1 and m["reject"]:
                    add(m["reject"], TEAM, "reject_write_off", "%s/1" % mid,
                        {"task_id": mid, "reason": REJECT_REASON})
            if it["track"] == LONG:
                # the workflow closes long-term tasks only by decision (wf_tasks.c)
                add(m["close"], TEAM, "close_by_decision", mid,
                    {"task_id": mid,
                     "decision": "经专班核查,该项措施已落实到位,佐证材料齐全,决定作为阶段性成果予以销号。"})
            else:
                note = "经专班核查,整改措施已落实,佐证材料齐全,同意销号。"
                if m["reject"]:
                    note = "补充材料经核查齐全,整改已落实到位,同意销号。"
                add(m["close"], TEAM, "write_off", mid, {"task_id": mid, "note": note})
        if it["track"] != LONG:
            n = len(it["measures"])
            add(it["submit"], it["unit"], "submit_write_off", it["id"] + "/1",
                {"task_id": it["id"],
                 "text": "本整改事项下%d条整改措施均已销号,整改目标已实现,申请事项销号。" % n,
                 "evidence": evidence("%s 整改事项销号报告" % it["id"], it["id"], "submit-1")})
            add(it["close"], TEAM, "write_off", it["id"],
                {"task_id": it["id"], "note": "经专班核查,整改事项已完成,同意销号。"})

    for aid, kind, persons, amount, mid in ACCOUNTABILITY:
        m = by_measure[mid]
        body = {"action_id": aid, "kind": kind, "persons": persons}
        if amount:
            body["amount_yuan"] = amount
        d = bd_sub(m["submits"][0] - datetime.timedelta(days=1), 0)
        assert m["start"] < d, aid
        add(d, DISCIPLINE, "record_accountability", aid, body)

    for n, (title, kind, mid) in enumerate(INSTITUTIONS, 1):
        m = by_measure[mid]
        if m["submits"]:
            d = bd_sub(m["submits"][-1] - datetime.timedelta(days=1), 0)
        else:  # the open measure: recorded with its first progress report
            d = m["progress"][0][0]
        assert m["start"] <= d, title
        iid = "I%02d" % n
        add(d, TARGET, "record_institution", iid,
            {"institution_id": iid, "kind": kind, "title": title})

    lb = day(LOOK_BACK_DATE)
    for it in items:
        if it["track"] == LONG:
            continue
        if it["id"] == RELAPSED_ITEM:
            body = {"task_id": it["id"], "result": "RELAPSE", "finding": RELAPSE_FINDING}
        else:
            body = {"task_id": it["id"], "result": "PASSED",
                    "finding": "回头看核查:整改成果巩固,未发现问题反弹。"}
        add(lb, TEAM, "record_look_back", it["id"], body)

    evs.sort(key=lambda e: (e[0], e[1]))
    return [e[2] for e in evs]


# --- Verification: replay the events as the workflow would, and count ------------------
TRANSITIONS = {  # action: (from states, to state or None, who)
    "start": ({"assigned", "reopened"}, "in_progress", "responsible"),
    "report_progress": ({"in_progress", "submitted", "reopened"}, None, "responsible"),
    "submit_write_off": ({"in_progress"}, "submitted", "responsible"),
    "write_off": ({"submitted"}, "closed", "supervision"),
    "reject_write_off": ({"submitted"}, "in_progress", "supervision"),
    "close_by_decision": ({"in_progress", "submitted"}, "closed", "supervision"),
    "look_back_passed": ({"closed"}, "confirmed", "supervision"),
    "look_back_relapse": ({"closed", "confirmed"}, "reopened", "supervision"),
}
DONE = {"closed", "confirmed"}


def verify(items, units, progress, csv_text, problems):
    role = {e["register_unit"]["code"]: e["register_unit"]["role"] for e in units}
    role[ADMIN] = "ADMIN"
    assert all(e["unit"] == ADMIN for e in units)

    # the plan, read back as the importer would
    rows = list(csv.reader(io.StringIO(csv_text)))
    assert rows[0] == ["方面", "问题", "整改事项", "整改措施", "牵头领导", "责任单位", "整改时限", "类别"]
    rows = rows[1:]
    assert len(rows) == BULLETIN["measures"]
    tasks = {}  # task_id: {kind, unit, track, item, state}
    for aspect, problem, item, measure, lead, unit, deadline, track in rows:
        assert problems[problem] == aspect
        iid, ititle = item.split(" ", 1)
        mid, mtitle = measure.split(" ", 1)
        assert mid.startswith(iid + "-") and mid not in tasks
        assert role.get(unit) == "UNIT" and lead and day(deadline)
        tr = {v: k for k, v in TRACK_CN.items()}[track]
        tasks[mid] = {"kind": "measure", "unit": unit, "track": tr, "item": iid, "state": "assigned"}
        if iid not in tasks:
            tasks[iid] = {"kind": "item", "unit": unit, "track": tr, "item": iid,
                          "state": "assigned", "deadline": deadline}
        assert tasks[iid]["track"] == tr and tasks[iid]["deadline"] == deadline
    item_ids = [t for t, v in tasks.items() if v["kind"] == "item"]
    assert len(item_ids) == BULLETIN["items"]
    assert len({problems[p] for p in problems}) == 4 and len(problems) == 11
    assert {r[1] for r in rows} == set(problems)
    assert sum(1 for t in item_ids if tasks[t]["track"] == LONG) == 3

    def figures(as_of):
        st = {t: "assigned" for t in tasks}
        acc = collections.Counter()
        funds = decimal.Decimal("0.00")
        inst = collections.Counter()
        for e in progress:
            name = next(k for k in e if k not in ("event_id", "unit"))
            body = e[name]
            if day(body["on_date"]) > as_of:
                break
            if name == "record_accountability":
                acc[body["kind"]] += body["persons"]
                funds += decimal.Decimal(body.get("amount_yuan") or "0")
                continue
            if name == "record_institution":
                inst[body["kind"]] += 1
                continue
            action = name
            if name == "record_look_back":
                action = "look_back_relapse" if body["result"] == "RELAPSE" else "look_back_passed"
            tid = body["task_id"]
            frm, to, who = TRANSITIONS[action]
            assert st[tid] in frm, (e, st[tid])
            if who == "responsible":
                assert e["unit"] == tasks[tid]["unit"] and role[e["unit"]] == "UNIT", e
            else:
                assert e["unit"] == TEAM, e
            if action == "write_off":
                assert tasks[tid]["track"] != LONG, e
                if tasks[tid]["kind"] == "item":
                    assert all(st[m] in DONE for m, v in tasks.items()
                               if v["kind"] == "measure" and v["item"] == tid), e
            if action == "close_by_decision":
                assert tasks[tid]["track"] == LONG, e
            if to:
                st[tid] = to
        items_done = sum(1 for t in item_ids if st[t] in DONE)
        measures_done = sum(1 for t, v in tasks.items() if v["kind"] == "measure" and st[t] in DONE)
        return st, items_done, measures_done, acc, funds, inst

    # every measure started; every item started
    starts = {e["start"]["task_id"] for e in progress if "start" in e}
    assert starts == set(tasks)

    st, items_done, measures_done, acc, funds, inst = figures(D(2021, 7, 31))
    assert (items_done, measures_done) == (BULLETIN["items_rectified"], BULLETIN["measures_completed"])
    assert acc["ADMONISHMENT_TALK"] == BULLETIN["admonishment_persons"]
    assert (acc["REMINDER_TALK"] + acc["CRITICISM"] + acc["WRITTEN_SELF_CRITICISM"]
            == BULLETIN["other_handling_persons"])
    assert all(acc[k] for k in ("REMINDER_TALK", "CRITICISM", "WRITTEN_SELF_CRITICISM"))
    assert funds == BULLETIN["funds_yuan"] and funds / 10000 == decimal.Decimal("0.20")
    assert (inst["NEW"], inst["REVISED"], inst["PLANNED"]) == (
        BULLETIN["new"], BULLETIN["revised"], BULLETIN["planned"])
    open_items = sorted(t for t in item_ids if st[t] not in DONE)
    open_measures = sorted(t for t, v in tasks.items() if v["kind"] == "measure" and st[t] not in DONE)
    assert all(tasks[t]["track"] == LONG for t in open_items)
    assert sorted(tasks[m]["item"] for m in open_measures) == open_items
    assert all(st[m] == "in_progress" for m in open_measures)
    assert set(open_measures) == set(OPEN_MEASURES)

    st2, items_done2, measures_done2, *_ = figures(D(2021, 11, 30))
    assert (items_done2, measures_done2) == (BULLETIN["items_rectified"] - 1, BULLETIN["measures_completed"])
    assert st2[RELAPSED_ITEM] == "reopened"

    # the course correction: exactly one measure rejected, then written off
    rejected = [e["reject_write_off"]["task_id"] for e in progress if "reject_write_off" in e]
    assert rejected == [REJECTED_MEASURE] and st[REJECTED_MEASURE] == "closed"
    subs = collections.Counter(e["submit_write_off"]["task_id"] for e in progress if "submit_write_off" in e)
    assert subs[REJECTED_MEASURE] == 2 and max(v for k, v in subs.items() if k != REJECTED_MEASURE) == 1
    lbs = [e["record_look_back"] for e in progress if "record_look_back" in e]
    assert len(lbs) == BULLETIN["items_rectified"]
    assert [l["task_id"] for l in lbs if l["result"] == "RELAPSE"] == [RELAPSED_ITEM]

    # dates: chronological, in the window, the look-back on its day; deadlines kept
    dates = [next(v for k, v in e.items() if k not in ("event_id", "unit"))["on_date"] for e in progress]
    assert dates == sorted(dates)
    for e, d in zip(progress, dates):
        if "record_look_back" in e:
            assert d == LOOK_BACK_DATE
        else:
            assert FIRST_DAY.isoformat() <= d <= LAST_DAY.isoformat(), e
            assert is_bd(day(d)), e
        name = next(k for k in e if k not in ("event_id", "unit"))
        if name in ("write_off", "close_by_decision"):
            tid = e[name]["task_id"]
            assert d <= tasks[tasks[tid]["item"]]["deadline"], e
    # progress reports: about a third of the measures, every open measure
    reported = {e["report_progress"]["task_id"] for e in progress if "report_progress" in e}
    assert set(OPEN_MEASURES) <= reported and 28 <= len(reported) <= 38
    # evidence and ids
    for e in progress:
        for name in ("report_progress", "submit_write_off"):
            if name in e:
                ev = e[name]["evidence"]
                assert len(ev) == 1 and ev[0]["uri"].startswith("https://oa.example.gov.cn/rectify/")
                assert ev[0]["sha256"] == hashlib.sha256(ev[0]["title"].encode("utf-8")).hexdigest()
    ids = [e["event_id"] for e in units + progress]
    assert len(ids) == len(set(ids))
    return st


def main():
    problems = load_round()
    items = build_plan(problems)
    assert len(items) == BULLETIN["items"]
    assert sum(len(it["measures"]) for it in items) == BULLETIN["measures"]
    schedule(items)
    units = write_units()
    csv_text = write_plan_csv(items)
    progress = lifecycle(items)
    verify(items, units, progress, csv_text, problems)

    outputs = {
        "seed001-units.jsonl": "".join(dumps(e) + "\n" for e in units),
        "seed001-plan.csv": csv_text,
        "seed001-progress.jsonl": "".join(dumps(e) + "\n" for e in progress),
    }
    for name, text in outputs.items():
        with open(os.path.join(HERE, name), "w", encoding="utf-8", newline="") as f:
            f.write(text)

    # summary
    aspects = collections.OrderedDict.fromkeys(problems.values())
    tracks = collections.Counter(it["track"] for it in items)
    mtracks = collections.Counter(it["track"] for it in items for _ in it["measures"])
    kinds = collections.Counter(next(k for k in e if k not in ("event_id", "unit")) for e in progress)
    print("seed 001, round %s" % ROUND)
    print("  aspects %d, problems %d, items %d, measures %d"
          % (len(aspects), len(problems), len(items), sum(mtracks.values())))
    for t in (FIX, SPECIAL, LONG):
        print("  %-16s %-4s items %2d, measures %2d" % (t, TRACK_CN[t], tracks[t], mtracks[t]))
    print("  units: %d register_unit events" % len(units))
    print("  progress: %d events" % len(progress))
    for k, v in sorted(kinds.items()):
        print("    %-22s %3d" % (k, v))
    print("  bulletin as of 2021-07-31: items %d/%d rectified, measures %d/%d completed,"
          " 诫勉谈话%d人, 组织处理%d人, 退出违规钱款%s元 (0.20万元), 新建制度%d项, 修订完善%d项, 拟修订%d项"
          % (BULLETIN["items_rectified"], BULLETIN["items"], BULLETIN["measures_completed"],
             BULLETIN["measures"], BULLETIN["admonishment_persons"], BULLETIN["other_handling_persons"],
             BULLETIN["funds_yuan"], BULLETIN["new"], BULLETIN["revised"], BULLETIN["planned"]))
    print("  bulletin as of 2021-11-30: items %d/%d rectified (look-back %s: %s relapsed)"
          % (BULLETIN["items_rectified"] - 1, BULLETIN["items"], LOOK_BACK_DATE, RELAPSED_ITEM))
    print("  long-term items (open): %s; open measures: %s; rejected once: %s"
          % (", ".join(it["id"] for it in items if it["track"] == LONG),
             ", ".join(sorted(OPEN_MEASURES)), REJECTED_MEASURE))
    for name in outputs:
        print("  wrote %s" % os.path.join(HERE, name))


if __name__ == "__main__":
    main()
