"""A download of case-level rows is logged when it happens, and the file is what it was asked for."""

from __future__ import annotations

from pathlib import Path

import pytest

from metrics.access import viewer_for_employee
from metrics.audit import search
from metrics.org import org_tree
from tests.conftest import make_extract
from tests.support_access import AS_OF, tables
from ui.auth import download_audit
from ui.context import PageContext


def test_download_wrapper_logs_then_builds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "audit.sqlite"
    monkeypatch.setenv("STYRING_DB_URL", f"sqlite:///{db}")
    ex = make_extract(as_of=AS_OF, **tables())
    viewer = viewer_for_employee(ex, "R1")
    leader = viewer_for_employee(ex, "L1")  # reads the log
    assert viewer is not None and leader is not None
    ctx = PageContext(ex=ex, as_of=AS_OF, unit_id=viewer.unit_id or "", viewer=viewer, tree=org_tree(ex))
    built: list[int] = []

    def make() -> bytes:
        built.append(1)
        return b"xlsx-bytes"

    data = download_audit(ctx, "raadgiver", ["C1", "C2"])(make)
    assert search(ex, leader, path=db).height == 0  # nothing before the click
    assert data() == b"xlsx-bytes"
    assert built == [1]
    events = search(ex, leader, path=db)
    row = events.row(0, named=True)
    assert events.height == 1
    assert (row["employee_id"], row["page"], row["action"], sorted(row["case_ids"])) == (
        "R1",
        "raadgiver",
        "download",
        ["C1", "C2"],
    )
