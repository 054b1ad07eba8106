"""Shared fixtures. Helper modules with more fixtures live in tests/support_*.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from metrics.extract import Extract, Manifest

FIXTURE_END = date(2026, 11, 20)


@pytest.fixture(scope="session", autouse=True)
def full_error_details() -> None:
    """The shipped config shows users an error's type only, and AppTest then redacts the
    message and stack of `at.exception` too: tests see the full error, as in development."""
    from streamlit import config

    config.get_option("client.showErrorDetails")  # load .streamlit/config.toml first
    config.set_option("client.showErrorDetails", "full")


def manifest(as_of: date = date(2024, 6, 14), synthetic: bool = False) -> Manifest:
    return Manifest(
        contract_version=1,
        municipality="Testkommune",
        as_of=as_of,
        created_at=datetime.combine(as_of, datetime.min.time()),
        sources=("test",),
        synthetic=synthetic,
    )


def make_extract(as_of: date = date(2024, 6, 14), **frames: Any) -> Extract:
    """An extract from tiny hand-made tables, through the same validation as files.

    Tables left out are empty; `org_units` defaults to a root K with teams A and B.
    Frames may be polars DataFrames or dicts of columns.
    """
    from metrics.loader import validate_frames

    tables = {k: v if isinstance(v, pl.DataFrame) else pl.DataFrame(v) for k, v in frames.items()}
    tables.setdefault(
        "org_units",
        pl.DataFrame(
            {
                "unit_id": ["K", "A", "B"],
                "parent_id": [None, "K", "K"],
                "name": ["Kommune", "Team A", "Team B"],
                "level": ["kommune", "team", "team"],
            }
        ),
    )
    return validate_frames(manifest(as_of), tables)


def frame(table: str, rows: list[dict[str, Any]]) -> pl.DataFrame:
    """A contract table from row dicts, with the contract's dtypes."""
    from metrics.contract import polars_schema

    return pl.DataFrame(rows, schema=polars_schema(table), orient="row")


def clean_extract(as_of: date, **rows: list[dict[str, Any]]) -> Extract:
    """An extract from row dicts per table that must pass validation untouched."""
    ex = make_extract(as_of=as_of, **{t: frame(t, r) for t, r in rows.items()})
    assert ex.rejected_total == 0, ex.report  # the fixture itself must be valid
    return ex


@pytest.fixture(autouse=True)
def private_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test writes to its own database, never the repository's data/styring.sqlite, and
    no test imports a data/audit.sqlite of the developer's."""
    db = tmp_path / "styring.sqlite"
    monkeypatch.setenv("STYRING_DB_URL", f"sqlite:///{db}")
    monkeypatch.setenv("STYRING_AUDIT_DB", str(tmp_path / "no-legacy-audit.sqlite"))
    monkeypatch.delenv("STYRING_AUDIT_CHECKPOINT", raising=False)
    yield db


@pytest.fixture(scope="session")
def small_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two small synthetic extracts (14 days apart) made by the demo generator."""
    from data.generate import generate_series

    root = tmp_path_factory.mktemp("extracts")
    generate_series(root, end=FIXTURE_END, seed=7, count=2, size="small")
    return root


@pytest.fixture(scope="session")
def small_extract(small_root: Path) -> Extract:
    from metrics.loader import load_extract

    return load_extract(small_root / FIXTURE_END.isoformat())


@pytest.fixture
def app_env(small_root: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point the app at the small fixture extracts (for AppTest)."""
    monkeypatch.setenv("STYRING_EXTRACTS", str(small_root))
    yield small_root


# --- the storage engines: SQLite and a real PostgreSQL server -------------------------------


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Any]:
    """A PostgreSQL server for the session (tests/support_db.py); fails with the reason when
    it cannot be started."""
    from tests.support_db import PostgresUnavailable, start_postgres

    try:
        server = start_postgres()
    except PostgresUnavailable as e:
        pytest.fail(str(e), pytrace=False)
    yield server
    from metrics import storage

    storage.dispose_all()
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh, empty database on each engine, set as STYRING_DB_URL."""
    from metrics import storage

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_server").new_database()
    monkeypatch.setenv("STYRING_DB_URL", url)
    yield url
    storage.dispose(url)
