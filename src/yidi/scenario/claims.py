"""Claims of a scenario (手工报销): what is checked before anything is written, and what each claim asks for.

A claim's values are read in step 2 by the claims module's own readers (`reimbursement.inputs.read_payee`,
`read_visit`, `feelist.read_lines` and `read_fee_list`) with the limits and the time of the claim's submission,
so a scenario accepts exactly what the API would accept at that moment. Those readers number a claim's visits,
invoices, diagnoses and lines from 1 (as the claim's forms do); their paths are turned into the document's, whose
lists count from 0 like every other scenario path (`claims[0].visits[1].lines[3].pric`).

The workflow's rules (deadline, materials, an invoice claimed twice, the injury undertaking, …) are not foreseen
here: they refuse the entry in step 4, through the same use cases as production.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yidi.core.errors import YidiError
from yidi.core.principal import Principal
from yidi.filing.service import upload_type
from yidi.parameters.policy import InputLimits
from yidi.parameters.store import default_store
from yidi.people.models import Insurance, Person
from yidi.reference.models import Institution
from yidi.reimbursement import feelist, inputs
from yidi.reimbursement.models import Claim
from yidi.scenario.checks import duplicates, existing, read_file, unknown
from yidi.scenario.errors import Problem
from yidi.scenario.schema import ClaimChannel, Scenario, ScenarioClaim, ScenarioVisit
from yidi.security.models import StaffUser

_NUMBER = re.compile(r"\[(\d+)\]")


# -- what a claim asks for --------------------------------------------------------------------------------


def claim_time(c: ScenarioClaim, now: dt.datetime) -> dt.datetime:
    """When the claim is drafted, its papers uploaded and it is submitted: its `submitted_at`, else the load's."""
    return c.submitted_at or now


def submitter(c: ScenarioClaim, loader: Principal) -> str:
    """Who the claim is filed by, as `Claim.submitted_by` will say: the person online, the staff at the counter."""
    if c.channel is ClaimChannel.ONLINE:
        return c.psn_no
    return c.submitted_by or loader.subject


def visit_data(v: ScenarioVisit) -> dict[str, Any]:
    """A visit as the claims API takes it (dates as text, amounts as the exact text of the file)."""
    data: dict[str, Any] = {
        "fixmedins_code": v.fixmedins_code,
        "institution_name": v.institution_name,
        "institution_region": v.institution_region,
        "institution_level": v.institution_level.value if v.institution_level else None,
        "care": v.care.value,
        "med_type": v.med_type,
        "begndate": v.begndate.isoformat(),
        "enddate": v.enddate.isoformat(),
        "dise_codg": v.dise_codg,
        "diagnoses": [d.model_dump() for d in v.diagnoses],
        "injury": v.injury,
        "invoices": [
            {"invono": i.invono, "invoice_date": i.invoice_date.isoformat(), "amount": i.amount} for i in v.invoices
        ],
    }
    if v.lines is not None:
        data["lines"] = [ln.model_dump() for ln in v.lines]
    return data


def claim_data(c: ScenarioClaim) -> dict[str, Any]:
    """The body of `drafts.create_claim` (the payee and every visit; fee-list files are imported after)."""
    data: dict[str, Any] = {
        "insutype": c.insutype,
        "bank_name": c.payee.bank_name,
        "bank_account": c.payee.bank_account,
        "visits": [visit_data(v) for v in c.visits],
    }
    if c.payee.payee_name is not None:
        data["payee_name"] = c.payee.payee_name
    if c.request_id is not None:
        data["request_id"] = c.request_id
    return data


def exclusions(c: ScenarioClaim) -> list[dict[str, Any]]:
    """The decision's exclusions as `service.approve` takes them (visits by their number, from 1)."""
    if c.decision is None:
        return []
    return [{"seq": e.visit + 1, "feedetl_sn": e.feedetl_sn, "reason": e.reason} for e in c.decision.exclusions]


# -- step 2: every claim read as the API would read it --------------------------------------------------------


def rebase(prefix: str, field: str) -> str:
    """A claims-module path under `prefix` (its lists numbered from 1) as the document's path (from 0)."""
    tail = field.removeprefix(prefix)
    return prefix + _NUMBER.sub(lambda m: f"[{int(m.group(1)) - 1}]", tail)


def _refused(prefix: str, exc: inputs.InputRefused) -> list[Problem]:
    return [Problem(rebase(prefix, p.field), p.zh, p.en) for p in exc.problems]


def _line_path(visit: str, p: inputs.Problem) -> str:
    return f"{visit}.lines[{p.row - 1}].{p.field}" if p.row is not None else f"{visit}.lines"


