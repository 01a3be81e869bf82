"""Reading a parameter tree and resolving it at a date. Pure: takes file texts, returns values.

Layout (the OpenFisca pattern): a directory is a node, a YAML file is a node whose children are leaves or
further nodes, and `index.yaml` describes its directory. A **leaf** is a mapping with `values`: start date →
`{value, reference}` (or `null`, which ends the value). Each start date opens an interval lasting until the
next date; resolution at D takes the latest start date ≤ D. A value may be a scalar or a small table
(by level, by person type, a list of bands): one policy document changes a whole table at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

NODE_META_KEYS = {"description", "metadata", "documentation"}


class TreeError(Exception):
    """A structural problem in a parameter file: which file, which key, what is wrong."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        self.file, self.key, self.problem = file, key, problem
        super().__init__(f"{file}: {key}: {problem}")


@dataclass(frozen=True)
class DatedValue:
    start: dt.date
    value: Any  # None when this start date ends the value
    reference: str


@dataclass(frozen=True)
class Leaf:
    path: tuple[str, ...]
    file: str
    description: str
    unit: str | None
    values: tuple[DatedValue, ...]  # ascending by start

    @property
    def key(self) -> str:
        return ".".join(self.path)

    def entry_at(self, day: dt.date) -> DatedValue | None:
        """The latest entry starting on or before `day` (its value is None if it ended the leaf)."""
        found = None
        for v in self.values:
            if v.start <= day:
                found = v
            else:
                break
        return found

    def at(self, day: dt.date) -> DatedValue | None:
        """The value in force on `day`, or None if none has started or the last one was ended."""
        found = self.entry_at(day)
        return None if found is None or found.value is None else found


@dataclass
class Tree:
    """All leaves of one or more parameter directories, by dotted path."""

    leaves: dict[tuple[str, ...], Leaf] = field(default_factory=dict)
    descriptions: dict[tuple[str, ...], str] = field(default_factory=dict)

    def under(self, prefix: tuple[str, ...]) -> Iterator[Leaf]:
        n = len(prefix)
        for path, leaf in self.leaves.items():
            if path[:n] == prefix:
                yield leaf

    def children(self, prefix: tuple[str, ...]) -> set[str]:
        n = len(prefix)
        return {p[n] for p in self.leaves if p[:n] == prefix and len(p) > n}

    def snapshot(self, prefix: tuple[str, ...], day: dt.date) -> dict[str, Any]:
        """Nested dict of every value under `prefix` on `day`.

        A leaf not yet started is absent (a required field then reports "missing"); a leaf ended by `null`
        is present as None, which is how a region states that it has no such rule.
        """
        out: dict[str, Any] = {}
        for leaf in self.under(prefix):
            v = leaf.entry_at(day)
            if v is None:
                continue
            node = out
            for part in leaf.path[len(prefix) : -1]:
                node = node.setdefault(part, {})
            node[leaf.path[-1]] = v.value
        return out

    def start_dates(self, prefix: tuple[str, ...]) -> set[dt.date]:
        return {v.start for leaf in self.under(prefix) for v in leaf.values}

    def source_of(self, path: tuple[str, ...]) -> str | None:
        """The file holding the leaf at `path` or, failing that, any leaf below it."""
        leaf = self.leaves.get(path)
        if leaf:
            return leaf.file
        for p, leaf in self.leaves.items():
            if p[: len(path)] == path:
                return leaf.file
        return None


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (a second start date would silently win otherwise)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in mapping:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


def _construct_decimal(loader: _UniqueKeyLoader, node: yaml.ScalarNode) -> Decimal:
    # YAML would give a float; money and ratios must stay exact from the file onwards.
    text = str(loader.construct_scalar(node)).replace("_", "")
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise yaml.constructor.ConstructorError(None, None, f"not a decimal: {text}", node.start_mark) from exc


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)


def parse_file(text: str, file: str, prefix: tuple[str, ...], tree: Tree) -> None:
    """Add the leaves of one YAML file (whose node path is `prefix`) to `tree`."""
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise TreeError(file, ".".join(prefix), f"not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise TreeError(file, ".".join(prefix), "a parameter file must be a mapping")
    _parse_node(data, file, prefix, tree)


def _parse_node(data: dict[str, Any], file: str, path: tuple[str, ...], tree: Tree) -> None:
    if "values" in data:
        _parse_leaf(data, file, path, tree)
        return
    if isinstance(data.get("description"), str):
        tree.descriptions[path] = data["description"]
    for key, child in data.items():
        if key in NODE_META_KEYS:
            continue
        if not isinstance(key, str) or not key:
            raise TreeError(file, ".".join(path), f"child name {key!r} must be a non-empty string")
        if not isinstance(child, dict):
            raise TreeError(file, ".".join((*path, key)), "must be a leaf (with `values`) or a node (a mapping)")
        _parse_node(child, file, (*path, key), tree)


def _parse_leaf(data: dict[str, Any], file: str, path: tuple[str, ...], tree: Tree) -> None:
    key = ".".join(path)
    unknown = set(data) - {"values", "description", "metadata", "documentation"}
    if unknown:
        raise TreeError(file, key, f"unknown leaf fields {sorted(unknown)}")
    metadata = data.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise TreeError(file, key, "metadata must be a mapping")
    default_ref = metadata.get("reference")
    raw_values = data["values"]
    if not isinstance(raw_values, dict) or not raw_values:
        raise TreeError(file, key, "values must map start dates to values")
    values: list[DatedValue] = []
    previous: dt.date | None = None
    for start, entry in raw_values.items():
        if not isinstance(start, dt.date) or isinstance(start, dt.datetime):
            raise TreeError(file, key, f"start {start!r} is not a date (YYYY-MM-DD)")
        if previous is not None and start <= previous:
            raise TreeError(file, key, f"start dates out of order: {start} after {previous}")
        previous = start
        if entry is None:
            values.append(DatedValue(start, None, default_ref or ""))
            continue
        if isinstance(entry, dict) and "value" in entry:
            extra = set(entry) - {"value", "reference", "note", "expected"}
            if extra:
                raise TreeError(file, key, f"{start}: unknown fields {sorted(extra)}")
            if entry.get("expected"):
                continue  # announced, not yet law: metadata only
            value, reference = entry["value"], entry.get("reference") or default_ref
        else:
            value, reference = entry, default_ref
        if not reference:
            raise TreeError(file, key, f"{start}: no reference (document number, URL or 'illustrative')")
        values.append(DatedValue(start, value, str(reference)))
    tree.leaves[path] = Leaf(path, file, str(data.get("description", "")), metadata.get("unit"), tuple(values))


def load_directory(root: Path, tree: Tree | None = None) -> Tree:
    """Read every YAML file under `root`; a later directory's leaf replaces an earlier one at the same path."""
    tree = tree or Tree()
    if not root.is_dir():
        raise TreeError(str(root), "", "parameter directory does not exist")
    for file in sorted(root.rglob("*.yaml")):
        rel = file.relative_to(root)
        parts = tuple(rel.parts[:-1])
        prefix = parts if file.stem == "index" else (*parts, file.stem)
        parse_file(file.read_text(encoding="utf-8"), str(file), prefix, tree)
    return tree
