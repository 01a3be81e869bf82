"""Drafting a manual claim: the person online, or agency staff of the person's region at the counter. A draft
holds visits (a networked institution by its code, or one outside the network by name, region and level), each
with its invoices and fee lines (typed in, or imported from the hospital's fee-list file), and the materials.

Each change locks the claim, is refused whole when any field is wrong (naming it, in Chinese and English) and
writes an audit row with the claim before and after. Every write a client may retry is idempotent: creating with
the same `request_id`, putting the same visit, invoices or lines again, uploading the same file again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yidi.core.clock import SHANGHAI
from yidi.core.errors import NOT_FOUND, YidiError
from yidi.core.ids import PlatformIdKind, new_platform_id
from yidi.core.principal import Principal
from yidi.filing.service import authorize_person_scope, store_file, upload_type
from yidi.parameters.policy import MaterialKind
from yidi.parameters.store import default_store
from yidi.people.models import Insurance, Person
from yidi.people.service import get_person
from yidi.reference.rules import divisions
from yidi.reference.service import get_institution
from yidi.reimbursement import feelist, inputs, rules, service
from yidi.reimbursement.models import Claim, ClaimInvoice, ClaimLine, ClaimMaterial, ClaimVisit, PaymentItem
from yidi.reimbursement.payment_rules import ItemResult, SourceKind


def create_claim(
    session: Session, principal: Principal, psn_no: str, data: Mapping[str, Any], now: dt.datetime
) -> Claim:
    """A draft claim (with the visits given, if any). The person files online, staff of the person's region at the
    counter. With a `request_id`, a retry of the same request returns the same claim; another request under the
    same id is refused."""
    person = get_person(session, psn_no)
    authorize_person_scope(principal, person)
    request_id = inputs.code(data, "request_id", "", max_len=40, required=False)
    fingerprint = hashlib.sha256(
        json.dumps([psn_no, dict(data)], sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()
    if request_id:
        earlier = _by_request(session, principal, request_id, fingerprint)
        if earlier is not None:
            return earlier
    insutype = inputs.code(data, "insutype", "", max_len=3, required=False) or next(
        (i.insutype for i in person.insurances if not principal.is_staff or i.insuplc_admdvs in principal.regions),
        "",
    )
    insurance = service.insurance_of(person, insutype)
    if principal.is_staff:  # counter staff file for the persons insured in their region, under that insurance
        principal.require_region(insurance.insuplc_admdvs)
    payee = inputs.read_payee(data, person.psn_name)
    raw_visits = data.get("visits") or []
    if not isinstance(raw_visits, list):
        raise inputs.refuse("visits", "应为数组", "must be a list")
    inputs.check_counts(len(raw_visits), 0, 0)
    claim = Claim(
        id=new_platform_id(PlatformIdKind.CLAIM, insurance.insuplc_admdvs, now),
        psn_no=psn_no,
        insutype=insutype,
        insured_region=insurance.insuplc_admdvs,
        status=service.DRAFT,
        channel=service.COUNTER if principal.is_staff else service.ONLINE,
        request_id=request_id,
        request_hash=fingerprint,
        created_at=now,
        submitted_by=principal.subject or "anonymous",
        due_date_provisional=False,
        payee_name=payee.payee_name,
        bank_name=payee.bank_name,
        bank_account=payee.bank_account,
        version=1,
    )
    for seq, raw in enumerate(raw_visits, 1):
        claim.visits.append(_visit(session, seq, raw, insurance, now))
    _check_invoice_count(claim)
    try:
        with session.begin_nested():
            session.add(claim)
            session.flush()
    except IntegrityError:  # the same request, committed meanwhile by a concurrent retry
        earlier = _by_request(session, principal, request_id, fingerprint) if request_id else None
        if earlier is None:
            raise
        return earlier
    service.record(session, principal, service.channel_of(principal), "claim.create", claim, None, now)
    return claim


def _by_request(session: Session, principal: Principal, request_id: str, fingerprint: str) -> Claim | None:
    found = session.scalar(
        select(Claim.id).where(Claim.submitted_by == (principal.subject or "anonymous"), Claim.request_id == request_id)
    )
    if found is None:
        return None
    claim = service.load(session, found)
    if claim.request_hash != fingerprint:
        raise YidiError(rules.R_REQUEST_REUSED, request_id=request_id, claim_id=claim.id)
    return claim


def _visit(session: Session, seq: int, raw: Any, insurance: Insurance, now: dt.datetime) -> ClaimVisit:
    where = f"visits[{seq}]."
    if not isinstance(raw, Mapping):
        raise inputs.refuse(f"visits[{seq}]", "应为对象", "must be an object")
    limits = default_store().input_limits(now.date())
    v = inputs.read_visit(raw, where, limits, now)
    rules.check_insurance_period(
        seq, v.begndate, v.enddate, insurance.begndate, insurance.enddate, insurance.psn_insu_stas
    )
    if v.fixmedins_code:
        try:
            inst = get_institution(session, v.fixmedins_code)
        except YidiError:
            raise inputs.refuse(f"{where}fixmedins_code", "未知的定点医药机构", "is not a known institution") from None
        name, region, level = inst.fixmedins_name[:100], inst.pooling_region, inst.settlement_level
    else:
        assert v.institution_region is not None and v.institution_name and v.institution_level
        try:
            region = divisions().pooling_region_of(v.institution_region).code
        except YidiError:
            raise inputs.refuse(f"{where}institution_region", "未知的区划代码", "is not a known division") from None
        name, level = v.institution_name, v.institution_level.value
        service.check_typed_institution(session, seq, name, region)
    visit = ClaimVisit(
        seq=seq,
        fixmedins_code=v.fixmedins_code,
        institution_name=name,
        institution_region=region,
        institution_level=level,
        care=v.care.value,
        med_type=v.med_type,
        begndate=v.begndate,
        enddate=v.enddate,
        dise_codg=v.dise_codg,
        diagnoses=[
            {"diag_code": d.diag_code, "diag_name": d.diag_name, "maindiag_flag": d.maindiag_flag} for d in v.diagnoses
        ],
        injury=v.injury,
    )
    visit.invoices = [
        ClaimInvoice(invono=i.invono, invoice_date=i.invoice_date, amount=i.amount) for i in v.invoices or ()
    ]
    if raw.get("lines") is not None:
        lines = feelist.read_json_lines(raw["lines"], f"{where}lines", limits, v.begndate, v.enddate, now)
        visit.lines = _line_rows(lines)
    return visit


def _line_rows(lines: Sequence[inputs.LineIn]) -> list[ClaimLine]:
    return [
        ClaimLine(
            seq=n,
            feedetl_sn=ln.feedetl_sn,
            med_list_codg=ln.med_list_codg,
            medins_list_codg=ln.medins_list_codg,
            medins_list_name=ln.medins_list_name,
            fee_ocur_time=ln.fee_ocur_time,
            cnt=ln.cnt,
            pric=ln.pric,
            det_item_fee_sumamt=ln.det_item_fee_sumamt,
            excluded=False,
        )
        for n, ln in enumerate(lines, 1)
    ]


def _check_invoice_count(claim: Claim) -> None:
    inputs.check_counts(len(claim.visits), sum(len(v.invoices) for v in claim.visits), len(claim.materials))


def _editable(
    session: Session, principal: Principal, claim_id: str, allowed: Sequence[str] = (service.DRAFT,)
) -> tuple[Claim, Person, dict[str, Any]]:
    claim = service.load(session, claim_id, lock=True)
    person = service.authorize(session, principal, claim)
    service.require_state(claim, allowed, "修改", "be changed")
    return claim, person, service.snapshot(claim)


def _find_visit(claim: Claim, seq: int) -> ClaimVisit:
    for v in claim.visits:
        if v.seq == seq:
            return v
    raise YidiError(NOT_FOUND, what=f"报销申请{claim.id}的就诊 / visit of claim {claim.id}", key=str(seq))


def put_visit(
    session: Session, principal: Principal, claim_id: str, seq: int, data: Mapping[str, Any], now: dt.datetime
) -> Claim:
    """Put visit number `seq` (1–20), new or replaced. Invoices and lines left out of `data` are kept as they were."""
    claim, person, before = _editable(session, principal, claim_id)
    if not 1 <= seq <= inputs.MAX_VISITS:
        raise inputs.refuse("seq", f"须为1至{inputs.MAX_VISITS}", f"must be 1 to {inputs.MAX_VISITS}")
    visit = _visit(session, seq, data, service.insurance_of(person, claim.insutype), now)
    old = next((v for v in claim.visits if v.seq == seq), None)
    if old is not None:
        if data.get("invoices") is None:
            visit.invoices = [
                ClaimInvoice(invono=i.invono, invoice_date=i.invoice_date, amount=i.amount) for i in old.invoices
            ]
        if data.get("lines") is None:
            _check_line_dates(claim, visit, old.lines)
            visit.lines = _copy_lines(old.lines)
        claim.visits.remove(old)
        session.flush()  # the old visit goes before its number is taken again
    claim.visits.append(visit)
    _check_invoice_count(claim)
    claim.version += 1
    service.record(session, principal, service.channel_of(principal), "claim.visit", claim, before, now)
    return claim


def _copy_lines(lines: Sequence[ClaimLine]) -> list[ClaimLine]:
    return [
        ClaimLine(
            **{
                k: getattr(ln, k)
                for k in (
                    "seq",
                    "feedetl_sn",
                    "med_list_codg",
                    "medins_list_codg",
                    "medins_list_name",
                    "fee_ocur_time",
                    "cnt",
                    "pric",
                    "det_item_fee_sumamt",
                )
            },
            excluded=False,
        )
        for ln in lines
    ]


def _check_line_dates(claim: Claim, visit: ClaimVisit, lines: Sequence[ClaimLine]) -> None:
    """Lines kept when a visit's dates change must still lie within them."""
    for n, ln in enumerate(lines, 1):
        if not visit.begndate <= ln.fee_ocur_time.astimezone(SHANGHAI).date() <= visit.enddate:
            raise inputs.refuse(
                f"visits[{visit.seq}].lines[{n}].fee_ocur_time",
                f"不在就诊日期{visit.begndate}至{visit.enddate}内",
                f"is outside the visit ({visit.begndate} to {visit.enddate})",
            )


