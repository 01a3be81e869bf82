"""Service functions behind the national-interface filing transactions (the gateway exposes them).

2501/2502 referral (转院) filing and its cancellation; 2503/2504 chronic-disease (门慢特病) registration and
its cancellation; 2505/2506 designated-institution (and hospital emergency) filing and its cancellation;
5301/5302/5304 the matching queries. Inputs and outputs use the national field names.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from yidi.core import audit, inputs
from yidi.core.errors import INVALID_FIELD, NOT_FOUND, YidiError
from yidi.core.principal import FORBIDDEN, Principal
from yidi.filing import rules, service
from yidi.filing.models import Filing
from yidi.filing.rules import Basis, Channel, Status, Subtype
from yidi.people.models import ChronicQualification
from yidi.people.schemas import QualificationIn
from yidi.people.service import get_person, record_qualification
from yidi.reference.service import get_institution

BIZ_DESIGNATED = "03"  # 就医定点医疗机构登记
BIZ_REFERRAL = "06"  # 转诊转院
BIZ_EMERGENCY = "07"  # 异地急诊住院


def _date(data: dict[str, Any], name: str) -> dt.date:
    """A filing date: a missing or overlong one is refused by name (E_INPUT), a malformed one as F_DATES."""
    day = inputs.iso_date(_field(data, name, max_len=inputs.TIME_MAX_LEN))
    if day is None:
        raise rules.refuse(rules.R_DATES, reason=f"{name} must be yyyy-MM-dd or an ISO 8601 time / {name}须为日期")
    return day


def _field(data: dict[str, Any], name: str, *, required: bool = True, max_len: int = 30) -> str:
    """A text field of the interface input: a missing or overlong one is refused by name, never a KeyError; an
    object or a list where text belongs counts as missing."""
    if isinstance(data.get(name), dict | list):
        data = {}
    return inputs.text(data, name, required=required, max_len=max_len, kind=INVALID_FIELD)


def _of_insured_place(session: Session, principal: Principal, psn_no: str, insutype: str, *, province: bool) -> None:
    """2501 and 2503 belong to the insured place: a referral is issued by a designated institution of the insured
    place (its province, for the provincial regional medical centres 吉林 names), and a chronic-disease
    qualification (资格认定) is made in the insured pooling region (filing.md §2 and §11). An institution
    elsewhere cannot record either for the person."""
    person = get_person(session, psn_no)
    insurance = next((i for i in person.insurances if i.insutype == insutype), None)
    if insurance is None:
        raise YidiError(NOT_FOUND, what="参保记录 / insurance record", key=f"{psn_no}/{insutype}")
    institution = get_institution(session, principal.subject)
    insured = insurance.insuplc_admdvs
    same = institution.pooling_region[:2] == insured[:2] if province else institution.pooling_region == insured
    if not same:
        where = "province" if province else "pooling region"
        raise YidiError(
            FORBIDDEN,
            reason=f"institution {institution.fixmedins_code} is not in the person's insured {where} {insured} / "
            "非参保地机构",
        )


def _own_filing(session: Session, principal: Principal, trt_dcla_detl_sn: str, psn_no: str) -> Filing:
    filing = service.load(session, trt_dcla_detl_sn, lock=True)
    if filing.psn_no != psn_no or filing.fixmedins_code != principal.subject:
        raise YidiError(NOT_FOUND, what="备案 / filing", key=trt_dcla_detl_sn)  # not this institution's record
    return filing


def tx_2501(session: Session, principal: Principal, refmedin: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """Referral filing made by the referring hospital: target is the treatment division mdtrtarea_admdvs."""
    _of_insured_place(session, principal, _field(refmedin, "psn_no"), _field(refmedin, "insutype"), province=True)
    req = service.SubmitRequest(
        psn_no=_field(refmedin, "psn_no"),
        insutype=_field(refmedin, "insutype"),
        subtype=Subtype.REFERRAL,
        target_region=_field(refmedin, "mdtrtarea_admdvs"),
        begndate=_date(refmedin, "begndate"),
        basis=Basis.MATERIALS,
        channel=Channel.HOSPITAL,
        reason=_field(refmedin, "refl_rea", required=False, max_len=500) or None,
    )
    filing = service.submit(session, principal, req, now)
    return {"trt_dcla_detl_sn": filing.id, "status": filing.status}


def _cancel(session: Session, principal: Principal, data: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """2502 / 2506: the institution revokes a filing it made."""
    filing = _own_filing(session, principal, _field(data, "trt_dcla_detl_sn"), _field(data, "psn_no"))
    reason = _field(data, "memo", required=False, max_len=500) or "revoked by institution"
    service.end_filing(session, principal, filing, reason, now, channel="interface")
    return {}


tx_2502 = _cancel
tx_2506 = _cancel


def tx_2503(session: Session, principal: Principal, data: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """Chronic-disease registration by the identifying hospital (资格认定登记)."""
    _of_insured_place(session, principal, _field(data, "psn_no"), _field(data, "insutype"), province=False)
    person = get_person(session, _field(data, "psn_no"))
    institution = get_institution(session, principal.subject)
    try:
        qualification = QualificationIn(
            insutype=_field(data, "insutype"),
            opsp_dise_code=_field(data, "opsp_dise_code"),
            begndate=_date(data, "begndate"),
            enddate=_date(data, "enddate"),
            ide_fixmedins_no=institution.fixmedins_code,
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(p) for p in error.get("loc", ())) or "input"
        raise YidiError(INVALID_FIELD, field=field, problem=error["msg"]) from None
    q = record_qualification(session, principal, person.psn_no, qualification, now, channel="interface")
    return {"trt_dcla_detl_sn": f"Q{q.id}"}


def tx_2504(session: Session, principal: Principal, data: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    sn, psn_no = _field(data, "trt_dcla_detl_sn"), _field(data, "psn_no")
    number = sn[1:]
    # ASCII digits within BIGINT: "Q²" passes str.isdigit() but not int(), and 29 nines overflow the column.
    known = sn[:1] == "Q" and number.isascii() and number.isdigit() and len(number) <= 18
    q = session.get(ChronicQualification, int(number)) if known else None
    if q is None or q.psn_no != psn_no or q.ide_fixmedins_no != principal.subject:
        raise YidiError(NOT_FOUND, what="门慢登记 / chronic registration", key=sn)
    q.status = "revoked"
    audit.record(
        session,
        at=now,
        actor_type="institution",
        actor_id=principal.subject,
        channel="interface",
        action="qualification.revoke",
        entity_type="chronic_qualification",
        entity_id=str(q.id),
    )
    return {}


def tx_2505(session: Session, principal: Principal, data: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """biz_appy_type 03: designated institution for a chronic disease; 07: emergency recorded by the hospital."""
    biz = _field(data, "biz_appy_type", required=False, max_len=6)
    begndate = _date(data, "begndate")
    institution = get_institution(session, principal.subject)
    if biz == BIZ_EMERGENCY:
        req = service.SubmitRequest(
            psn_no=_field(data, "psn_no"),
            insutype=_field(data, "insutype", required=False, max_len=3) or "310",
            subtype=Subtype.EMERGENCY,
            target_region=institution.pooling_region,
            begndate=begndate,
            basis=Basis.NONE,
            channel=Channel.HOSPITAL,
        )
    elif biz == BIZ_DESIGNATED:
        req = service.SubmitRequest(
            psn_no=_field(data, "psn_no"),
            insutype=_field(data, "insutype", required=False, max_len=3) or "310",
            subtype=Subtype.DESIGNATED_CHRONIC,
            target_region=institution.pooling_region,
            begndate=begndate,
            basis=Basis.MATERIALS,
            channel=Channel.HOSPITAL,
            opsp_dise_code=_field(data, "opsp_dise_code", required=False) or None,
            institutions=[_field(data, "fixmedins_code", required=False, max_len=12) or institution.fixmedins_code],
        )
    else:
        raise rules.refuse(rules.R_DATES, reason=f"biz_appy_type {biz!r} is not 03 or 07 here / 不支持的业务申请类型")
    filing = service.submit(session, principal, req, now)
    return {"trt_dcla_detl_sn": filing.id, "status": filing.status}


def tx_5301(session: Session, data: dict[str, Any]) -> dict[str, Any]:
    rows = service.qualifications_of(session, _field(data, "psn_no"))
    return {
        "feedetail": [
            {
                "opsp_dise_code": q.opsp_dise_code,
                "begndate": str(q.begndate),
                "enddate": str(q.enddate),
                "ide_fixmedins_no": q.ide_fixmedins_no,
                "vali_flag": "1" if q.status == "active" else "0",
            }
            for q in rows
        ]
    }


def tx_5302(session: Session, data: dict[str, Any]) -> dict[str, Any]:
    out = []
    for f in service.person_filings(session, _field(data, "psn_no")):
        if f.subtype != Subtype.DESIGNATED_CHRONIC.value or f.status != Status.APPROVED.value:
            continue
        for i in f.institutions:
            out.append(
                {
                    "trt_dcla_detl_sn": f.id,
                    "fix_srt_no": str(i.fix_srt_no),
                    "fixmedins_code": i.fixmedins_code,
                    "opsp_dise_code": f.opsp_dise_code,
                    "begndate": str(f.begndate),
                    "enddate": str(f.enddate) if f.enddate else "",
                }
            )
    return {"psnfixmedin": out}


def tx_5304(session: Session, data: dict[str, Any]) -> dict[str, Any]:
    begin, end = (
        _date(data, "begntime"),
        _date(data, "endtime"),
    )
    stmt = select(Filing).where(Filing.psn_no == _field(data, "psn_no"), Filing.subtype == Subtype.REFERRAL.value)
    return {
        "refmedin": [
            {
                "trt_dcla_detl_sn": f.id,
                "mdtrtarea_admdvs": f.target_region,
                "begndate": str(f.begndate),
                "enddate": str(f.enddate) if f.enddate else "",
                "status": f.status,
            }
            for f in session.scalars(stmt)
            if f.begndate <= end and (f.enddate is None or f.enddate >= begin)
        ]
    }
