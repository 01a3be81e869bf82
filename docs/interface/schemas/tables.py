"""The field tables of the answer schemas, written by hand from the sources' output classes (see README.md), and
their expansion into one JSON Schema file per transaction: shared tables (setlinfo, setldetail, the fee-line
split) are written once here and repeated in each file, so that every schema stands alone for an HIS developer.

    python docs/interface/schemas/tables.py docs/interface/schemas
"""
import json, pathlib, sys

OUT = pathlib.Path(sys.argv[1])
DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
DATETIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"
OPENHIS = "newtouch-cloud/openhis WinServiceAPI/YiBaoInterface/Models/Output/"
MEDICAL = "binzhe12123/Medical SY.Com.Medical.Model/SYB/"
DG = "东莞 DLL header (readme of a public repository; read_file id 30211168990, structs for 1101, 2101, 2102, 2103, 5203, 5204, 3201)"

def f(name, kind, req, zh, size=None):
    return (name, kind, req, zh, size)

def prop(kind, req, zh, size):
    nullable = not req
    if kind in ("money", "num", "ratio", "count"):
        s = {"type": ["number", "null"] if nullable else "number"}
        if kind == "ratio":
            s["minimum"], s["maximum"] = 0, 1
    elif kind == "date":
        s = {"type": ["string", "null"] if nullable else "string", "pattern": DATE}
    elif kind == "datetime":
        s = {"type": ["string", "null"] if nullable else "string", "pattern": DATETIME}
    else:
        s = {"type": ["string", "null"] if nullable else "string"}
        if size:
            s["maxLength"] = size
        if req:
            s["minLength"] = 1
    s["description"] = zh + ("" if req else " (optional in the specification: may be null)")
    return s

def obj(fields, extra_required=()):
    props, required = {}, []
    for name, kind, req, zh, size in fields:
        props[name] = prop(kind, req, zh, size)
        required.append(name)  # every listed field is present; optional ones may be null
    return {"type": "object", "required": required, "properties": props}

# --- shared tables ---------------------------------------------------------------------------------
PERSON = [
    f("psn_no", "str", True, "人员编号", 30),
    f("psn_name", "str", True, "人员姓名", 50),
    f("psn_cert_type", "code", True, "人员证件类型", 6),
    f("certno", "str", True, "证件号码", 50),
    f("gend", "code", False, "性别", 6),
    f("naty", "code", False, "民族", 3),
    f("brdy", "date", False, "出生日期 yyyy-MM-dd"),
    f("age", "num", False, "年龄 数值型(4,1)"),
    f("insutype", "code", True, "险种类型", 6),
    f("psn_type", "code", True, "人员类别", 6),
    f("cvlserv_flag", "code", True, "公务员标志", 3),
]
MONEY = [
    f("medfee_sumamt", "money", True, "医疗费总额"),
    f("fulamt_ownpay_amt", "money", True, "全自费金额"),
    f("overlmt_selfpay", "money", True, "超限价自费费用"),
    f("preselfpay_amt", "money", True, "先行自付金额"),
    f("inscp_scp_amt", "money", True, "符合政策范围金额"),
    f("act_pay_dedc", "money", False, "实际支付起付线"),
    f("hifp_pay", "money", True, "基本医疗保险统筹基金支出"),
    f("pool_prop_selfpay", "ratio", True, "基本医疗保险统筹基金支付比例 (5,4)"),
    f("cvlserv_pay", "money", True, "公务员医疗补助资金支出"),
    f("hifes_pay", "money", True, "企业补充医疗保险基金支出"),
    f("hifmi_pay", "money", True, "居民大病保险资金支出"),
    f("hifob_pay", "money", True, "职工大额医疗费用补助基金支出"),
    f("maf_pay", "money", True, "医疗救助基金支出"),
    f("oth_pay", "money", True, "其他支出"),
    f("fund_pay_sumamt", "money", True, "基金支付总额"),
]
PART = [
    f("psn_part_amt", "money", True, "个人负担总金额"),
    f("acct_pay", "money", True, "个人账户支出"),
    f("psn_cash_pay", "money", True, "个人现金支出"),
    f("hosp_part_amt", "money", True, "医院负担金额"),
    f("balc", "money", True, "余额"),
    f("acct_mulaid_pay", "money", True, "个人账户共济支付金额"),
    f("medins_setl_id", "str", True, "医药机构结算ID (= the request msgid)", 30),
]
CLEARING = [
    f("clr_optins", "code", False, "清算经办机构", 6),
    f("clr_way", "code", False, "清算方式", 6),
    f("clr_type", "code", True, "清算类别", 6),
]
def setlinfo(settled, pre_optional=()):
    head = [f("mdtrt_id", "str", True, "就诊ID", 30)]
    if settled:
        head.append(f("setl_id", "str", True, "结算ID", 30))
    visit = [
        f("setl_time", "datetime", True, "结算时间 yyyy-MM-dd HH:mm:ss"),
        f("mdtrt_cert_type", "code", False, "就诊凭证类型", 3),
        f("med_type", "code", True, "医疗类别", 6),
    ]
    rows = head + PERSON + visit + MONEY + PART + CLEARING
    return [(n, k, (r and n not in pre_optional), z, s) for n, k, r, z, s in rows]