def remove_visit(session: Session, principal: Principal, claim_id: str, seq: int, now: dt.datetime) -> Claim:
    """Remove visit `seq`; removing one that is not there changes nothing (a retry)."""
    claim, _, before = _editable(session, principal, claim_id)
    old = next((v for v in claim.visits if v.seq == seq), None)
    if old is None:
        return claim
    claim.visits.remove(old)
    claim.version += 1
    service.record(session, principal, service.channel_of(principal), "claim.visit_removed", claim, before, now)
    return claim


def put_invoices(
    session: Session, principal: Principal, claim_id: str, seq: int, items: Any, now: dt.datetime
) -> Claim:
    """Replace the invoices of visit `seq`."""
    claim, _, before = _editable(session, principal, claim_id)
    visit = _find_visit(claim, seq)
    limits = default_store().input_limits(now.date())
    read = inputs.read_invoices(
        items, f"visits[{seq}].invoices", limits, visit.begndate, now.astimezone(SHANGHAI).date()
    )
    visit.invoices = [ClaimInvoice(invono=i.invono, invoice_date=i.invoice_date, amount=i.amount) for i in read]
    _check_invoice_count(claim)
    claim.version += 1
    service.record(session, principal, service.channel_of(principal), "claim.invoices", claim, before, now)
    return claim


