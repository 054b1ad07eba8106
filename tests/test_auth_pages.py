"""Who gets in, and what they are shown, through the real app (AppTest).

Login, demo mode and the revisionslog page run on the hand-made organisation of
tests/support_access.py written to disk; the case pages run on the small generated extract.
`at.user` plays the identity provider; `at.secrets` holds an [auth] section (AppTest's
secrets reach `st.secrets`, which is what ui.auth reads to decide that login is set up).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from metrics.access import Viewer, viewer_for_email, viewer_for_employee
from metrics.audit import AuditEvent, append_many, search
from metrics.casework import cases_visible, caseworkers_visible
from metrics.extract import Extract
from metrics.loader import load_extract
from metrics.org import org_tree
from tests.support_access import EMAIL, UNKNOWN_EMAIL, write_extract
from tests.support_app import grids
from ui.auth import audit_download, audited_download_data
from ui.context import PageContext
from ui.export import DownloadRefused, or_refusal, refusal_csv
from ui.fmt import md_escape

APP = str(Path(__file__).resolve().parent.parent / "app.py")
AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "test-cookie-secret-with-enough-bytes",
    "client_id": "styring",
    "client_secret": "secret",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}
# Elements that show figures or rows. None of them may appear for someone without access.
FIGURE_TYPES = {
    "metric",
    "dataframe",
    "table",
    "arrow_data_frame",
    "arrow_vega_lite_chart",
    "vega_lite_chart",
    "plotly_chart",
    "component_instance",
    "bidi_component",
    "download_button",
}


def element_types(at: Any) -> list[str]:
    """Types of every element under an AppTest or one of its blocks (at.main, at.sidebar)."""
    out: list[str] = []

    def walk(node: Any) -> None:
        children = getattr(node, "children", None)
        if isinstance(children, dict):
            for child in children.values():
                out.append(child.type)
                walk(child)

    walk(at._tree if isinstance(at, AppTest) else at)
    return out


def figures(at: AppTest) -> set[str]:
    return set(element_types(at)) & FIGURE_TYPES


def texts(elements: Any) -> list[str]:
    return [e.value for e in elements]


@pytest.fixture(scope="module")
def real_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("real")
    write_extract(root, synthetic=False)
    return root


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    write_extract(root, synthetic=True)
    return root


@pytest.fixture
def audit_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    db = tmp_path / "audit.sqlite"
    monkeypatch.setenv("STYRING_DB_URL", f"sqlite:///{db}")
    monkeypatch.delenv("STYRING_DEMO", raising=False)
    yield db


def make_app(
    root: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    user: dict[str, Any] | None = None,
    auth: bool = True,
    page: str = "views/revisionslog.py",
    params: dict[str, str] | None = None,
) -> AppTest:
    monkeypatch.setenv("STYRING_EXTRACTS", str(root))
    at = AppTest.from_file(APP, default_timeout=120)
    if auth:
        at.secrets = {"auth": dict(AUTH)}
    at.user = user if user is not None else {}
    at.switch_page(page)
    for k, v in (params or {}).items():
        at.query_params[k] = v
    return at.run()


def logged_in(email: str) -> dict[str, Any]:
    return {"is_logged_in": True, "email": email, "name": email.split("@")[0]}


def events(ex: Extract, db: Path) -> pl.DataFrame:
    return search(ex, Viewer.system(), path=db).sort("event_id")


@pytest.fixture(scope="module")
def hand_ex(real_root: Path) -> Extract:
    return load_extract(next(real_root.iterdir()))


# --- who gets in ------------------------------------------------------------------------


def test_no_login_and_real_extract_shows_nothing_but_refusal(
    real_root: Path, audit_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STYRING_DEMO", "1")  # the setting cannot turn demo on for a real extract
    at = make_app(real_root, monkeypatch, auth=False)
    assert not at.exception
    assert texts(at.error) == ["Ingen adgang – login er ikke sat op."]
    assert element_types(at.main) == ["error"]  # the page's own content never runs
    assert "Vis som" not in [s.label for s in at.selectbox]
    assert not figures(at)


def test_demo_mode_on_synthetic_extract(
    demo_root: Path, audit_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = make_app(demo_root, monkeypatch, auth=False, params={"vis_som": "R1"})
    assert not at.exception
    vis_som = at.sidebar.selectbox(key="vis_som")
    # default: the head of the top-most unit staffed (L1, leder of D); the URL cannot pick
    # the identity (vis_som=R1 is ignored and never written back to the URL)
    assert vis_som.value == "L1"
    banner = " ".join(texts(at.warning))
    assert "DEMO" in banner and "Lise Leder" in banner
    assert texts(at.title) == ["Revisionslog"]  # L1 is a leader: the page opens

    vis_som.set_value("R1").run()
    assert "Rasmus Rådgiver" in " ".join(texts(at.warning))
    assert any("ingen adgang til revisionsloggen" in e.lower() for e in texts(at.error))


def test_demo_setting_off(demo_root: Path, audit_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STYRING_DEMO", "0")
    at = make_app(demo_root, monkeypatch, auth=False)
    assert texts(at.error) == ["Ingen adgang – login er ikke sat op."]
    assert not figures(at)


def test_login_configured_beats_demo(
    demo_root: Path, audit_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = make_app(demo_root, monkeypatch, user={"is_logged_in": False})
    assert "Vis som" not in [s.label for s in at.selectbox]
    assert [b.label for b in at.main.button] == ["Log ind"]


def test_not_logged_in_sees_login_page_only(
    real_root: Path, audit_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = make_app(real_root, monkeypatch, user={"is_logged_in": False})
    assert not at.exception
    assert element_types(at.main) == ["title", "info", "button"]
    assert [b.label for b in at.main.button] == ["Log ind"]
    assert "Enhed" not in [s.label for s in at.selectbox]
    assert not figures(at)


def test_unknown_login_is_refused_named_and_logged(
    real_root: Path, audit_db: Path, monkeypatch: pytest.MonkeyPatch, hand_ex: Extract
) -> None:
    at = make_app(real_root, monkeypatch, user=logged_in(UNKNOWN_EMAIL))
    assert not at.exception
    # the email is shown escaped (ui.fmt.md_escape): literal text, never an autolink
    assert len(at.error) == 1 and "Ingen adgang" in at.error[0].value
    assert md_escape(UNKNOWN_EMAIL) in at.error[0].value
    assert element_types(at.main) == ["error"]
    assert [b.label for b in at.sidebar.button] == ["Log ud"]
    assert not figures(at)
    log = events(hand_ex, audit_db)
    assert log.select("action", "email", "employee_id", "page", "target").rows() == [
        ("denied", UNKNOWN_EMAIL, None, "revisionslog", f"login {UNKNOWN_EMAIL}")
    ]


def test_former_employee_is_refused(real_root: Path, audit_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = make_app(real_root, monkeypatch, user=logged_in(EMAIL["OLD"]))  # left 31 Jan 2024
    assert "Ingen adgang" in at.error[0].value
    assert not figures(at)


def test_login_maps_email_case_insensitively(
    real_root: Path, audit_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = make_app(real_root, monkeypatch, user=logged_in(EMAIL["T1"].upper()))
    assert not at.exception
    assert any("Tove Teamleder" in c.value for c in at.sidebar.caption)
    # the unit picker offers the teamleder's subtree only: Team Nord
    assert at.sidebar.selectbox(key="enhed").options == ["Team Nord"]
    assert [b.label for b in at.sidebar.button] == ["Log ud"]


def test_url_unit_outside_scope_is_refused_and_logged(
    real_root: Path, audit_db: Path, monkeypatch: pytest.MonkeyPatch, hand_ex: Extract
) -> None:
    at = make_app(real_root, monkeypatch, user=logged_in(EMAIL["L1"]), params={"enhed": "K"})
    assert any("Enheden 'K'" in e for e in texts(at.error))
    assert "Revisionslog" not in texts(at.title)
    log = events(hand_ex, audit_db)
    assert log.select("action", "employee_id", "page", "target").rows() == [
        ("denied", "L1", "revisionslog", "enhed K")
    ]


# --- the revisionslog page ----------------------------------------------------------------


@pytest.mark.parametrize("employee_id", ["R1", "T1", "AD"])
def test_revisionslog_is_for_leaders_only(
    employee_id: str, real_root: Path, audit_db: Path, monkeypatch: pytest.MonkeyPatch, hand_ex: Extract
) -> None:
    at = make_app(real_root, monkeypatch, user=logged_in(EMAIL[employee_id]))
    assert not at.exception
    assert [e for e in texts(at.error) if "ngen adgang til revisionsloggen" in e]
    assert "Revisionslog" not in texts(at.title)
    assert not figures(at)
    log = events(hand_ex, audit_db)
    assert log.select("action", "employee_id", "page", "target").rows() == [
        ("denied", employee_id, "revisionslog", "revisionsloggen")
    ]


def test_revisionslog_shows_what_search_returns(
    real_root: Path, audit_db: Path, monkeypatch: pytest.MonkeyPatch, hand_ex: Extract
) -> None:
    def by(employee_id: str) -> Viewer:
        v = viewer_for_employee(hand_ex, employee_id)
        assert v is not None
        return v

    append_many(
        [
            AuditEvent.by(by("R1"), "sag", "view", ["C1"]),
            AuditEvent.by(by("R3"), "raadgiver", "download", ["C3"]),
            AuditEvent.by(by("R1"), "sag", "denied", ["C2"], target="sagen C2"),
        ]
    )
    leader = viewer_for_email(hand_ex, EMAIL["L1"])
    assert leader is not None
    at = make_app(real_root, monkeypatch, user=logged_in(EMAIL["L1"]))
    assert not at.exception
    assert texts(at.title) == ["Revisionslog"]
    expected = search(hand_ex, leader, path=audit_db).filter(pl.col("page") != "revisionslog")
    shown = grids(at)["revisionslog"].to_pandas()
    assert shown["Medarbejder"].tolist() == expected["name"].to_list()
    assert shown["Sager"].tolist() == [", ".join(c) for c in expected["case_ids"].to_list()]
    assert shown["Hændelse"].tolist() == ["Afvist", "Download", "Visning"]
    # the page by its title in the menu (app.py), not its url path
    assert shown["Side"].tolist() == ["Sag", "Rådgiveroverblik", "Sag"]

    at.text_input(key="rev_person").set_value("rune").run()  # part of R3's name
    assert grids(at)["revisionslog"].to_pandas()["Medarbejder"].tolist() == ["Rune Rådgiver"]
    at.text_input(key="rev_person").set_value("").run()
    at.text_input(key="rev_sag").set_value("C2").run()
    assert grids(at)["revisionslog"].to_pandas()["Forsøgt"].tolist() == ["sagen C2"]

    # reading the log is logged too: one row per run of the page, by the leader
    reads = events(hand_ex, audit_db).filter(pl.col("page") == "revisionslog")
    assert reads["employee_id"].to_list() == ["L1"] * 4
    assert reads["action"].unique().to_list() == ["view"]
    assert reads["case_ids"].to_list()[-1] == ["C2"]


# --- the case pages, on the generated extract -------------------------------------------


@pytest.fixture(scope="module")
def gen(small_extract: Extract) -> dict[str, Viewer]:
    """Viewers from the generated extract: two caseworkers of different teams, a team leader,
    and someone from administration, all employed at the extract's date and with an email."""
    ex = small_extract
    staff = ex["employees"].filter(pl.col("email").is_not_null())
    active = {
        v.employee_id: v for e in staff["email"].to_list() if (v := viewer_for_email(ex, e)) is not None
    }
    with_cases = set(ex["cases"]["caseworker_id"].drop_nulls().to_list())
    workers = sorted(
        (v for v in active.values() if v.role == "raadgiver" and v.employee_id in with_cases),
        key=lambda v: v.employee_id or "",
    )
    a = workers[0]
    b = next(v for v in workers if v.unit_id != a.unit_id)
    lead = next(v for v in active.values() if v.role == "teamleder" and v.unit_id == a.unit_id)
    admin = next(v for v in active.values() if v.role == "administration")
    return {"a": a, "b": b, "lead": lead, "admin": admin}