SETLDETAIL = {"type": "array", "items": obj([
    f("fund_pay_type", "code", True, "基金支付类型", 6),
    f("inscp_scp_amt", "money", True, "符合政策范围金额"),
    f("crt_payb_lmt_amt", "money", True, "本次可支付限额金额"),
    f("fund_payamt", "money", True, "基金支付金额"),
    f("fund_pay_type_name", "str", False, "基金支付类型名称", 200),
    f("setl_proc_info", "str", False, "结算过程信息", 4000),
])}

FEE_RESULT = [
    f("feedetl_sn", "str", True, "费用明细流水号", 30),
    f("det_item_fee_sumamt", "money", True, "明细项目费用总额 (16,2)"),
    f("cnt", "count", True, "数量 (16,4)"),
    f("pric", "num", True, "单价 (16,6)"),
    f("pric_uplmt_amt", "num", True, "定价上限金额 (16,6)"),
    f("selfpay_prop", "ratio", False, "自付比例 (5,4)"),
    f("fulamt_ownpay_amt", "money", False, "全自费金额"),
    f("overlmt_amt", "money", False, "超限价金额"),
    f("preselfpay_amt", "money", False, "先行自付金额"),
    f("inscp_scp_amt", "money", False, "符合政策范围金额"),
    f("chrgitm_lv", "code", True, "收费项目等级", 3),
    f("med_chrgitm_type", "code", True, "医疗收费项目类别", 6),
    f("bas_medn_flag", "code", False, "基本药物标志", 3),
    f("hi_nego_drug_flag", "code", False, "医保谈判药品标志", 3),
    f("chld_medc_flag", "code", False, "儿童用药标志", 3),
    f("list_sp_item_flag", "code", False, "目录特项标志", 3),
    f("lmt_used_flag", "code", True, "限制使用标志", 3),
    f("drt_reim_flag", "code", False, "直报标志", 3),
    f("memo", "str", False, "备注 (明细分割错误信息)", 500),
]

def reversal(part_names):
    rows = [
        f("mdtrt_id", "str", True, "就诊ID", 30),
        f("setl_id", "str", True, "结算ID (the reversal's own)", 30),
        f("clr_optins", "code", False, "清算经办机构", 6),
        f("setl_time", "datetime", True, "结算时间 yyyy-MM-dd HH:mm:ss"),
    ] + MONEY + part_names + [
        f("balc", "money", True, "余额"),
        f("acct_mulaid_pay", "money", True, "个人账户共济支付金额"),
        f("medins_setl_id", "str", True, "医药机构结算ID (= the request msgid)", 30),
    ]
    return rows

# --- envelope --------------------------------------------------------------------------------------
def envelope(infno, title, output, comment):
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://yidi.example/schemas/interface/{infno}.json",
        "title": f"{infno} {title}: a successful answer",
        "$comment": comment,
        "type": "object",
        "required": ["infcode", "inf_refmsgid", "refmsg_time", "respond_time", "err_msg", "output"],
        "properties": {
            "infcode": {"type": "integer", "const": 0, "description": "交易状态码: 0 success"},
            "inf_refmsgid": {"type": "string", "pattern": "^[0-9]{30}$",
                             "description": "接收方报文ID: receiver division (6) + yyyyMMddHHmmss (14) + serial (10)"},
            "refmsg_time": {"type": "string", "pattern": "^[0-9]{17}$", "description": "接收报文时间 yyyyMMddHHmmssSSS"},
            "respond_time": {"type": "string", "pattern": "^[0-9]{17}$", "description": "响应报文时间 yyyyMMddHHmmssSSS"},
            "err_msg": {"type": ["string", "null"], "maxLength": 0, "description": "错误信息: empty on success (湖南 clients treat a non-empty err_msg as failure)"},
            "warn_msg": {"type": ["string", "null"]},
            "cainfo": {"type": ["string", "null"]},
            "signtype": {"type": ["string", "null"]},
            "output": output,
        },
    }

