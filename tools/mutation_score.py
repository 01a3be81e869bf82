"""Mutation score per file from mutmut's results (`mutants/**/*.py.meta`), for `make mutation`.

A mutant is killed when a test failed with it (any exit code but those below), survived with exit code 0, and
not covered when no selected test ran its function (5 or 33: the worst case, counted against the score).
Timeouts (24, 152, -24) count as killed: the mutant made a test hang, which a test run reports as a failure.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

SURVIVED, NOT_COVERED, NOT_CHECKED = 0, (5, 33), (None,)


def main(root: str = "mutants") -> int:
    rows = []
    for meta in sorted(Path(root).rglob("*.py.meta")):
        codes = json.loads(meta.read_text(encoding="utf-8")).get("exit_code_by_key", {})
        count: Counter[str] = Counter()
        for code in codes.values():
            if code in NOT_CHECKED:
                count["not checked"] += 1
            elif code == SURVIVED:
                count["survived"] += 1
            elif code in NOT_COVERED:
                count["not covered"] += 1
            else:
                count["killed"] += 1
        if codes:
            rows.append((str(meta.relative_to(root))[: -len(".meta")], count))
    print(f"{'file':45} {'mutants':>8} {'killed':>7} {'survived':>9} {'no test':>8} {'score':>7}")
    for name, c in rows:
        total = sum(c.values())
        judged = c["killed"] + c["survived"] + c["not covered"]
        score = f"{100 * c['killed'] / judged:.1f} %" if judged else "—"
        print(f"{name:45} {total:8} {c['killed']:7} {c['survived']:9} {c['not covered']:8} {score:>7}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