def _case_of(ex: Extract, who: Viewer) -> str:
    return str(cases_visible(ex, who, ex.as_of)["case_id"][0])


def test_caseworker_sees_only_own_cases_on_case_page(
    app_env: Path,
    audit_db: Path,
    monkeypatch: pytest.MonkeyPatch,
    small_extract: Extract,
    gen: dict[str, Viewer],
) -> None:
    a, b = gen["a"], gen["b"]
    ex = small_extract
    own = cases_visible(ex, a, ex.as_of)
    assert own.height > 0 and set(
        ex["cases"].filter(pl.col("case_id").is_in(own["case_id"].implode()))["caseworker_id"]
    ) == {a.employee_id}
    # by widget: the case picker lists the caseworker's own cases only (a page of 50 at a time)
    at = make_app(app_env, monkeypatch, user=logged_in(str(a.email)), page="views/sag.py")
    assert not at.exception
    options = set(at.selectbox(key="sag").options)
    assert options <= set(own["case_id"]) and len(options) == min(own.height, 50)

    # by URL: another caseworker's case is refused, nothing about it is shown, and it is logged
    other = _case_of(ex, b)
    at = make_app(
        app_env, monkeypatch, user=logged_in(str(a.email)), page="views/sag.py", params={"sag": other}
    )
    assert any("ikke adgang" in e for e in texts(at.error))
    assert not figures(at)
    log = events(ex, audit_db)
    denied = log.filter(pl.col("action") == "denied")
    assert denied.select("employee_id", "page").rows() == [(a.employee_id, "sag")]
    assert denied["case_ids"].to_list() == [[other]]
    # the only view logged is the case finder's list of their own cases (first run), never `other`
    views = log.filter(pl.col("action") == "view")["case_ids"].to_list()
    assert len(views) == 1 and set(views[0]) == options