def out(nodes, required=None):
    return {"type": "object", "required": list(nodes) if required is None else required, "properties": nodes}

EMPTY = {"type": "object", "description": "the specification lists no output for this transaction"}
schemas = {}

schemas["9001"] = ("签到", out({"signinoutb": obj([
    f("sign_time", "datetime", True, "签到时间 yyyy-MM-dd HH:mm:ss"),
    f("sign_no", "str", True, "签到编号", 30)])}),
    f"Sources: {OPENHIS}Output_9001.cs (node signinoutb); {MEDICAL}QD9001.cs (Out9001 sign_time, sign_no, both Y). Agree.")

schemas["1101"] = ("人员信息获取", out({
    "baseinfo": obj([
        f("psn_no", "str", True, "人员编号", 30),
        f("psn_cert_type", "code", True, "人员证件类型", 6),
        f("certno", "str", True, "证件号码", 50),
        f("psn_name", "str", True, "人员姓名", 50),
        f("gend", "code", True, "性别", 6),
        f("naty", "code", False, "民族", 3),
        f("brdy", "date", False, "出生日期 yyyy-MM-dd"),
        f("age", "num", True, "年龄 数值型(4,1)"),
    ]),
    "insuinfo": {"type": "array", "minItems": 1, "items": obj([
        f("balc", "money", True, "余额"),
        f("insutype", "code", True, "险种类型", 6),
        f("psn_type", "code", True, "人员类别", 6),
        f("psn_insu_stas", "code", False, "人员参保状态", 6),
        f("psn_insu_date", "date", False, "个人参保日期"),
        f("paus_insu_date", "date", False, "暂停参保日期"),
        f("cvlserv_flag", "code", True, "公务员标志", 3),
        f("insuplc_admdvs", "str", True, "参保地医保区划", 6),
        f("emp_name", "str", False, "单位名称", 200),
    ])},
    "idetinfo": {"type": "array", "items": obj([
        f("psn_idet_type", "code", True, "人员身份类别", 3),
        f("psn_type_lv", "code", False, "人员类别等级", 3),
        f("memo", "str", False, "备注", 500),
        f("begntime", "datetime", True, "开始时间"),
        f("endtime", "datetime", False, "结束时间"),
    ])},
}), f"Sources: {OPENHIS}Output_1101.cs; {MEDICAL}JBXX/RY1101.cs; {DG} (clientinfo_*_ret_struct). All three list the same fields; "
    "required marks from RY1101.cs and Output_1101.cs agree (age 4,1 required, a number: openhis declares it decimal, the 东莞 header double; "
    "Medical declares it string but its table says 数值型). insuinfo.psn_insu_stas is marked only as a dictionary field (not required). "
    "insuplc_admdvs is kept 6 characters. naty is listed in all three (dictionary, not required): present, may be null.")

schemas["2201"] = ("门诊挂号", out({"data": obj([
    f("mdtrt_id", "str", True, "就诊ID", 30),
    f("psn_no", "str", True, "人员编号", 30),
    f("ipt_otp_no", "str", True, "住院/门诊号", 30)])}),
    f"Sources: {OPENHIS}Output_2201.cs (node data: mdtrt_id, psn_no, ipt_otp_no, all Y); {MEDICAL}YBJS/GH2201.cs. interface.md §3: output mdtrt_id.")

for code, title in (("2202", "门诊挂号撤销"), ("2203", "门诊就诊信息上传"), ("2205", "门诊费用明细撤销"),
                    ("2302", "住院费用明细撤销"), ("2402", "出院办理")):
    schemas[code] = (title, EMPTY, f"Sources: {OPENHIS}Output_{code}.cs and interface.md §3 (output —): no output node. Only the envelope is checked.")

