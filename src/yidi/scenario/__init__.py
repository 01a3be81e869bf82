"""Scenario loader: an agency's or an HIS vendor's own test cases from one documented YAML file.

`load_scenario(session, text_or_path, now, principal=SYSTEM)` writes institutions, insured persons, sign-in,
catalogues, filings and manual claims through the production use cases, all or nothing. The format is described in
docs/scenario.md; `example.yaml` next to this file is a complete, commented example.

`register_cli` is imported eagerly (it needs only typer and yidi.cli_support); the rest is imported on first
use, so adding the `scenario` command group does not slow down every `yidi` command.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from yidi.scenario.cli import register_cli

if TYPE_CHECKING:
    from yidi.scenario.errors import Problem, ScenarioError
    from yidi.scenario.service import ClaimOutcome, FilingOutcome, ScenarioReport, load_scenario, parse_scenario

_LAZY = {
    "ClaimOutcome": "yidi.scenario.service",
    "Problem": "yidi.scenario.errors",
    "ScenarioError": "yidi.scenario.errors",
    "FilingOutcome": "yidi.scenario.service",
    "ScenarioReport": "yidi.scenario.service",
    "load_scenario": "yidi.scenario.service",
    "parse_scenario": "yidi.scenario.service",
}

__all__ = [
    "ClaimOutcome",
    "FilingOutcome",
    "Problem",
    "ScenarioError",
    "ScenarioReport",
    "load_scenario",
    "parse_scenario",
    "register_cli",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'yidi.scenario' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
