"""What every settlement transaction shares: the call (who, which message, when) and the refusals it answers.

The input readers (`text`, `time`, `date`, `amount`, `decimal`) are yidi.core.inputs; `BAD_INPUT` is theirs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from yidi.core import audit
from yidi.core.errors import ErrorKind
from yidi.core.inputs import BAD_INPUT as BAD_INPUT  # re-exported: the settlement modules refuse with it
from yidi.core.principal import Principal
from yidi.settlement import engine

REFUSED = ErrorKind("S_REFUSED", "不能直接结算：{reason}", "cannot settle directly: {reason}", 422)
STATE = ErrorKind(
    "S_STATE", "就诊 {mdtrt_id} 当前为{status}，不能{action}", "visit {mdtrt_id} is {status}; cannot {action}", 409
)
MISMATCH = ErrorKind(
    "S_MISMATCH",
    "{field} 与已上传费用不符：传入 {given}，应为 {expected}",
    "{field} does not match the uploaded fees: given {given}, expected {expected}",
    422,
)
COUNT_KEYS = {engine.Acc.INPATIENT_STAYS.value}
OUTPATIENT_TYPES = {"11", "12", "13", "14", "19", "41", "51"}  # cleared as 门诊 (clr_type 11); 41 药店购药


@dataclass(frozen=True)
class Call:
    principal: Principal  # the institution (signed request)
    msgid: str
    infno: str
    now: dt.datetime
    insuplc_admdvs: str

    @property
    def fixmedins_code(self) -> str:
        return self.principal.subject

    def audit(self, session: Session, action: str, entity_type: str, entity_id: str, after: dict[str, Any]) -> None:
        """The audit row of a state change this call made (the institution, through the interface)."""
        audit.record(
            session,
            at=self.now,
            actor_type="institution",
            actor_id=self.fixmedins_code,
            channel="interface",
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            msgid=self.msgid,
            after=after,
        )