schemas["2204"] = ("门诊费用明细信息上传", out({"result": {"type": "array", "minItems": 1, "items": obj(FEE_RESULT)}}),
    f"Sources: {OPENHIS}Output_2204.cs (result: a list); {MEDICAL}YBJS/ZJ2204.cs (Out2204.result as one object: a disagreement; the "
    "list form is taken, as in openhis 2204/2301, the 东莞 detlcutinfo and interface.md `result[]`). Required marks from both agree: "
    "feedetl_sn, det_item_fee_sumamt, cnt, pric, pric_uplmt_amt, chrgitm_lv, med_chrgitm_type, lmt_used_flag. The other listed fields "
    "(selfpay_prop, the four split amounts, the flags, memo) are present and may be null.")

schemas["2301"] = ("住院费用明细信息上传", out({"result": {"type": "array", "minItems": 1, "items": obj(FEE_RESULT)}}),
    f"Sources: {OPENHIS}Output_2301.cs (result list; feedetl_sn there is not marked required, in 2204 it is: taken as required, "
    f"the answer must name the line it splits); {MEDICAL}YBJS/ZJ2204.cs (same row as 2204). Same row as 2204.")

PRE_OPTIONAL = ("psn_part_amt", "hosp_part_amt")
schemas["2206"] = ("门诊预结算", out({"setlinfo": obj(setlinfo(False)), "setldetail": SETLDETAIL}),
    f"Sources: {OPENHIS}Output_2206.cs; {MEDICAL}YBJS/YJS2206.cs; required marks as 2207 ({OPENHIS}Output_2207.cs, {MEDICAL}YBJS/JS2207.cs). "
    "A pre-settlement has no setl_id in any source (openhis 2206/2303, the 东莞 2101 struct): setl_id is not required here. "
    "Issue 12's mandatory fields are all present: the ones the specification marks optional (gend, naty, brdy, age, mdtrt_cert_type, "
    "act_pay_dedc, clr_optins, clr_way) may be null.")

schemas["2207"] = ("门诊结算", out({"setlinfo": obj(setlinfo(True)), "setldetail": SETLDETAIL}),
    f"Sources: {OPENHIS}Output_2207.cs; {MEDICAL}YBJS/JS2207.cs; {DG} (trans_ret_setlinfo of 2102 is the same table). The three agree "
    "on the field list; required marks agree (openhis and Medical). Money fields are JSON numbers; the ones the specification marks optional "
    "(act_pay_dedc) may be null. setldetail: fund_pay_type, inscp_scp_amt, crt_payb_lmt_amt, fund_payamt required.")

schemas["2303"] = ("住院预结算", out({"setlinfo": obj(setlinfo(False, PRE_OPTIONAL)), "setldetail": SETLDETAIL}),
    f"Sources: {OPENHIS}Output_2303.cs (no setl_id; setl_time, psn_part_amt and hosp_part_amt not marked required there, though in 2207/2304 "
    "they are: present, psn_part_amt and hosp_part_amt may be null; setl_time is kept required as in every other settlement table). "
    "Otherwise as 2206.")

schemas["2304"] = ("住院结算", out({"setlinfo": obj(setlinfo(True)), "setldetail": SETLDETAIL}),
    f"Sources: {OPENHIS}Output_2304.cs (same table as 2207 with the same required marks); interface.md §3 (2303/2304 output setlinfo + setldetail).")

schemas["2208"] = ("门诊结算撤销", out({"setlinfo": obj(reversal([
        f("psn_part_amt", "money", True, "个人负担总金额"),
        f("acct_pay", "money", True, "个人账户支出"),
        f("hosp_part_amt", "money", True, "医院负担金额"),
        f("pdn_cash_pay", "money", True, "个人现金支出 (spelt pdn_cash_pay in the 2208 table)"),
    ])), "setldetail": SETLDETAIL}),
    f"Sources: {OPENHIS}Output_2208.cs; {MEDICAL}YBJS/ZJCX2208.cs; interface.md (reversal record, negative amounts, new setl_id). "
    "Both sources agree on the field list, the required marks and on the spelling pdn_cash_pay for the cash share (every other table "
    "says psn_cash_pay): a HIS written from the 2208 table reads pdn_cash_pay, so it is required here; psn_cash_pay may be sent as well. "
    "Amounts are not sign-constrained.")

schemas["2305"] = ("住院结算撤销", out({"setlinfo": obj(reversal([
        f("psn_part_amt", "money", False, "个人负担总金额"),
        f("acct_pay", "money", True, "个人账户支出"),
        f("psn_cash_pay", "money", True, "个人现金支出"),
        f("hosp_part_amt", "money", False, "医院负担金额"),
        f("hifdm_pay", "money", True, "伤残人员医疗保障基金支出 (16,2)"),
    ])), "setldetail": SETLDETAIL}),
    f"Sources: {OPENHIS}Output_2305.cs (adds hifdm_pay, declared 字符型 16,2 there: an amount, so a number here as issue 12 asks; "
    "psn_part_amt and hosp_part_amt not marked required: present, may be null). Reversal record as 2208.")