def test_every_case_view_is_logged(
    app_env: Path,
    audit_db: Path,
    monkeypatch: pytest.MonkeyPatch,
    small_extract: Extract,
    gen: dict[str, Viewer],
) -> None:
    a = gen["a"]
    case_id = _case_of(small_extract, a)
    at = make_app(
        app_env, monkeypatch, user=logged_in(str(a.email)), page="views/sag.py", params={"sag": case_id}
    )
    assert not at.exception
    at.run()  # a rerun shows the case again: a second row
    views = events(small_extract, audit_db).filter(pl.col("action") == "view")
    assert views.select("employee_id", "page").rows() == [(a.employee_id, "sag")] * 2
    assert views["case_ids"].to_list() == [[case_id]] * 2


def test_caseworker_overview_is_own_and_logged(
    app_env: Path,
    audit_db: Path,
    monkeypatch: pytest.MonkeyPatch,
    small_extract: Extract,
    gen: dict[str, Viewer],
) -> None:
    a, b = gen["a"], gen["b"]
    ex = small_extract
    at = make_app(app_env, monkeypatch, user=logged_in(str(a.email)), page="views/raadgiver.py")
    assert not at.exception
    assert at.selectbox(key="raadgiver").options == [a.name]
    own = set(cases_visible(ex, a, ex.as_of)["case_id"])
    assert set(at.selectbox(key="raadgiver_gaa_til").options) <= own
    views = events(ex, audit_db).filter(pl.col("action") == "view")
    assert views["employee_id"].to_list() == [a.employee_id]
    assert set(views["case_ids"][0]) <= own

    at = make_app(
        app_env, monkeypatch, user=logged_in(str(a.email)), page="views/raadgiver.py",
        params={"raadgiver": str(b.employee_id)},
    )  # fmt: skip
    assert at.error and not figures(at)
    denied = events(ex, audit_db).filter(pl.col("action") == "denied")
    assert denied.select("employee_id", "target").rows() == [(a.employee_id, f"rådgiver {b.employee_id}")]


