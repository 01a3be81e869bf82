"""Load a scenario: institutions, persons, sign-in, catalogues, filings and claims from one YAML document.

`load_scenario` works in the caller's transaction and inside a savepoint of its own: either every entry is
written or, on any error, nothing is. It runs in four steps, and the first three write nothing:

1. read and validate the document (`schema.py`): syntax, unknown keys, values, reference data;
2. check what the entries point at: duplicates inside the file, disease codes, persons, institutions and staff
   named by filings, claims and credentials, the files named by catalogues, materials and fee lists; and every
   claim's values, read by the claims module's readers at the claim's time (`claims.py`);
3. look for rows that already exist (refused, or skipped with `on_conflict: skip`);
4. write through the production use cases — `add_institution`, `add_person`, `set_person_password`,
   `add_staff`, `add_credential`, `import_catalog`, the filings' `submit`, `add_material`, `decide_review`, the
   claims' `create_claim`, `import_fee_list`, `add_material`, `submit`, `take`, `approve`, `return_claim`,
   `refuse` — so every rule applies exactly as it does for a real agency, hospital or insured person.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from yidi.catalog.service import import_catalog
from yidi.core import audit
from yidi.core.errors import YidiError
from yidi.core.money import round_yuan
from yidi.core.principal import FORBIDDEN, SYSTEM, Audience, Principal, Role
from yidi.filing.service import SubmitRequest, add_material, authorize_person_scope, decide_review, submit
from yidi.people.service import add_person, get_person
from yidi.reference.service import add_institution
from yidi.reimbursement import drafts
from yidi.reimbursement import service as claims_service
from yidi.scenario import claims
from yidi.scenario.checks import Skips, authorize, check_references, find_existing
from yidi.scenario.errors import (
    CONFLICT,
    INVALID,
    Problem,
    ScenarioError,
    database_failure,
    entry_failure,
    problems_of,
)
from yidi.scenario.schema import (
    ClaimAction,
    ClaimChannel,
    OnConflict,
    Scenario,
    ScenarioClaim,
    ScenarioFiling,
    read_yaml,
)
from yidi.security.models import StaffUser
from yidi.security.service import add_credential, add_staff, set_person_password

TEXT_SOURCE = "<text>"


@dataclass(frozen=True)
class FilingOutcome:
    entry: str  # filings[i]
    psn_no: str
    subtype: str
    filing_id: str | None  # trt_dcla_detl_sn; None when skipped
    status: str  # the filing's status after the load, or "skipped"


@dataclass(frozen=True)
class ClaimOutcome:
    entry: str  # claims[i]
    psn_no: str
    claim_id: str  # skipped: the claim that already has the entry's request_id
    status: str  # the claim's status after the load, or "skipped"
    fund_pay_sumamt: str | None  # approved: two-decimal text; otherwise None
    paid_directly: str | None
    payable: str | None


@dataclass
class ScenarioReport:
    """What a load did: counts per kind of entry, each filing and each claim with its id and status."""

    name: str | None
    source: str
    institutions_added: int = 0
    institutions_skipped: int = 0
    persons_added: int = 0
    persons_skipped: int = 0
    person_passwords_set: int = 0
    staff_added: int = 0
    staff_skipped: int = 0
    credentials_added: int = 0
    credentials_skipped: int = 0
    catalogues_imported: int = 0
    catalogues_skipped: int = 0
    catalogue_items_added: int = 0
    filings_added: int = 0
    filings_skipped: int = 0
    claims_added: int = 0
    claims_skipped: int = 0
    filings: list[FilingOutcome] = field(default_factory=list)
    claims: list[ClaimOutcome] = field(default_factory=list)

    @property
    def written(self) -> bool:
        """Whether the load wrote anything (a load where every entry was skipped writes nothing)."""
        return any(
            (
                self.institutions_added,
                self.persons_added,
                self.staff_added,
                self.credentials_added,
                self.catalogues_imported,
                self.filings_added,
                self.claims_added,
            )
        )

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in asdict(self).items() if isinstance(v, int)}

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "source": self.source,
            **self.counts(),
            "filings": [asdict(f) for f in self.filings],
            "claims": [asdict(c) for c in self.claims],
        }


# -- reading --------------------------------------------------------------------------------------------


def _names_a_file(text: str) -> bool:
    try:
        return "\n" not in text and Path(text).is_file()
    except (OSError, ValueError):  # too long for a file name, or a NUL character: YAML text
        return False


def _read_source(text_or_path: str | Path, base_dir: Path | None) -> tuple[str, Path, str]:
    """(text, folder that relative file names start from, name used in messages)."""
    if not isinstance(text_or_path, Path) and not _names_a_file(text_or_path):
        return str(text_or_path), base_dir or Path.cwd(), TEXT_SOURCE
    path = Path(text_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ScenarioError(
            INVALID, str(path), [Problem("(document)", f"无法读取文件：{reason}", f"cannot read the file: {reason}")]
        ) from None
    return text, base_dir or path.parent, str(path)


def parse_scenario(text: str, source: str = TEXT_SOURCE) -> Scenario:
    """The validated scenario, or `ScenarioError` (E_SCENARIO) listing every problem by its path."""
    raw, problem = read_yaml(text)
    if problem is not None:
        raise ScenarioError(INVALID, source, [problem])
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ScenarioError(
            INVALID, source, [Problem("(document)", "场景文件顶层应为键值映射", "the top of a scenario is a mapping")]
        )
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(INVALID, source, problems_of(exc)) from None
    except YidiError as exc:  # a shared validator that raised a domain error instead of a ValueError
        raise ScenarioError(INVALID, source, [Problem("(document)", exc.message_zh, exc.message_en)]) from None


# -- writing --------------------------------------------------------------------------------------------


@dataclass
class _Run:
    session: Session
    sc: Scenario
    source: str
    now: dt.datetime
    principal: Principal
    files: dict[str, bytes]
    skips: Skips
    report: ScenarioReport

    @contextmanager
    def entry(self, path: str) -> Iterator[None]:
        """Failures inside name the entry; the database is flushed so constraint errors land here too."""
        try:
            yield
            self.session.flush()
        except ScenarioError:
            raise
        except YidiError as exc:
            raise entry_failure(self.source, path, exc) from exc
        except DBAPIError as exc:
            raise database_failure(self.source, path, exc) from exc

    def staff_principal(self, username: str, path: str) -> Principal:
        with self.entry(path):
            user = self.session.get(StaffUser, username)
            if user is None or not user.active:
                raise YidiError(
                    FORBIDDEN, reason=f"staff user {username} is unknown or inactive / 经办人员不存在或已停用"
                )
            return Principal(
                Audience.STAFF, user.username, frozenset(Role(r) for r in user.roles), frozenset(user.regions)
            )

    def run(self) -> ScenarioReport:
        s, sc, r, now = self.session, self.sc, self.report, self.now
        for i, x in enumerate(sc.institutions):
            if i in self.skips.institutions:
                r.institutions_skipped += 1
                continue
            with self.entry(f"institutions[{i}]"):
                add_institution(s, x.institution_in())
            r.institutions_added += 1
        for i, p in enumerate(sc.persons):
            if i in self.skips.persons:
                r.persons_skipped += 1
                continue
            with self.entry(f"persons[{i}]"):
                add_person(s, p.person_in(), now)
            r.persons_added += 1
            password = p.password or sc.accounts.person_password
            if password:
                with self.entry(f"persons[{i}].password" if p.password else "accounts.person_password"):
                    set_person_password(s, p.psn_no, password, now)
                r.person_passwords_set += 1
        self._accounts()
        for i, c in enumerate(sc.catalogues):
            if i in self.skips.catalogues:
                r.catalogues_skipped += 1
                continue
            actor = (self.principal.subject or "system")[:50]
            with self.entry(f"catalogues[{i}]"):
                imported = import_catalog(
                    s, c.region, c.file[-300:], self.files[f"catalogues[{i}].file"], actor=actor, now=now
                )
            r.catalogues_imported += 1
            r.catalogue_items_added += imported.added
        for i, f in enumerate(sc.filings):
            self._filing(i, f)
        for i, claim in enumerate(sc.claims):  # after the filings: a claim's category follows the filings in force
            self._claim(i, claim)
        if r.written:
            audit.record(
                s,
                at=now,
                actor_type=self.principal.audience.value,
                actor_id=self.principal.subject or "system",
                channel="scenario",
                action="scenario.load",
                entity_type="scenario",
                entity_id=(sc.name or self.source)[:60],
                after={"source": self.source, **r.counts()},
            )
            s.flush()
        return r

    def _accounts(self) -> None:
        s, r, now = self.session, self.report, self.now
        for i, st in enumerate(self.sc.accounts.staff):
            if i in self.skips.staff:
                r.staff_skipped += 1
                continue
            with self.entry(f"accounts.staff[{i}]"):
                add_staff(s, st.username, st.display_name, st.password, set(st.roles), set(st.regions), now)
            r.staff_added += 1
        for i, c in enumerate(self.sc.accounts.institution_credentials):
            if i in self.skips.credentials:
                r.credentials_skipped += 1
                continue
            with self.entry(f"accounts.institution_credentials[{i}]"):
                add_credential(s, c.fixmedins_code, c.key_id, c.scheme, c.key_material, now)
            r.credentials_added += 1

    def _filing(self, i: int, f: ScenarioFiling) -> None:
        path, r = f"filings[{i}]", self.report
        if i in self.skips.filings:
            r.filings_skipped += 1
            r.filings.append(FilingOutcome(path, f.psn_no, f.subtype.value, None, "skipped"))
            return
        submitter = self.staff_principal(f.submitted_by, f"{path}.submitted_by") if f.submitted_by else self.principal
        submitted = f.submitted_at or self.now
        req = SubmitRequest(
            psn_no=f.psn_no,
            insutype=f.insutype,
            subtype=f.subtype,
            target_region=f.target_region,
            begndate=f.begndate,
            basis=f.basis,
            channel=f.channel,
            opsp_dise_code=f.opsp_dise_code,
            institutions=list(f.institutions),
            reason=f.reason,
        )
        with self.entry(path):
            filing = submit(self.session, submitter, req, submitted)
        last = submitted
        for k, m in enumerate(f.materials):
            at = m.uploaded_at or submitted
            content = self.files[f"{path}.materials[{k}].file"]
            with self.entry(f"{path}.materials[{k}]"):
                add_material(self.session, submitter, filing.id, m.kind, Path(m.file).name, content, at)
            last = max(last, at)
        if f.decision is not None:
            d = f.decision
            decider = (
                self.staff_principal(d.decided_by, f"{path}.decision.decided_by") if d.decided_by else self.principal
            )
            with self.entry(f"{path}.decision"):
                decide_review(self.session, decider, filing.id, d.action.value, d.reason, d.decided_at or last)
        r.filings_added += 1
        r.filings.append(FilingOutcome(path, f.psn_no, f.subtype.value, filing.id, filing.status))

    def _claim(self, i: int, c: ScenarioClaim) -> None:
        """Draft (with the typed lines), import the fee lists, upload the papers, submit, then decide: each step
        through the claims module's use cases at the claim's own time."""
        path, s, r = f"claims[{i}]", self.session, self.report
        if i in self.skips.claims:
            r.claims_skipped += 1
            r.claims.append(ClaimOutcome(path, c.psn_no, self.skips.claims[i], "skipped", None, None, None))
            return
        at = claims.claim_time(c, self.now)
        by = self._claim_submitter(path, c)
        with self.entry(path):
            claim = drafts.create_claim(s, by, c.psn_no, claims.claim_data(c), at)
        for k, v in enumerate(c.visits):
            if v.fee_list is not None:
                content = self.files[f"{path}.visits[{k}].fee_list"]
                with self.entry(f"{path}.visits[{k}].fee_list"):
                    drafts.import_fee_list(s, by, claim.id, k + 1, Path(v.fee_list).name, content, at)
        for k, m in enumerate(c.materials):
            content = self.files[f"{path}.materials[{k}].file"]
            with self.entry(f"{path}.materials[{k}]"):
                drafts.add_material(s, by, claim.id, m.kind.value, Path(m.file).name, content, at)
        if c.submit:
            with self.entry(path):
                claim = claims_service.submit(s, by, claim.id, at)
        if c.decision is not None:
            d = c.decision
            decider = self.staff_principal(d.by, f"{path}.decision.by") if d.by else self.principal
            when = d.at or at
            with self.entry(f"{path}.decision"):
                claims_service.take(s, decider, claim.id, when)
                if d.action is ClaimAction.APPROVE:
                    claim = claims_service.approve(s, decider, claim.id, claims.exclusions(c), when)
                elif d.action is ClaimAction.RETURN:
                    materials = [k.value for k in d.materials_requested]
                    claim = claims_service.return_claim(s, decider, claim.id, d.reason or "", materials, when)
                else:
                    claim = claims_service.refuse(s, decider, claim.id, d.reason or "", when)
        approved = claim.status == claims_service.APPROVED
        amounts = [
            str(round_yuan(x)) if approved and x is not None else None
            for x in (claim.fund_pay_sumamt, claim.paid_directly, claim.payable)
        ]
        r.claims_added += 1
        r.claims.append(ClaimOutcome(path, c.psn_no, claim.id, claim.status, *amounts))

    def _claim_submitter(self, path: str, c: ScenarioClaim) -> Principal:
        """Online: the person themself (the loader must be allowed to act for them); counter: the staff named, or
        the loader when staff."""
        if c.channel is ClaimChannel.ONLINE:
            with self.entry(path):
                authorize_person_scope(self.principal, get_person(self.session, c.psn_no))
            return Principal(Audience.PERSON, c.psn_no)
        if c.submitted_by is not None:
            return self.staff_principal(c.submitted_by, f"{path}.submitted_by")
        return self.principal


# -- the use case ---------------------------------------------------------------------------------------


def load_scenario(
    session: Session,
    text_or_path: str | Path,
    now: dt.datetime,
    principal: Principal = SYSTEM,
    *,
    base_dir: Path | None = None,
) -> ScenarioReport:
    """Load one scenario document into the caller's transaction; any error → `ScenarioError`, nothing written.

    `text_or_path`: a `Path`, or a `str` that names an existing file (no newline), or the YAML text itself.
    File names inside the scenario are relative to the scenario file's folder (for text: `base_dir`, else the
    working directory). `now` stamps every row and is the default submission time of filings and claims.
    """
    text, base, source = _read_source(text_or_path, base_dir)
    sc = parse_scenario(text, source)
    authorize(principal, sc, source)
    problems, files = check_references(session, sc, base, now)
    claim_problems, claim_files = claims.check_claims(session, sc, base, now, principal)
    if problems or claim_problems:
        raise ScenarioError(INVALID, source, problems + claim_problems)
    files |= claim_files
    skips, found, hard = find_existing(session, sc, files)
    if hard:
        raise ScenarioError(INVALID, source, hard)
    skips.claims, claims_found = claims.existing_claims(session, enumerate(sc.claims), principal)
    found += claims_found
    if found and sc.on_conflict is OnConflict.ERROR:
        raise ScenarioError(CONFLICT, source, found)
    report = ScenarioReport(sc.name, source)
    with session.begin_nested():  # a savepoint: an error below undoes every row of this load, and only those
        _Run(session, sc, source, now, principal, files, skips, report).run()
    return report