schemas["2401"] = ("入院办理", out({"result": obj([f("mdtrt_id", "str", True, "就诊ID", 30)])}),
    f"Sources: {OPENHIS}Output_2401.cs (node result: mdtrt_id, Y); interface.md §3 (2401 output mdtrt_id).")

PHARM_NOTE = ("2101/2102 input nodes are data + feedetail; the output adds detlcutinfo[] (fee-line split) in the 东莞 header only "
              "(one source): checked when present, not required.")
DETLCUT = {"type": "array", "items": obj([r for r in FEE_RESULT if r[0] != "lmt_used_flag"])}
schemas["2101"] = ("药店预结算", out({"setlinfo": obj(setlinfo(False)), "setldetail": SETLDETAIL, "detlcutinfo": DETLCUT},
                                      ["setlinfo", "setldetail"]),
    f"Sources: {DG} (cal_setlinfo_ret_struct: the 2206 table, no setl_id); required marks taken from 2206/2207 "
    f"({OPENHIS}Output_2207.cs, {MEDICAL}YBJS/JS2207.cs). " + PHARM_NOTE)
schemas["2102"] = ("药店结算", out({"setlinfo": obj(setlinfo(True)), "setldetail": SETLDETAIL, "detlcutinfo": DETLCUT},
                                     ["setlinfo", "setldetail"]),
    f"Sources: {DG} (trans_ret_setlinfo: exactly the 2207 table with setl_id); required marks from 2207 "
    f"({OPENHIS}Output_2207.cs, {MEDICAL}YBJS/JS2207.cs). " + PHARM_NOTE)
schemas["2103"] = ("药店结算撤销", out({"setlinfo": obj(reversal([
        f("psn_pay", "money", True, "个人支付金额"),
        f("acct_pay", "money", True, "个人账户支出"),
        f("cash_payamt", "money", True, "现金支付金额"),
    ])), "setldetail": SETLDETAIL}),
    f"Sources: {DG} (pullback_setlinfo_ret_struct); a module of the same vendor pattern as TeaHZ/185 (江苏) Hos185/OnlineBusHos185_GJYB (namespace OnlineBusHos244_GJYB, Models T2103/RT2103; found by text search, repository not shown, read_file id 20039233177: "
    "input data {setl_id, mdtrt_id, psn_no}; output setlinfo + setldetail). Both agree: the reversal record of 2208 but with psn_pay and "
    "cash_payamt where 2208 has psn_part_amt and psn_cash_pay (and no hosp_part_amt). Neither marks required fields: the marks of 2208 "
    "are used. The code 2103 is named 药店结算撤销 by both and by the 冲正 (2601) lists of two Java HIS (a POWERSI cn.hsa.module.insure service, read_file id 621455014, and a com.geeke medicare service, read_file id 60407505010).")

schemas["3201"] = ("医药机构费用结算对总账", out({"stmtinfo": obj([
    f("setl_optins", "code", False, "结算经办机构", 6),
    f("stmt_rslt", "code", True, "对账结果 (0 balanced)", 6),
    f("stmt_rslt_dscr", "str", False, "对账结果说明", 200)])}),
    f"Sources: {OPENHIS}Output_3201.cs (stmtinfo; stmt_rslt Y); {MEDICAL}YYJGFW/JS3201.cs; {DG} (query_settle_sum_ret_struct). Agree.")