def test_team_leader_stays_in_subtree(
    app_env: Path,
    audit_db: Path,
    monkeypatch: pytest.MonkeyPatch,
    small_extract: Extract,
    gen: dict[str, Viewer],
) -> None:
    lead, b = gen["lead"], gen["b"]
    ex = small_extract
    at = make_app(app_env, monkeypatch, user=logged_in(str(lead.email)), page="views/raadgiver.py")
    assert not at.exception
    allowed = caseworkers_visible(ex, lead, ex.as_of)
    assert set(at.selectbox(key="raadgiver").options) == set(allowed["name"])
    assert b.employee_id not in set(allowed["employee_id"])
    at = make_app(
        app_env, monkeypatch, user=logged_in(str(lead.email)), page="views/sag.py",
        params={"sag": _case_of(ex, b)},
    )  # fmt: skip
    assert any("ikke adgang" in e for e in texts(at.error))
    assert not figures(at)


def test_administration_sees_no_case_rows(
    app_env: Path,
    audit_db: Path,
    monkeypatch: pytest.MonkeyPatch,
    small_extract: Extract,
    gen: dict[str, Viewer],
) -> None:
    admin, a = gen["admin"], gen["a"]
    case = _case_of(small_extract, a)
    for page, params in [
        ("views/sag.py", {"sag": case}),
        ("views/raadgiver.py", {}),
        ("views/raadgiver.py", {"raadgiver": str(a.employee_id)}),
    ]:
        at = make_app(app_env, monkeypatch, user=logged_in(str(admin.email)), page=page, params=params)
        assert not at.exception
        assert not figures(at)
        assert not {"sag", "raadgiver"} & {s.key for s in at.selectbox}
    log = events(small_extract, audit_db)
    assert log.filter(pl.col("action") == "view").height == 0
    # A link naming a case or a caseworker is a denied attempt, logged; opening the page plainly is not.
    denied = log.filter(pl.col("action") == "denied")
    assert sorted(denied["target"].to_list()) == sorted([f"sag {case}", f"rådgiver {a.employee_id}"])
    assert set(denied["employee_id"].to_list()) == {admin.employee_id}


