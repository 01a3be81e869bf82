"""Checks made before a scenario writes anything: who loads it, what its entries point at, what already exists.

Each returns the problems it found with the path of the entry (`filings[2].institutions[0]`), so one run of
the loader reports every problem of the file at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from yidi.catalog.models import CatalogImport
from yidi.core.certno import mask_certno
from yidi.core.errors import YidiError
from yidi.core.principal import FORBIDDEN, Audience, Principal, Role
from yidi.filing.models import Filing
from yidi.people.models import Person
from yidi.people.service import certno_index
from yidi.reference.models import ChronicDisease, Institution
from yidi.scenario.errors import NOT_ALLOWED, Problem, ScenarioError
from yidi.scenario.schema import Scenario, ScenarioFiling
from yidi.security.models import InstitutionCredential, StaffUser

# -- checks before writing --------------------------------------------------------------------------------


def authorize(principal: Principal, sc: Scenario, source: str) -> None:
    """The platform (SYSTEM) loads anything; staff only inside their regions, and reference data as administrators."""
    if principal.audience is Audience.SYSTEM:
        return
    if not principal.is_staff:
        raise YidiError(
            FORBIDDEN, reason="scenarios are loaded by the platform or by staff / 仅平台或经办人员可加载场景"
        )
    problems: list[Problem] = []
    admin_only = {
        "institutions": sc.institutions,
        "accounts.staff": sc.accounts.staff,
        "accounts.institution_credentials": sc.accounts.institution_credentials,
        "catalogues": sc.catalogues,
    }
    if Role.ADMINISTRATOR not in principal.roles:
        for path, entries in admin_only.items():
            if entries:
                problems.append(Problem(path, "须具有管理员角色", "needs the administrator role"))
    regions = [
        (f"persons[{i}].insurances[{k}].insuplc_admdvs", ins.insuplc_admdvs)
        for i, p in enumerate(sc.persons)
        for k, ins in enumerate(p.insurances)
    ]
    regions += [(f"institutions[{i}].pooling_region", x.pooling_region) for i, x in enumerate(sc.institutions)]
    regions += [(f"catalogues[{i}].region", c.region) for i, c in enumerate(sc.catalogues)]
    regions += [(f"accounts.staff[{i}].regions", r) for i, s in enumerate(sc.accounts.staff) for r in s.regions]
    for path, region in regions:
        if region not in principal.regions:
            problems.append(Problem(path, f"统筹区{region}不在您的经办范围", f"region {region} is outside your scope"))
    if problems:
        raise ScenarioError(NOT_ALLOWED, source, problems)


def duplicates(values: list[tuple[str, str]], what_zh: str, what_en: str) -> list[Problem]:
    first: dict[str, str] = {}
    problems = []
    for path, value in values:
        if value in first:
            problems.append(Problem(path, f"与{first[value]}的{what_zh}重复", f"same {what_en} as {first[value]}"))
        else:
            first[value] = path
    return problems


def check_references(
    session: Session, sc: Scenario, base: Path, now: dt.datetime
) -> tuple[list[Problem], dict[str, bytes]]:
    """Problems with what entries point at, and the content of every file named (by entry path)."""
    problems = duplicates(
        [(f"institutions[{i}].fixmedins_code", x.fixmedins_code) for i, x in enumerate(sc.institutions)],
        "机构编码",
        "fixmedins_code",
    )
    problems += duplicates([(f"persons[{i}].psn_no", p.psn_no) for i, p in enumerate(sc.persons)], "人员编号", "psn_no")
    problems += duplicates([(f"persons[{i}].certno", p.certno) for i, p in enumerate(sc.persons)], "身份证号", "certno")
    staff = sc.accounts.staff
    problems += duplicates(
        [(f"accounts.staff[{i}].username", s.username) for i, s in enumerate(staff)], "用户名", "username"
    )
    problems += duplicates(
        [
            (f"accounts.institution_credentials[{i}].key_id", c.key_id)
            for i, c in enumerate(sc.accounts.institution_credentials)
        ],
        "密钥编号",
        "key_id",
    )

    diseases = [
        (f"institutions[{i}].services[{k}].opsp_dise_code", s.opsp_dise_code)
        for i, x in enumerate(sc.institutions)
        for k, s in enumerate(x.services)
    ]
    diseases += [
        (f"persons[{i}].qualifications[{k}].opsp_dise_code", q.opsp_dise_code)
        for i, p in enumerate(sc.persons)
        for k, q in enumerate(p.qualifications)
    ]
    diseases += [(f"filings[{i}].opsp_dise_code", f.opsp_dise_code) for i, f in enumerate(sc.filings)]
    wanted = {code for _, code in diseases if code}
    known = (
        set(session.scalars(select(ChronicDisease.code).where(ChronicDisease.code.in_(wanted)))) if wanted else set()
    )
    problems += [
        Problem(path, f"未知的门诊慢特病病种编码{code}", f"unknown chronic-disease code {code}")
        for path, code in diseases
        if code and code not in known
    ]

    institutions = existing(
        session,
        Institution.fixmedins_code,
        {x.fixmedins_code for x in sc.institutions},
        {c.fixmedins_code for c in sc.accounts.institution_credentials}
        | {code for f in sc.filings for code in f.institutions},
    )
    persons = existing(session, Person.psn_no, {p.psn_no for p in sc.persons}, {f.psn_no for f in sc.filings})
    usernames = {f.submitted_by for f in sc.filings} | {f.decision.decided_by for f in sc.filings if f.decision}
    staff_names = existing(session, StaffUser.username, {s.username for s in staff}, {u for u in usernames if u})
    for i, c in enumerate(sc.accounts.institution_credentials):
        if c.fixmedins_code not in institutions:
            problems.append(
                unknown(
                    f"accounts.institution_credentials[{i}].fixmedins_code", "机构", "institution", c.fixmedins_code
                )
            )
    files: dict[str, bytes] = {}
    for i, f in enumerate(sc.filings):
        problems += _check_filing(i, f, persons, institutions, staff_names, now)
        for k, m in enumerate(f.materials):
            read_file(base, m.file, f"filings[{i}].materials[{k}].file", files, problems)
    for i, cat in enumerate(sc.catalogues):
        read_file(base, cat.file, f"catalogues[{i}].file", files, problems)
    return problems, files


def existing(session: Session, column: InstrumentedAttribute[str], in_file: set[str], wanted: set[str]) -> set[str]:
    """The keys of `wanted` that exist: in the file or already in the database."""
    missing = wanted - in_file
    found = set(session.scalars(select(column).where(column.in_(missing)))) if missing else set()
    return in_file | found


def unknown(path: str, what_zh: str, what_en: str, key: str) -> Problem:
    return Problem(
        path,
        f"{what_zh}“{key}”既不在本场景中，也不在数据库中",
        f"{what_en} '{key}' is neither in this scenario nor in the database",
    )


def _check_filing(
    i: int, f: ScenarioFiling, persons: set[str], institutions: set[str], staff: set[str], now: dt.datetime
) -> list[Problem]:
    path = f"filings[{i}]"
    problems = []
    if f.psn_no not in persons:
        problems.append(unknown(f"{path}.psn_no", "参保人员", "insured person", f.psn_no))
    for k, code in enumerate(f.institutions):
        if code not in institutions:
            problems.append(unknown(f"{path}.institutions[{k}]", "机构", "institution", code))
    if f.submitted_by and f.submitted_by not in staff:
        problems.append(unknown(f"{path}.submitted_by", "经办人员", "staff user", f.submitted_by))
    submitted = f.submitted_at or now
    last = submitted
    for k, m in enumerate(f.materials):
        if m.uploaded_at is not None and m.uploaded_at < submitted:
            problems.append(
                Problem(f"{path}.materials[{k}].uploaded_at", "上传时间早于提交时间", "uploaded before submitted_at")
            )
        last = max(last, m.uploaded_at or submitted)
    if f.decision is not None:
        if f.decision.decided_by and f.decision.decided_by not in staff:
            problems.append(unknown(f"{path}.decision.decided_by", "经办人员", "staff user", f.decision.decided_by))
        if f.decision.decided_at is not None and f.decision.decided_at < last:
            problems.append(
                Problem(
                    f"{path}.decision.decided_at",
                    "审批时间早于提交或材料上传时间",
                    "decided before submission or upload",
                )
            )
    return problems


def read_file(base: Path, name: str, path: str, files: dict[str, bytes], problems: list[Problem]) -> None:
    target = base / name
    try:
        files[path] = target.read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        problems.append(Problem(path, f"无法读取文件{target}：{reason}", f"cannot read {target}: {reason}"))


# -- rows that already exist --------------------------------------------------------------------------------


@dataclass
class Skips:
    institutions: set[int] = field(default_factory=set)
    persons: set[int] = field(default_factory=set)
    staff: set[int] = field(default_factory=set)
    credentials: set[int] = field(default_factory=set)
    catalogues: set[int] = field(default_factory=set)
    filings: set[int] = field(default_factory=set)
    claims: dict[int, str] = field(default_factory=dict)  # entry → the claim that already has its request_id


def filing_exists(session: Session, f: ScenarioFiling) -> str | None:
    """The id of a filing with the same person, insurance type, kind, start date and disease, if any."""
    stmt = select(Filing.id).where(
        Filing.psn_no == f.psn_no,
        Filing.insutype == f.insutype,
        Filing.subtype == f.subtype.value,
        Filing.begndate == f.begndate,
        Filing.opsp_dise_code.is_(None) if f.opsp_dise_code is None else Filing.opsp_dise_code == f.opsp_dise_code,
    )
    return session.scalars(stmt.limit(1)).first()


def find_existing(
    session: Session, sc: Scenario, files: dict[str, bytes]
) -> tuple[Skips, list[Problem], list[Problem]]:
    """(entries whose rows exist, their problems, problems that skipping cannot cure)."""
    skips, found, hard = Skips(), [], []

    def exists(kind: set[int], i: int, path: str, zh: str, en: str, key: str) -> None:
        kind.add(i)
        found.append(Problem(path, f"{zh}“{key}”已存在", f"{en} '{key}' already exists"))

    codes = set(
        session.scalars(
            select(Institution.fixmedins_code).where(
                Institution.fixmedins_code.in_([x.fixmedins_code for x in sc.institutions])
            )
        )
    )
    for i, x in enumerate(sc.institutions):
        if x.fixmedins_code in codes:
            exists(skips.institutions, i, f"institutions[{i}]", "机构", "institution", x.fixmedins_code)
    psn_nos = set(session.scalars(select(Person.psn_no).where(Person.psn_no.in_([p.psn_no for p in sc.persons]))))
    indexes = {p.psn_no: certno_index(p.certno) for p in sc.persons}
    stmt = select(Person.certno_index, Person.psn_no).where(Person.certno_index.in_(list(indexes.values())))
    holders = {index: psn_no for index, psn_no in session.execute(stmt)}
    for i, p in enumerate(sc.persons):
        holder = holders.get(indexes[p.psn_no])
        if holder is not None and holder != p.psn_no:
            hard.append(
                Problem(
                    f"persons[{i}].certno",
                    f"身份证号{mask_certno(p.certno)}已登记在人员{holder}名下",
                    f"ID number {mask_certno(p.certno)} is already registered to person {holder}",
                )
            )
        elif p.psn_no in psn_nos:
            exists(skips.persons, i, f"persons[{i}]", "参保人员", "insured person", p.psn_no)
    staff = sc.accounts.staff
    names = set(session.scalars(select(StaffUser.username).where(StaffUser.username.in_([s.username for s in staff]))))
    for i, s in enumerate(staff):
        if s.username in names:
            exists(skips.staff, i, f"accounts.staff[{i}]", "经办人员", "staff user", s.username)
    creds = sc.accounts.institution_credentials
    keys = set(
        session.scalars(
            select(InstitutionCredential.key_id).where(InstitutionCredential.key_id.in_([c.key_id for c in creds]))
        )
    )
    for i, c in enumerate(creds):
        if c.key_id in keys:
            exists(skips.credentials, i, f"accounts.institution_credentials[{i}]", "机构密钥", "credential", c.key_id)
    for i, cat in enumerate(sc.catalogues):
        digest = hashlib.sha256(files[f"catalogues[{i}].file"]).hexdigest()
        done = session.scalars(
            select(CatalogImport.id).where(CatalogImport.region == cat.region, CatalogImport.sha256 == digest).limit(1)
        ).first()
        if done is not None:
            exists(
                skips.catalogues,
                i,
                f"catalogues[{i}]",
                f"{cat.region}目录文件",
                f"catalogue file for {cat.region}",
                cat.file,
            )
    for i, f in enumerate(sc.filings):
        other = filing_exists(session, f)
        if other is not None:
            key = f"{f.psn_no} {f.subtype.value} {f.begndate}"
            exists(skips.filings, i, f"filings[{i}]", f"备案（{other}）", f"filing ({other})", key)
    return skips, found, hard
