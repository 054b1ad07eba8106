"""`python -m metrics audit verify` and the Revisionslog page's verification status."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import streamlit as st

from metrics import storage
from metrics.cli import main
from tests.support_access import EMAIL
from tests.test_auth_pages import logged_in, make_app, real_root  # noqa: F401 (a fixture)
from tests.test_storage_audit import five, tamper


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, object] | None, str]:
    code = main(["audit", "verify", *argv])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else None), err


def test_exit_0_when_intact(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    five(db_url)
    code, out, err = run(capsys, "--db", db_url)
    assert (code, err) == (0, "")
    assert out is not None and out["ok"] is True and out["rows"] == 5


def test_exit_1_names_the_first_broken_row(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    five(db_url)
    tamper(db_url, "UPDATE audit_event SET action = 'view', allowed = 1 WHERE event_id = 2")
    code, out, err = run(capsys, "--db", db_url)
    assert code == 1
    assert out is not None and out["broken_event_id"] == 2
    assert err.startswith("audit log broken: event 2 ")


def test_checkpoint_file_from_option_and_setting(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cp = tmp_path / "cp.log"
    monkeypatch.setenv("STYRING_AUDIT_CHECKPOINT", str(cp))
    five(db_url)  # one append, one checkpoint line: 5 rows
    assert run(capsys, "--db", db_url, "--checkpoint", str(cp))[0] == 0
    tamper(db_url, "DELETE FROM audit_case WHERE event_id = 5", "DELETE FROM audit_event WHERE event_id = 5")
    code, _, err = run(capsys, "--db", db_url)  # the setting names the file
    assert code == 1 and "counted 5" in err
    # a checkpoint file that says nothing about this database is not a pass
    other = tmp_path / "other.log"
    other.write_text('audit checkpoint {"rows":1,"hash":"ab","at":"","db":"sqlite:////elsewhere.sqlite"}\n')
    code, _, err = run(capsys, "--db", db_url, "--checkpoint", str(other))
    assert code == 1 and "no checkpoint for this database" in err


def test_exit_2_when_it_cannot_be_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], postgres_server: object
) -> None:
    missing = tmp_path / "missing.sqlite"
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"garbage" * 1000)
    no_such_pg = storage.db_url(postgres_server.url("no_such_database"))  # type: ignore[attr-defined]
    for db in [str(missing), str(junk), no_such_pg]:
        code, out, err = run(capsys, "--db", db)
        assert (code, out) == (2, None), db
        assert err.startswith("audit log cannot be read: ")
    assert not missing.exists()
    good = tmp_path / "good.sqlite"
    five(str(good))
    code, _, err = run(capsys, "--db", str(good), "--checkpoint", str(tmp_path / "no-such-file"))
    assert code == 2 and "no-such-file" in err


def test_revisionslog_shows_the_status(
    real_root: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = tmp_path / "page.sqlite"
    url = f"sqlite:///{db}"
    monkeypatch.setenv("STYRING_DB_URL", url)
    monkeypatch.delenv("STYRING_DEMO", raising=False)
    five(url)
    at = make_app(real_root, monkeypatch, user=logged_in(EMAIL["L1"]))
    assert not at.exception
    assert [s.value for s in at.success] == [
        "Revisionsloggen er intakt: hash-kæden over 5 hændelser er kontrolleret (intet kontrolpunkt angivet)."
    ]
    tamper(url, "UPDATE audit_event SET target = 'x' WHERE event_id = 3")
    st.cache_data.clear()  # the page re-checks at most once a minute
    at = make_app(real_root, monkeypatch, user=logged_in(EMAIL["L1"]))
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("Revisionsloggen er brudt ved hændelse 3: event 3 ")