def put_lines(session: Session, principal: Principal, claim_id: str, seq: int, items: Any, now: dt.datetime) -> Claim:
    """Replace the fee lines of visit `seq` with lines typed in."""
    claim, _, before = _editable(session, principal, claim_id)
    visit = _find_visit(claim, seq)
    limits = default_store().input_limits(now.date())
    lines = feelist.read_json_lines(items, f"visits[{seq}].lines", limits, visit.begndate, visit.enddate, now)
    return _replace_lines(session, principal, claim, visit, lines, before, now, "claim.lines")


def import_fee_list(
    session: Session, principal: Principal, claim_id: str, seq: int, filename: str, content: bytes, now: dt.datetime
) -> Claim:
    """Replace the fee lines of visit `seq` with those of the hospital's fee-list file (CSV or XLSX): all of them,
    or none with a row-level report. The file is read before the claim's row is locked (reading a workbook
    takes time the other writers of the claim should not wait for); its rows are checked against the visit
    under the lock."""
    service.authorize(session, principal, service.load(session, claim_id))  # only then is the file read
    rows = feelist.read_fee_table(filename, content)
    claim, _, before = _editable(session, principal, claim_id)
    visit = _find_visit(claim, seq)
    limits = default_store().input_limits(now.date())
    lines = feelist.check_fee_rows(rows, limits, visit.begndate, visit.enddate, now)
    return _replace_lines(session, principal, claim, visit, lines, before, now, "claim.fee_list")