def _fee_list_path(visit: str, p: inputs.Problem) -> str:
    if p.row is not None:
        return f"{visit}.fee_list row {p.row}, {p.field}"
    return f"{visit}.fee_list" if p.field == "file" else f"{visit}.fee_list, {p.field}"


def _insurance_types(session: Session, sc: Scenario, wanted: set[str]) -> dict[str, set[str]]:
    """psn_no → the insurance types of the person (as this file gives them, else as the database holds them)."""
    found = {p.psn_no: {i.insutype for i in p.insurances} for p in sc.persons if p.psn_no in wanted}
    others = wanted - set(found)
    if others:
        stmt = select(Insurance.psn_no, Insurance.insutype).where(Insurance.psn_no.in_(others))
        for psn_no, insutype in session.execute(stmt):
            found.setdefault(psn_no, set()).add(insutype)
    return found


def check_claims(
    session: Session, sc: Scenario, base: Path, now: dt.datetime, loader: Principal
) -> tuple[list[Problem], dict[str, bytes]]:
    """Every problem of the claims (values at their time, what they point at, their files) and the files' content
    by entry path (`claims[0].visits[1].fee_list`, `claims[0].materials[2].file`)."""
    problems: list[Problem] = []
    files: dict[str, bytes] = {}
    if not sc.claims:
        return problems, files
    persons = existing(session, Person.psn_no, {p.psn_no for p in sc.persons}, {c.psn_no for c in sc.claims})
    codes = {v.fixmedins_code for c in sc.claims for v in c.visits if v.fixmedins_code}
    institutions = existing(session, Institution.fixmedins_code, {x.fixmedins_code for x in sc.institutions}, codes)
    names = {c.submitted_by for c in sc.claims} | {c.decision.by for c in sc.claims if c.decision}
    staff = existing(
        session, StaffUser.username, {s.username for s in sc.accounts.staff}, {n for n in names if n is not None}
    )
    insured = _insurance_types(session, sc, {c.psn_no for c in sc.claims})
    problems += duplicates(
        [
            (f"claims[{i}].request_id", f"{submitter(c, loader)}\x00{c.request_id}")
            for i, c in enumerate(sc.claims)
            if c.request_id is not None
        ],
        "提交人的请求号",
        "request_id of the same submitter",
    )
    for i, c in enumerate(sc.claims):
        at = claim_time(c, now)
        problems += _check_people(i, c, persons, insured, staff, loader, at)
        try:
            limits = default_store().input_limits(at.date())  # as drafts.create_claim reads them
        except YidiError as exc:
            problems.append(Problem(f"claims[{i}].submitted_at", exc.message_zh, exc.message_en))
            continue
        try:
            inputs.read_payee(c.payee.model_dump(), "-")
        except inputs.InputRefused as exc:
            problems += _refused(f"claims[{i}].payee.", exc)
        numbers: list[set[str] | None] = []
        for k, v in enumerate(c.visits):
            path = f"claims[{i}].visits[{k}]"
            if v.fixmedins_code and v.fixmedins_code not in institutions:
                problems.append(unknown(f"{path}.fixmedins_code", "机构", "institution", v.fixmedins_code))
            numbers.append(_check_visit(path, v, base, limits, at, files, problems))
        for k, m in enumerate(c.materials):
            _check_material(base, m.file, f"claims[{i}].materials[{k}].file", files, problems)
        problems += _check_exclusions(i, c, numbers)
    return problems, files


def _check_people(
    i: int,
    c: ScenarioClaim,
    persons: set[str],
    insured: dict[str, set[str]],
    staff: set[str],
    loader: Principal,
    at: dt.datetime,
) -> list[Problem]:
    path = f"claims[{i}]"
    problems = []
    if c.psn_no not in persons:
        problems.append(unknown(f"{path}.psn_no", "参保人员", "insured person", c.psn_no))
    elif c.insutype not in insured.get(c.psn_no, set()):
        problems.append(
            Problem(f"{path}.insutype", f"该人员没有险种{c.insutype}的参保记录", f"no insurance of type {c.insutype}")
        )
    if c.channel is ClaimChannel.COUNTER:
        if c.submitted_by is None and not loader.is_staff:
            problems.append(
                Problem(
                    f"{path}.submitted_by",
                    "柜台申请由经办人员录入：请填写经办人员用户名",
                    "a counter claim is entered by agency staff: name their username",
                )
            )
        elif c.submitted_by is not None and c.submitted_by not in staff:
            problems.append(unknown(f"{path}.submitted_by", "经办人员", "staff user", c.submitted_by))
    if c.decision is not None:
        if c.decision.by is not None and c.decision.by not in staff:
            problems.append(unknown(f"{path}.decision.by", "经办人员", "staff user", c.decision.by))
        if c.decision.at is not None and c.decision.at < at:
            problems.append(Problem(f"{path}.decision.at", "审核时间早于提交时间", "decided before submitted_at"))
    return problems