schemas["5201"] = ("就诊信息查询", out({"mdtrtinfo": {"type": "array", "items": obj([
    f("mdtrt_id", "str", True, "就诊ID", 30),
    f("psn_no", "str", True, "人员编号", 30),
    f("psn_cert_type", "code", True, "人员证件类型", 6),
    f("certno", "str", True, "证件号码", 50),
    f("psn_name", "str", True, "人员姓名", 50),
    f("gend", "code", True, "性别", 6),
    f("naty", "code", False, "民族", 3),
    f("brdy", "date", False, "出生日期"),
    f("age", "num", False, "年龄"),
    f("insutype", "code", True, "险种类型", 6),
    f("psn_type", "code", True, "人员类别", 6),
    f("cvlserv_flag", "code", True, "公务员标志", 3),
    f("begntime", "datetime", True, "开始时间"),
    f("endtime", "datetime", False, "结束时间 (open for a stay not yet discharged)"),
    f("mdtrt_cert_type", "code", False, "就诊凭证类型", 3),
    f("med_type", "code", True, "医疗类别", 6),
    f("ipt_otp_no", "str", False, "住院/门诊号", 30),
])}}),
    f"Sources: {MEDICAL}XXCX/JZ5201.cs (Out5201, flat class: the list node name is not shown; `mdtrtinfo` is the node name of "
    "the 5201 output in the national tables as the other query outputs are named by their content — unverified). Required marks "
    "from JZ5201.cs (字符型 len, dict, required columns). endtime is marked Y there but a stay still open has none: present, may be null. "
    "Further optional fields listed there (coner_name, tel, insu_optins, emp_name, diagnosis and bed fields, …) are not required.")

schemas["5202"] = ("诊断信息查询", out({"diseinfo": {"type": "array", "items": obj([
    f("diag_info_id", "str", True, "诊断信息ID", 30),
    f("mdtrt_id", "str", True, "就诊ID", 30),
    f("psn_no", "str", True, "人员编号", 30),
    f("inout_diag_type", "code", True, "出入院诊断类别", 3),
    f("diag_type", "code", True, "诊断类别", 3),
    f("maindiag_flag", "code", True, "主诊断标志", 3),
    f("diag_srt_no", "count", True, "诊断排序号 数值型"),
    f("diag_code", "str", True, "诊断代码", 20),
    f("diag_name", "str", True, "诊断名称", 100),
    f("diag_dept", "str", True, "诊断科室", 50),
    f("dise_dor_no", "str", True, "诊断医生编码", 30),
    f("dise_dor_name", "str", True, "诊断医生姓名", 50),
    f("diag_time", "datetime", True, "诊断时间"),
])}}),
    f"Sources: {MEDICAL}XXCX/ZD5202.cs (flat class; node name `diseinfo` as the 2203/2401 input node of the same rows — unverified). "
    "diag_srt_no is 数值型 in the table (declared string in the C# class): a number here.")

schemas["5203"] = ("结算信息查询", out({"setlinfo": obj(setlinfo(True) + [
    f("psn_pay", "money", True, "个人支付金额"),
    f("cash_payamt", "money", True, "现金支付金额"),
    f("fixmedins_code", "str", True, "定点医药机构编号", 12),
    f("fixmedins_name", "str", True, "定点医药机构名称", 200),
    f("begndate", "date", True, "开始日期"),
    f("enddate", "date", True, "结束日期"),
    f("refd_setl_flag", "code", True, "退费结算标志", 3),
    f("year", "str", True, "年度", 4),
]), "setldetail": SETLDETAIL}),
    f"Sources: {MEDICAL}XXCX/JS5203.cs; {DG} (query_trans_basi_ret_setlinfo). Both list the 2207 table plus institution, period and "
    "flag fields, and both name the person's share psn_pay and the cash cash_payamt (not psn_part_amt / psn_cash_pay). Disagreement with "
    "issue 12 and interface.md (5203 = settlement as 2207): both pairs are required here, psn_part_amt/psn_cash_pay for a HIS reading "
    "5203 like 2207, psn_pay/cash_payamt for one written from the 5203 table. JS5203.cs also marks gend, pay_loc and act_pay_dedc "
    "required; gend and act_pay_dedc stay nullable as in 2207, pay_loc and the dictionary-only fields (flxempe_flag, nwb_flag, hosp_lv, "
    "lmtpric_hosp_lv, dedc_hosp_lv) are not required.")