def _replace_lines(
    session: Session,
    principal: Principal,
    claim: Claim,
    visit: ClaimVisit,
    lines: Sequence[inputs.LineIn],
    before: dict[str, Any],
    now: dt.datetime,
    action: str,
) -> Claim:
    visit.lines = []
    session.flush()
    visit.lines = _line_rows(lines)
    claim.version += 1
    service.record(session, principal, service.channel_of(principal), action, claim, before, now)
    return claim


def put_payee(
    session: Session, principal: Principal, claim_id: str, data: Mapping[str, Any], now: dt.datetime
) -> Claim:
    """Change where the money goes: before submission, while the claim is returned for materials, or once
    approved while no transfer of it is pending (the bank returned one to a closed account: the next batch pays
    the new one). The change is audited with the account masked."""
    claim, person, before = _editable(session, principal, claim_id, (service.DRAFT, service.RETURNED, service.APPROVED))
    if claim.status == service.APPROVED and _transfer_pending(session, claim.id):
        raise YidiError(
            rules.R_STATE,
            claim_id=claim.id,
            status="approved, in a pending transfer / 待银行转账",
            action_zh="修改收款账户",
            action_en="change its payee",
        )
    payee = inputs.read_payee(data, person.psn_name)
    claim.payee_name, claim.bank_name, claim.bank_account = payee.payee_name, payee.bank_name, payee.bank_account
    claim.version += 1
    service.record(session, principal, service.channel_of(principal), "claim.payee", claim, before, now)
    return claim


def _transfer_pending(session: Session, claim_id: str) -> bool:
    stmt = select(PaymentItem.id).where(
        PaymentItem.source_kind == SourceKind.CLAIM.value,
        PaymentItem.source_id == claim_id,
        PaymentItem.result == ItemResult.PENDING.value,
    )
    return session.scalar(stmt.limit(1)) is not None


def add_material(
    session: Session, principal: Principal, claim_id: str, kind: str, filename: str, content: bytes, now: dt.datetime
) -> ClaimMaterial:
    """Upload a paper (PDF, PNG or JPEG) until a decision; the same file of the same kind again is the same
    material (a retry)."""
    claim, _, before = _editable(
        session, principal, claim_id, (service.DRAFT, service.SUBMITTED, service.UNDER_REVIEW, service.RETURNED)
    )
    try:
        kind = MaterialKind(kind).value
    except ValueError:
        allowed = ", ".join(k.value for k in MaterialKind)
        raise inputs.refuse("kind", f"须为{allowed}之一", f"must be one of {allowed}") from None
    content_type = upload_type(filename or "", content)
    digest = hashlib.sha256(content).hexdigest()
    same = next((m for m in claim.materials if m.sha256 == digest and m.kind == kind), None)
    if same is not None:
        return same
    inputs.check_counts(len(claim.visits), 0, len(claim.materials) + 1)
    material = ClaimMaterial(
        kind=kind,
        filename=(filename or "upload")[:200],
        content_type=content_type,
        size=len(content),
        sha256=store_file(content),
        uploaded_at=now,
        uploaded_by=principal.subject or "anonymous",
    )
    claim.materials.append(material)
    claim.version += 1
    service.record(session, principal, "upload", "claim.material", claim, before, now)
    return material


def remove_material(session: Session, principal: Principal, claim_id: str, material_id: int, now: dt.datetime) -> Claim:
    """Remove a material while the claim is a draft or returned; a material not there changes nothing."""
    claim, _, before = _editable(session, principal, claim_id, (service.DRAFT, service.RETURNED))
    material = next((m for m in claim.materials if m.id == material_id), None)
    if material is None:
        return claim
    claim.materials.remove(material)
    claim.version += 1
    service.record(session, principal, service.channel_of(principal), "claim.material_removed", claim, before, now)
    return claim