# --- downloads ------------------------------------------------------------------------------


def test_downloads_are_logged_when_they_happen(
    hand_ex: Extract, audit_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    r1 = viewer_for_employee(hand_ex, "R1")
    assert r1 is not None
    ctx = PageContext(ex=hand_ex, as_of=hand_ex.as_of, unit_id="TA", viewer=r1, tree=org_tree(hand_ex))
    built: list[str] = []

    def make() -> bytes:
        built.append("x")
        return b"file"

    data = audited_download_data(ctx, "raadgiver", ["C1", "C5"], make)
    assert events(hand_ex, audit_db).height == 0  # offering the button logs nothing
    assert data() == b"file"
    audit_download(ctx, "sag", ["C1"])  # the on_click variant
    assert events(hand_ex, audit_db).select("action", "employee_id", "page", "case_ids").rows() == [
        ("download", "R1", "raadgiver", ["C1", "C5"]),
        ("download", "R1", "sag", ["C1"]),
    ]
    # no log, no file: with the log unwritable (a directory), the download is refused unbuilt
    monkeypatch.setenv("STYRING_DB_URL", f"sqlite:///{tmp_path}")
    with pytest.raises(DownloadRefused):
        data()
    assert built == ["x"]
    # and what the user receives says so (ui.tables wraps every download in or_refusal)
    assert or_refusal(data, refusal_csv)().decode("utf-8-sig").startswith("Download afvist")  # type: ignore[union-attr]
    assert built == ["x"]
