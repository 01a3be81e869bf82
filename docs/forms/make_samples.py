"""Print forms 1–5 from the demo data into docs/forms (the PDFs, and PNGs of their first page at 80 dpi).

    PYTHONPATH=src python docs/forms/make_samples.py docs/forms

Uses the facts of the form tests (tests/reimbursement/forms_support.py: 徐某甲's settled stay in 北京, 王某甲's
approved claim) on a throw-away SQLite database; needs poppler-utils (pdftoppm) and Pillow (a reportlab
dependency) for 16-grey PNGs of a few tens of kilobytes. Only form5-settlement-sheet.pdf is kept in the repository.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("YIDI_ENVIRONMENT", "test")
os.environ.setdefault("YIDI_ARGON2_TIME_COST", "1")
os.environ.setdefault("YIDI_ARGON2_MEMORY_KIB", "256")

from fastapi.testclient import TestClient  # noqa: E402
from PIL import Image  # noqa: E402
from tests.helpers import person_headers  # noqa: E402
from tests.reimbursement import forms_support as facts  # noqa: E402
from tests.reimbursement.test_forms_input import OUTSIDE_ITEMS  # noqa: E402

from yidi.app import create_app  # noqa: E402
from yidi.bootstrap import prepare  # noqa: E402
from yidi.core import clock  # noqa: E402
from yidi.core.clock import SHANGHAI  # noqa: E402
from yidi.core.db import Database  # noqa: E402
from yidi.demo.service import load_demo  # noqa: E402
from yidi.settlement.models import Settlement  # noqa: E402


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    db = Database(f"sqlite:///{tempfile.mkdtemp()}/samples.sqlite3")
    prepare(db)
    with db.unit_of_work() as s:
        load_demo(s, dt.datetime(2021, 1, 1, tzinfo=SHANGHAI))
    with TestClient(create_app(db)) as http:
        stay = facts.settle_stay(http, db)
        facts.add_claims(db)
        with db.unit_of_work() as s:  # settled at discharge, not when this script runs
            row = s.get(Settlement, stay["setl_id"])
            assert row is not None
            row.setl_time = dt.datetime(2025, 6, 10, 10, 30, tzinfo=SHANGHAI)
        xu, wang = person_headers(http, facts.XU), person_headers(http, facts.WANG)
        clock.now = lambda: dt.datetime(2025, 7, 20, 9, 15, tzinfo=SHANGHAI)  # the footer's print time
        filing = f"/api/v1/filings/{stay['filing_id']}/forms"
        answers = {
            "form1-registration": http.get(f"{filing}/registration.pdf", headers=xu),
            "form2-undertaking": http.get(f"{filing}/undertaking.pdf", headers=xu),
            "form3-injury-undertaking": http.post(
                "/api/v1/forms/injury-undertaking.pdf",
                headers=wang,
                json={
                    "claim_visit": {"claim_id": facts.DRAFT, "visit_seq": 1},
                    "injury_date": "2025-03-02",
                    "injury_place": "河南省漯河市源汇区家中",
                    "description": "在家中浴室滑倒，右腕着地致右桡骨远端骨折，无他人参与",
                },
            ),
            "form4-outside-care": http.post(
                "/api/v1/forms/outside-care.pdf",
                headers=wang,
                json={
                    "claim_visit": {"claim_id": facts.CLAIM, "visit_seq": 1},
                    "items": OUTSIDE_ITEMS,
                    "department": "神经内科",
                    "admission_no": "ZY20250302",
                },
            ),
            "form5-settlement-sheet": http.get(
                f"/api/v1/settlements/{stay['setl_id']}/forms/settlement-sheet.pdf", headers=xu
            ),
            "form5-claim-settlement-sheet": http.get(
                f"/api/v1/claims/{facts.CLAIM}/forms/settlement-sheet.pdf", headers=wang
            ),
        }
    for name, answer in answers.items():
        assert answer.status_code == 200, (name, answer.text)
        pdf = out / f"{name}.pdf"
        pdf.write_bytes(answer.content)
        tool = shutil.which("pdftoppm") or "pdftoppm"  # poppler-utils
        subprocess.run([tool, "-r", "80", "-png", "-singlefile", str(pdf), str(out / name)], check=True)  # noqa: S603
        png = out / f"{name}.png"
        Image.open(png).convert("L").quantize(colors=16, dither=Image.Dither.NONE).save(png, optimize=True)
        if name != "form5-settlement-sheet":
            pdf.unlink()
        print(f"{png.name}: {png.stat().st_size} bytes")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/forms"))