schemas["5204"] = ("费用明细查询", out({"feedetail": {"type": "array", "items": obj([
    f("mdtrt_id", "str", True, "就诊ID", 30),
    f("setl_id", "str", False, "结算ID (none for lines not yet settled)", 30),
    f("feedetl_sn", "str", True, "费用明细流水号", 30),
    f("med_type", "code", True, "医疗类别", 6),
    f("fee_ocur_time", "datetime", True, "费用发生时间"),
    f("cnt", "count", True, "数量"),
    f("pric", "num", True, "单价"),
    f("det_item_fee_sumamt", "money", True, "明细项目费用总额"),
    f("pric_uplmt_amt", "num", True, "定价上限金额"),
    f("selfpay_prop", "ratio", False, "自付比例"),
    f("fulamt_ownpay_amt", "money", False, "全自费金额"),
    f("overlmt_amt", "money", False, "超限价金额"),
    f("preselfpay_amt", "money", False, "先行自付金额"),
    f("inscp_scp_amt", "money", False, "符合政策范围金额"),
    f("chrgitm_lv", "code", True, "收费项目等级", 3),
    f("hilist_code", "str", True, "医保目录编码", 50),
    f("hilist_name", "str", True, "医保目录名称", 200),
    f("med_list_codg", "str", True, "医疗目录编码", 50),
    f("medins_list_codg", "str", True, "医药机构目录编码", 150),
    f("med_chrgitm_type", "code", True, "医疗收费项目类别", 6),
])}}),
    f"Sources: {MEDICAL}XXCX/FY5204.cs; {DG} (query_tran_detai_ret_struct). They agree on the row. The list node name is shown by "
    "neither (`feedetail`, the name of the same rows in 2204/5205 — unverified). setl_id is marked Y in FY5204.cs; a line uploaded but "
    "not settled has none, so it is present and may be null. list_type and medins_list_name are also marked required there; not required here "
    "(a dictionary-only list_type, and a name the HIS itself sent).")

schemas["5205"] = ("人员慢特病用药记录查询", out({"feedetail": {"type": "array", "items": obj([
    f("feedetl_sn", "str", True, "费用明细流水号", 30),
    f("fixmedins_code", "str", False, "定点医药机构编号", 12),
    f("fixmedins_name", "str", True, "定点医药机构名称", 200),
    f("psn_no", "str", True, "人员编号", 30),
    f("med_type", "code", True, "医疗类别", 6),
    f("fee_ocur_time", "datetime", True, "费用发生时间"),
    f("cnt", "count", True, "数量"),
    f("pric", "num", True, "单价"),
    f("hilist_code", "str", True, "医保目录编码", 50),
    f("hilist_name", "str", True, "医保目录名称", 200),
    f("med_list_codg", "str", True, "医疗目录编码", 50),
    f("medins_list_codg", "str", True, "医药机构目录编码", 150),
    f("med_chrgitm_type", "code", True, "医疗收费项目类别", 6),
])}}),
    f"Sources: {MEDICAL}XXCX/MBYY5205.cs (flat class; node `feedetail` — unverified). Required marks from it; list_type, "
    "medins_list_name and spec are marked required there but not checked here (catalogue descriptions).")

schemas["5206"] = ("人员累计信息查询", out({"cuminfo": {"type": "array", "items": obj([
    f("insutype", "code", True, "险种类型", 6),
    f("year", "str", True, "年度", 4),
    f("cum_ym", "str", True, "累计年月 yyyyMM", 6),
    f("cum_type_code", "code", True, "累计类别代码", 10),
    f("cum", "money", True, "累计值 (16,2)"),
])}}),
    f"Sources: {MEDICAL}XXCX/RY5206.cs (all five required; cum 数值型 16,2); interface.md §3 (cuminfo[] {{insutype, cum_ym, cum_type_code, cum}}).")

OUT.mkdir(parents=True, exist_ok=True)
for code, (title, output, comment) in schemas.items():
    (OUT / f"{code}.json").write_text(json.dumps(envelope(code, title, output, comment), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

refusal = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://yidi.example/schemas/interface/refusal.json",
    "title": "A refused call, any transaction",
    "$comment": "interface.md §2: infcode -1 on failure with err_msg (200); inf_refmsgid, refmsg_time and respond_time as on success. "
                "The stable code in brackets ([E_…], [S_…]) in err_msg is this product's convention, not the specification's.",
    "type": "object",
    "required": ["infcode", "inf_refmsgid", "refmsg_time", "respond_time", "err_msg"],
    "properties": {
        "infcode": {"type": "integer", "const": -1},
        "inf_refmsgid": {"type": "string", "pattern": "^[0-9]{30}$"},
        "refmsg_time": {"type": "string", "pattern": "^[0-9]{17}$"},
        "respond_time": {"type": "string", "pattern": "^[0-9]{17}$"},
        "err_msg": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "\\[[A-Z][A-Z0-9]*_[A-Z0-9_]+\\]"},
    },
}
(OUT / "refusal.json").write_text(json.dumps(refusal, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
print(len(schemas) + 1, "schemas")
