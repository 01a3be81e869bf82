"""The parameter store: the shipped tree plus an agency's own trees, resolved at a date into typed policy.

`ParameterStore.at(region, day)` is what the settlement engine and the filing rules call. A region's values
are looked up at the service (or admission) date given by the caller; nothing here reads the clock.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from yidi.core.errors import ErrorKind, YidiError
from yidi.parameters.policy import FilingCategory, InputLimits, NationalPolicy, NoFilingZone, RegionPolicy
from yidi.parameters.tree import Tree, TreeError, load_directory
from yidi.reference.rules import divisions

PARAMETERS_MISSING = ErrorKind(
    "E_PARAMS_MISSING",
    "参保地 {region} 在 {day} 没有有效的政策参数：{problem}",
    "no policy parameters in force for insured region {region} on {day}: {problem}",
    422,
)
PARAMETERS_INVALID = ErrorKind(
    "E_PARAMS_INVALID", "政策参数文件有误：{problem}", "the policy parameter tree is invalid: {problem}", 500
)

REGIONS = ("regions",)
NATIONAL = ("national",)


@dataclass(frozen=True)
class Problem:
    """One finding of `check`: where it is and what is wrong."""

    file: str
    key: str
    problem: str
    day: dt.date | None = None
    severity: str = "error"  # or "warning"

    def __str__(self) -> str:
        when = f" (in force {self.day})" if self.day else ""
        return f"{self.severity.upper()} {self.file}: {self.key}{when}: {self.problem}"


def shipped_directory() -> Path:
    return Path(str(resources.files("yidi.parameters").joinpath("data")))


class ParameterStore:
    def __init__(self, directories: list[Path]) -> None:
        self.directories = directories
        self.tree = Tree()
        self.load_problems: list[Problem] = []
        for d in directories:
            try:
                load_directory(d, self.tree)
            except TreeError as exc:
                self.load_problems.append(Problem(exc.file, exc.key, exc.problem))
        self._cache: dict[tuple[str, dt.date], RegionPolicy] = {}
        self._limits: dict[dt.date, InputLimits] = {}  # read on every fee upload: validated once a day

    # -- look-ups -------------------------------------------------------------------------------------

    def regions(self) -> list[str]:
        return sorted(self.tree.children(REGIONS))

    def at(self, region: str, day: dt.date) -> RegionPolicy:
        """The region's typed policy in force on `day`; raises E_PARAMS_MISSING when incomplete."""
        key = (region, day)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if self.load_problems:
            raise YidiError(PARAMETERS_INVALID, problem="; ".join(str(p) for p in self.load_problems[:3]))
        if region not in self.tree.children(REGIONS):
            raise YidiError(PARAMETERS_MISSING, region=region, day=day, problem="no parameter tree for this region")
        policy, problems = self._resolve(region, day)
        if policy is None:
            raise YidiError(
                PARAMETERS_MISSING,
                region=region,
                day=day,
                problem="; ".join(f"{p.key}: {p.problem}" for p in problems[:5]),
            )
        if len(self._cache) > 4096:
            self._cache.clear()
        self._cache[key] = policy
        return policy

    def national(self, day: dt.date) -> NationalPolicy:
        data = self.tree.snapshot(NATIONAL, day)
        try:
            return NationalPolicy.model_validate({**data, "on": day})
        except ValidationError as exc:
            problems = self._problems(exc, NATIONAL, day)
            raise YidiError(
                PARAMETERS_MISSING, region="national", day=day, problem="; ".join(p.problem for p in problems[:5])
            ) from exc

    def input_limits(self, day: dt.date) -> InputLimits:
        """The interface's bounds in force on `day` (the rest of the national tree need not be complete then)."""
        cached = self._limits.get(day)
        if cached is not None:
            return cached
        data = self.tree.snapshot((*NATIONAL, "input_limits"), day)
        try:
            limits = self._limits[day] = InputLimits.model_validate(data)
            return limits
        except ValidationError as exc:
            problems = self._problems(exc, (*NATIONAL, "input_limits"), day)
            raise YidiError(
                PARAMETERS_MISSING, region="national", day=day, problem="; ".join(p.problem for p in problems[:5])
            ) from exc

    def no_filing_zones(self, day: dt.date) -> dict[str, NoFilingZone]:
        """Zones in force on `day` (the rest of the national tree need not be complete then)."""
        data = self.tree.snapshot((*NATIONAL, "no_filing_zones"), day)
        return {k: NoFilingZone.model_validate(v) for k, v in data.items() if v is not None}

    def reference_of(self, region: str, key: str, day: dt.date) -> str | None:
        """The document that set `key` (dotted, below the region) on `day`."""
        leaf = self.tree.leaves.get((*REGIONS, region, *key.split(".")))
        value = leaf.at(day) if leaf else None
        return value.reference if value else None

    # -- resolution and checking ----------------------------------------------------------------------

    def _resolve(self, region: str, day: dt.date) -> tuple[RegionPolicy | None, list[Problem]]:
        prefix = (*REGIONS, region)
        data: dict[str, Any] = self.tree.snapshot(prefix, day)
        division = divisions().get(region)
        data.update(region=region, name=division.name if division else region, on=day)
        try:
            return RegionPolicy.model_validate(data), []
        except ValidationError as exc:
            return None, self._problems(exc, prefix, day)

    def _problems(self, exc: ValidationError, prefix: tuple[str, ...], day: dt.date) -> list[Problem]:
        out = []
        for err in exc.errors():
            loc = tuple(str(p) for p in err["loc"] if not str(p).startswith(("function-", "tagged-union")))
            loc = tuple(p for p in loc if not p.startswith("<"))  # discriminator tags
            path = (*prefix, *loc)
            file = None
            for n in range(len(path), len(prefix), -1):
                file = self.tree.source_of(path[:n])
                if file:
                    break
            problem = err["msg"] if err["type"] != "missing" else "missing (no value in force on this date)"
            out.append(Problem(file or "/".join(prefix), ".".join(loc) or "(region)", problem, day))
        return out

    def check(self) -> list[Problem]:
        """Validate the whole tree: structure, and every region complete and valid at every start date."""
        problems = list(self.load_problems)
        if problems:
            return problems
        national_dates = sorted(self.tree.start_dates(NATIONAL))
        # The national tree is complete from the day its last leaf starts; earlier dates are history.
        firsts = [
            leaf.values[0].start
            for leaf in self.tree.under(NATIONAL)
            if leaf.path[1] not in ("no_filing_zones", "input_limits")
        ]
        complete_from = max(firsts) if firsts else None
        for day in national_dates:
            if complete_from is None or day < complete_from:
                continue
            try:
                self.national(day)
            except YidiError:
                data = self.tree.snapshot(NATIONAL, day)
                try:
                    NationalPolicy.model_validate({**data, "on": day})
                except ValidationError as exc:
                    problems += self._problems(exc, NATIONAL, day)
        for region in self.regions():
            problems += self._check_region(region, national_dates)
        return problems

    def _check_region(self, region: str, national_dates: list[dt.date]) -> list[Problem]:
        prefix = (*REGIONS, region)
        division = divisions().get(region)
        if division is None or not division.is_pooling_region:
            return [Problem(str(self.tree.source_of(prefix)), region, "not a pooling region code (GB/T 2260)")]
        dates = sorted(self.tree.start_dates(prefix))
        first = dates[0]
        problems: list[Problem] = []
        seen: set[str] = set()
        for day in sorted(set(dates) | {d for d in national_dates if d > first}):
            policy, found = self._resolve(region, day)
            if policy is not None:
                found += self._warnings(policy, day)
            for p in found:
                text = f"{p.file}|{p.key}|{p.problem}"
                if text not in seen:  # report a lasting gap once, at the first date it appears
                    seen.add(text)
                    problems.append(p)
        return problems

    def _warnings(self, policy: RegionPolicy, day: dt.date) -> list[Problem]:
        out: list[Problem] = []
        try:
            ceilings = self.national(day).ceiling_points
        except YidiError:
            return out
        limits = {
            FilingCategory.REFERRAL: ceilings["referral_or_emergency"],
            FilingCategory.EMERGENCY: ceilings["referral_or_emergency"],
            FilingCategory.OTHER_TEMPORARY: ceilings["other_temporary"],
        }
        for scope in ("in_province", "cross_province"):
            table = getattr(policy.cross_region, scope)
            for category, limit in limits.items():
                cut = table[category].point_cut
                if cut > limit:
                    key = f"cross_region.{scope}.{category.value}.point_cut"
                    out.append(
                        Problem(
                            str(self.tree.source_of((*REGIONS, policy.region, "cross_region"))),
                            key,
                            f"cut of {cut} points exceeds the national ceiling of {limit} (医保发〔2022〕22号)",
                            day,
                            "warning",
                        )
                    )
        if policy.filing.temporary_validity_months < 6:
            out.append(
                Problem(
                    str(self.tree.source_of((*REGIONS, policy.region, "filing"))),
                    "filing.temporary_validity_months",
                    "temporary filings must be valid at least 6 months nationally",
                    day,
                    "warning",
                )
            )
        return out


_stores: dict[tuple[Path, ...], ParameterStore] = {}
_stores_lock = threading.Lock()


def _store_for(dirs: tuple[Path, ...]) -> ParameterStore:
    store = _stores.get(dirs)
    if store is None:
        with _stores_lock:  # concurrent first requests of a fresh worker would each parse the whole tree
            store = _stores.get(dirs)
            if store is None:
                store = _stores[dirs] = ParameterStore(list(dirs))
    return store


def default_store() -> ParameterStore:
    """The shipped tree plus YIDI_PARAMETER_DIRS, loaded once per process."""
    from yidi.core.config import get_settings

    return _store_for((shipped_directory(), *get_settings().parameter_dirs))