def _check_visit(
    path: str,
    v: ScenarioVisit,
    base: Path,
    limits: InputLimits,
    at: dt.datetime,
    files: dict[str, bytes],
    problems: list[Problem],
) -> set[str] | None:
    """The visit read as the API reads it, its lines or fee list too; the line numbers (feedetl_sn) it holds, or
    None when they are not known (its fee list could not be read)."""
    typed = None if v.lines is None else {ln.feedetl_sn.strip() for ln in v.lines}
    try:
        visit = inputs.read_visit(visit_data(v), f"{path}.", limits, at)
    except inputs.InputRefused as exc:  # the visit's first problem; its lines need its days to be read
        problems += _refused(f"{path}.", exc)
        return typed
    if v.lines is not None:
        rows = [(n, ln.model_dump()) for n, ln in enumerate(v.lines, 1)]
        _, found = feelist.read_lines(rows, limits, visit.begndate, visit.enddate, at)
        problems += [Problem(_line_path(path, p), p.zh, p.en) for p in found]
        return typed
    if v.fee_list is None:
        return set()
    key = f"{path}.fee_list"
    read_file(base, v.fee_list, key, files, problems)
    if key not in files:
        return None
    try:
        lines = feelist.read_fee_list(Path(v.fee_list).name, files[key], limits, visit.begndate, visit.enddate, at)
    except inputs.InputRefused as exc:
        problems += [Problem(_fee_list_path(path, p), p.zh, p.en) for p in exc.problems]
        return None
    return {ln.feedetl_sn for ln in lines}


def _check_material(base: Path, name: str, path: str, files: dict[str, bytes], problems: list[Problem]) -> None:
    """The paper can be read and would be accepted as an upload (filing.service.upload_type: PDF, PNG or JPEG
    within the size limit, named for what it is)."""
    read_file(base, name, path, files, problems)
    content = files.get(path)
    if content is None:
        return
    try:
        upload_type(name, content)
    except YidiError as refused:
        problems.append(Problem(path, refused.message_zh, refused.message_en))


def _check_exclusions(i: int, c: ScenarioClaim, numbers: list[set[str] | None]) -> list[Problem]:
    if c.decision is None:
        return []
    problems = []
    seen: set[tuple[int, str]] = set()
    for n, e in enumerate(c.decision.exclusions):
        path = f"claims[{i}].decision.exclusions[{n}]"
        if e.visit >= len(c.visits):
            problems.append(
                Problem(
                    f"{path}.visit",
                    f"本申请只有{len(c.visits)}次就诊（visit 从0起）",
                    f"the claim has {len(c.visits)} visit(s), counted from 0",
                )
            )
            continue
        sns = numbers[e.visit]
        if sns is not None and e.feedetl_sn.strip() not in sns:
            problems.append(
                Problem(
                    f"{path}.feedetl_sn",
                    f"visits[{e.visit}]没有明细{e.feedetl_sn}",
                    f"visits[{e.visit}] has no line {e.feedetl_sn}",
                )
            )
        elif (e.visit, e.feedetl_sn.strip()) in seen:
            problems.append(Problem(f"{path}.feedetl_sn", "重复剔除", "excluded twice"))
        seen.add((e.visit, e.feedetl_sn.strip()))
    return problems


# -- step 3: claims already there ------------------------------------------------------------------------------


def existing_claims(
    session: Session, claims: Iterable[tuple[int, ScenarioClaim]], loader: Principal
) -> tuple[dict[int, str], list[Problem]]:
    """The entries whose request_id the same submitter already used (entry → that claim), and their problems.
    A claim without a request_id is always new."""
    found: dict[int, str] = {}
    problems = []
    for i, c in claims:
        if c.request_id is None:
            continue
        stmt = select(Claim.id).where(Claim.submitted_by == submitter(c, loader), Claim.request_id == c.request_id)
        claim_id = session.scalars(stmt.limit(1)).first()
        if claim_id is not None:
            found[i] = claim_id
            problems.append(
                Problem(
                    f"claims[{i}]",
                    f"报销申请（{claim_id}）的请求号“{c.request_id}”已存在",
                    f"claim ({claim_id}) with request_id '{c.request_id}' already exists",
                )
            )
    return found, problems
