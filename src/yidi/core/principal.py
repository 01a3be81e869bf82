"""Who is acting: the authenticated principal that every use case receives and checks.

Kept free of web code so services can enforce scope (an institution only its own visits, staff only their
regions, a person only their own records) whatever edge called them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from yidi.core.errors import ErrorKind, YidiError


class Audience(StrEnum):
    ANONYMOUS = "anonymous"
    PERSON = "person"  # 参保人员
    INSTITUTION = "institution"  # 定点医药机构 system
    STAFF = "staff"  # 经办机构 staff
    SYSTEM = "system"  # the platform itself (CLI, jobs)


class Role(StrEnum):
    REVIEWER = "reviewer"  # 审核
    CLEARING_OFFICER = "clearing_officer"  # 清算
    ADMINISTRATOR = "administrator"  # 管理


FORBIDDEN = ErrorKind("E_FORBIDDEN", "无权执行此操作：{reason}", "not allowed: {reason}", 403)


@dataclass(frozen=True)
class Principal:
    audience: Audience
    subject: str = ""  # psn_no, username, fixmedins_code or "system"
    roles: frozenset[Role] = field(default_factory=frozenset)
    regions: frozenset[str] = field(default_factory=frozenset)  # staff: pooling regions they act for
    key_id: str | None = None  # institution: the credential that signed

    @property
    def is_staff(self) -> bool:
        return self.audience is Audience.STAFF

    def require_region(self, region: str) -> None:
        """Staff act only in their own pooling regions."""
        if self.audience is Audience.SYSTEM:
            return
        if not (self.is_staff and region in self.regions):
            raise YidiError(FORBIDDEN, reason=f"region {region} is outside your scope / 不在您的经办范围")

    def regions_asked(self, region: str | None) -> list[str]:
        """The regions a staff query covers: the one asked for, else all of the staff member's; each checked."""
        regions = [region] if region else sorted(self.regions)
        for r in regions:
            self.require_region(r)
        return regions

    def require_person(self, psn_no: str) -> None:
        if self.audience is Audience.SYSTEM:
            return
        if not (self.audience is Audience.PERSON and self.subject == psn_no):
            raise YidiError(FORBIDDEN, reason="records of another person / 他人的记录")

    def require_institution(self, fixmedins_code: str) -> None:
        if self.audience is Audience.SYSTEM:
            return
        if not (self.audience is Audience.INSTITUTION and self.subject == fixmedins_code):
            raise YidiError(FORBIDDEN, reason="another institution's records / 其他机构的记录")

    def may_see_full_certno(self, psn_no: str, insured_regions: set[str]) -> bool:
        """The person themself and their insured region's agency see the full ID number; nobody else."""
        if self.audience is Audience.SYSTEM:
            return True
        if self.audience is Audience.PERSON:
            return self.subject == psn_no
        return self.is_staff and bool(self.regions & insured_regions)


SYSTEM = Principal(Audience.SYSTEM, "system")
ANONYMOUS = Principal(Audience.ANONYMOUS)
