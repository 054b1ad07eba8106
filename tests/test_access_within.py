"""An older extract's aggregate figures cover only the units the viewer may see today (issue 9,
section 1: "an older extract is shown only within that scope").

Two extracts, written to disk (tests/support_access.write_extract):

    older  2024-03-15: K > {A, B}; A > {TA, T}; TA > {TV}; B > {TB}
    newest 2024-06-14: K > {A, B}; A > {TA};    B > {TB, T}       (T moved to B, TV is gone)

LA leads A, LB leads B, AD is administration, TL is teamleder of TA, R1 raadgiver in TA.
One open case per team and one intervention each, paid once in January 2024 (ended 31 Jan, so
nothing is committed later), budgets of 2024 on the team:

    team  case  account  paid   budget
    TA    CTA   5.28.20  1000   10000
    T     CT    5.28.21  2000    4000
    TV    CTV   5.28.20  4000   40000
    TB    CTB   5.28.20  8000   80000

Today's scopes: LA {A, TA}, LB {B, TB, T}, TL {TA}. In the older extract (by unit id) LA may see
A, TA and TV (TV is gone, its old parent TA is under A), not T; LB may see B, TB and T; TL TA and
TV; R1 only TA (a vanished unit is for the leaders above it).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from metrics import registry
from metrics.access import Viewer, aggregate_units, scope_for, viewer_for_email, within_for
from metrics.compare import compare
from metrics.contract import polars_schema
from metrics.economy import economy_table, economy_total
from metrics.extract import Extract
from metrics.loader import load_extract
from metrics.meeting import agenda
from metrics.reports import economy_headline
from metrics.scope import Scope
from metrics.scorecard import (
    cascade,
    default_scorecard_path,
    evaluate_scorecard,
    for_extract,
    load_scorecard,
    scorecard_details,
)
from tests.support_access import write_extract
from tests.support_app import figures
from tests.test_auth_pages import logged_in, make_app, texts
from ui.fmt import fmt_dkk, fmt_value

NEWEST, OLDER = date(2024, 6, 14), date(2024, 3, 15)
EMAIL = {k: f"{k.lower()}@testkommune.dk" for k in ("LA", "LB", "AD", "TL", "R1")}
LEVEL = {"K": "kommune", "A": "afdeling", "B": "afdeling"}
TEAMS = {"TA": ("CTA", "5.28.20", 1000.0, 10000.0), "T": ("CT", "5.28.21", 2000.0, 4000.0)}
TEAMS |= {"TV": ("CTV", "5.28.20", 4000.0, 40000.0), "TB": ("CTB", "5.28.20", 8000.0, 80000.0)}


def _frames(parents: dict[str, str | None]) -> dict[str, pl.DataFrame]:
    units = list(parents)
    org = pl.DataFrame(
        {
            "unit_id": units,
            "parent_id": [parents[u] for u in units],
            "name": [f"Enhed {u}" for u in units],
            "level": [LEVEL.get(u, "team") for u in units],
        },
        schema=polars_schema("org_units"),
    )
    people = [("LA", "A", "leder"), ("LB", "B", "leder"), ("AD", "K", "administration")]
    people += [("TL", "TA", "teamleder"), ("R1", "TA", "raadgiver")]
    employees = pl.DataFrame(
        {
            "employee_id": [p[0] for p in people],
            "name": [f"Person {p[0]}" for p in people],
            "email": [EMAIL[p[0]] for p in people],
            "unit_id": [p[1] for p in people],
            "role": [p[2] for p in people],
            "fte": [1.0] * len(people),
            "employed_from": [date(2020, 1, 1)] * len(people),
            "employed_to": [None] * len(people),
        },
        schema=polars_schema("employees"),
    )
    teams = [t for t in TEAMS if t in parents]
    cases = pl.DataFrame(
        {
            "case_id": [TEAMS[t][0] for t in teams],
            "child_id": [f"B{t}" for t in teams],
            "unit_id": teams,
            "caseworker_id": [None] * len(teams),
            "birth_year": [2015] * len(teams),
            "opened_on": [date(2023, 1, 1)] * len(teams),
            "closed_on": [None] * len(teams),
        },
        schema=polars_schema("cases"),
    )
    accounts = sorted({TEAMS[t][1] for t in TEAMS})
    kinds = pl.DataFrame(
        {
            "kind_id": [f"K{a}" for a in accounts],
            "name": [f"Indsats {a}" for a in accounts],
            "category": ["forebyggende"] * len(accounts),
            "account": accounts,
            "legal_basis": ["§ 52"] * len(accounts),
        },
        schema=polars_schema("intervention_kinds"),
    )
    interventions = pl.DataFrame(
        {
            "intervention_id": [f"I{t}" for t in teams],
            "case_id": [TEAMS[t][0] for t in teams],
            "kind_id": [f"K{TEAMS[t][1]}" for t in teams],
            "provider": ["P"] * len(teams),
            "decided_on": [date(2023, 12, 1)] * len(teams),
            "start_on": [date(2024, 1, 1)] * len(teams),
            "end_on": [date(2024, 1, 31)] * len(teams),
            "monthly_cost": [TEAMS[t][2] for t in teams],
        },
        schema=polars_schema("interventions"),
    )
    payments = pl.DataFrame(
        {
            "payment_id": [f"P{t}" for t in teams],
            "intervention_id": [f"I{t}" for t in teams],
            "period": [date(2024, 1, 1)] * len(teams),
            "posted_on": [date(2024, 1, 10)] * len(teams),
            "amount": [TEAMS[t][2] for t in teams],
        },
        schema=polars_schema("payments"),
    )
    budgets = pl.DataFrame(
        {
            "year": [2024] * len(teams),
            "unit_id": teams,
            "account": [TEAMS[t][1] for t in teams],
            "amount": [TEAMS[t][3] for t in teams],
        },
        schema=polars_schema("budgets"),
    )
    # brugertilfredshed of TA 80 (10 respondents) and T 20 (30 respondents)
    measured = [t for t in ("TA", "T") if t in parents]
    measurements = pl.DataFrame(
        {
            "kpi_id": ["brugertilfredshed"] * len(measured),
            "unit_id": measured,
            "period_end": [date(2024, 1, 31)] * len(measured),
            "value": [{"TA": 80.0, "T": 20.0}[t] for t in measured],
            "respondents": [{"TA": 10, "T": 30}[t] for t in measured],
        },
        schema=polars_schema("measurements"),
    )
    return {
        "measurements": measurements,
        "org_units": org,
        "employees": employees,
        "cases": cases,
        "intervention_kinds": kinds,
        "interventions": interventions,
        "payments": payments,
        "budgets": budgets,
    }


OLD_TREE = {"K": None, "A": "K", "B": "K", "TA": "A", "T": "A", "TV": "TA", "TB": "B"}
NEW_TREE = {"K": None, "A": "K", "B": "K", "TA": "A", "TB": "B", "T": "B"}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("moved")
    write_extract(root, synthetic=False, as_of=NEWEST, **_frames(NEW_TREE))
    write_extract(root, synthetic=False, as_of=OLDER, **_frames(OLD_TREE))
    return root


@pytest.fixture(scope="module")
def newest(root: Path) -> Extract:
    ex = load_extract(root / NEWEST.isoformat())
    assert ex.rejected_total == 0, ex.report
    return ex


@pytest.fixture(scope="module")
def older(root: Path) -> Extract:
    ex = load_extract(root / OLDER.isoformat())
    assert ex.rejected_total == 0, ex.report
    return ex


def who(newest: Extract, key: str) -> Viewer:
    v = viewer_for_email(newest, EMAIL[key])
    assert v is not None
    return v


def aktive(ex: Extract, scope: Scope) -> float | None:
    return registry.compute(ex, "aktive_sager", scope, ex.as_of).value


def test_allowed_units_by_unit_id(newest: Extract, older: Extract) -> None:
    assert aggregate_units(older, who(newest, "LA")) == {"A", "TA", "TV"}
    assert aggregate_units(older, who(newest, "LB")) == {"B", "TB", "T"}
    assert aggregate_units(older, who(newest, "TL")) == {"TA", "TV"}
    assert aggregate_units(older, who(newest, "R1")) == {"TA"}


def test_moved_team_left_out_of_as_old_department(newest: Extract, older: Extract) -> None:
    la = who(newest, "LA")
    scope = scope_for(older, la, "A")
    assert scope.within == {"A", "TA", "TV"}
    # active cases: CTA + CTV = 2 (not CT of T); the whole old subtree has 3
    assert aktive(older, scope) == 2
    assert aktive(older, Scope.unit("A")) == 3
    # economy: paid 1000 + 4000 = 5000 of budget 10000 + 40000 = 50000; nothing committed
    fig = economy_total(older, scope, OLDER)
    assert (fig.actual, fig.budget, fig.committed) == (5000.0, 50000.0, 0.0)
    full = economy_total(older, Scope.unit("A"), OLDER)
    assert (full.actual, full.budget) == (7000.0, 54000.0)
    # by account: only 5.28.20 (T's 5.28.21 is gone from A's figures)
    by_account = economy_table(older, scope, OLDER, "account").select("group", "actual", "budget")
    assert by_account.rows() == [("5.28.20", 5000.0, 50000.0)]
    # by child unit: TA (with TV below it) only, no row for T
    by_child = economy_table(older, scope, OLDER, "child_unit").select("group", "actual", "budget")
    assert by_child.rows() == [("TA", 5000.0, 50000.0)]


def test_cascade_leaves_out_the_moved_team(newest: Extract, older: Extract) -> None:
    card = load_scorecard(default_scorecard_path())
    la = who(newest, "LA")
    rows = cascade(older, card, "A", OLDER, within_for(older, la, "A"))
    assert [r.unit_id for r in rows] == ["TA", "A"]  # no row for T

    def value(r: object, kpi: str) -> float | None:
        return next(c.value for c in r.cells if c.kpi == kpi)  # type: ignore[attr-defined]

    kpi = "oekonomi_forventet_pct"
    # TA (with TV): (1000 + 4000) / (10000 + 40000) = 10 %; A: the same units, 10 %
    assert [value(r, kpi) for r in rows] == [pytest.approx(10.0)] * 2
    # administration gets the old subtree whole: T 2000 / 4000 = 50 %, TA 10 %,
    # A (1000 + 2000 + 4000) / (10000 + 4000 + 40000) = 7000 / 54000
    ad = who(newest, "AD")
    assert within_for(older, ad, "A") is None
    full = cascade(older, card, "A", OLDER, within_for(older, ad, "A"))
    assert [(r.unit_id, value(r, kpi)) for r in full] == [
        ("T", pytest.approx(50.0)),
        ("TA", pytest.approx(10.0)),
        ("A", pytest.approx(7000 / 54000 * 100)),
    ]
    # and the tiles' row equals the total row of the cascade
    tile = evaluate_scorecard(older, card, "A", OLDER, within_for(older, la, "A"))
    assert next(r.value for r in tile if r.kpi == kpi) == pytest.approx(10.0)


def test_moved_team_counts_for_its_leader_today(newest: Extract, older: Extract) -> None:
    lb = who(newest, "LB")
    # B's old subtree (B, TB) is wholly in LB's scope: nothing restricted, CTB only
    assert within_for(older, lb, "B") is None
    assert aktive(older, scope_for(older, lb, "B")) == 1
    # T is in B's scope today (by unit id), so LB sees T's old figures: CT, paid 2000
    assert within_for(older, lb, "T") is None
    assert aktive(older, scope_for(older, lb, "T")) == 1
    assert economy_total(older, scope_for(older, lb, "T"), OLDER).actual == 2000.0


def test_administration_and_system_unchanged(newest: Extract, older: Extract) -> None:
    for viewer in (who(newest, "AD"), Viewer.system()):
        scope = scope_for(older, viewer, "A")
        assert scope == Scope.unit("A")  # same key: the cached frames stay shared
        assert economy_total(older, scope, OLDER).actual == 7000.0  # 1000 + 2000 + 4000


def test_vanished_unit_counts_only_for_leaders_above_it(newest: Extract, older: Extract) -> None:
    # TA's old subtree is TA + TV: the teamleder (above TV's old parent) counts CTV, the
    # raadgiver of TA does not
    assert aktive(older, scope_for(older, who(newest, "TL"), "TA")) == 2
    r1 = scope_for(older, who(newest, "R1"), "TA")
    assert r1.within == {"TA"}
    assert aktive(older, r1) == 1
    assert economy_total(older, r1, OLDER).actual == 1000.0


def test_today_is_never_restricted(newest: Extract) -> None:
    for key, unit in (("LA", "A"), ("LB", "B"), ("TL", "TA")):
        assert within_for(newest, who(newest, key), unit) is None


def test_compare_and_meeting_restrict_the_older_extract(newest: Extract, older: Extract) -> None:
    la = who(newest, "LA")
    c = compare(newest, older, "A", la)
    row = c.kpis.filter(pl.col("metric_id") == "aktive_sager").row(0, named=True)
    assert (row["before"], row["now"]) == (2, 1)  # older: CTA + CTV; newest: CTA
    assert c.economy_before.actual == 5000.0  # not 7000 with T's 2000
    accounts = c.accounts.select("group", "expected_before").rows()
    assert accounts == [("5.28.20", 5000.0)]  # no 5.28.21 (T's account)

    card = load_scorecard(default_scorecard_path())
    kpi = "oekonomi_forventet_pct"
    a = agenda(newest, older, "A", la, card)
    before = a.scorecard.filter(pl.col("kpi_id") == kpi)["before"].item()
    assert before == pytest.approx(10.0)  # 5000 / 50000, not 7000 / 54000
    # the agenda of the older extract itself: its economy and matrix without T
    old = agenda(older, None, "A", la, card)
    assert old.economy.actual == 5000.0
    assert set(old.matrix["row_id"].to_list()) == {"TA", "A"}  # TA and the total row
    assert old.scorecard.filter(pl.col("kpi_id") == kpi)["value"].item() == pytest.approx(10.0)
    # administration: the whole old subtree
    assert agenda(older, None, "A", who(newest, "AD"), card).economy.actual == 7000.0


def test_page_shows_the_restricted_figure_and_says_so(
    root: Path, older: Extract, newest: Extract, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = make_app(
        root,
        monkeypatch,
        user=logged_in(EMAIL["LA"]),
        page="views/oekonomi.py",
        params={"udtraek": OLDER.isoformat(), "enhed": "A"},
    )
    assert not at.exception
    assert at.sidebar.selectbox(key="enhed").value == "A"
    fig, _ = economy_headline(older, scope_for(older, who(newest, "LA"), "A"), OLDER)
    assert fig.actual == 5000.0
    assert figures(at)[1] == fmt_dkk(fig.actual).replace("\u00a0", " ")  # Forbrug
    notes = [t for t in texts(at.caption) if "udelader" in t]
    assert len(notes) == 1 and "Enhed T" in notes[0]


def test_page_has_no_note_when_nothing_is_left_out(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = make_app(
        root,
        monkeypatch,
        user=logged_in(EMAIL["AD"]),
        page="views/oekonomi.py",
        params={"udtraek": OLDER.isoformat(), "enhed": "A"},
    )
    assert not at.exception
    assert figures(at)[1] == fmt_dkk(7000.0).replace("\u00a0", " ")  # 1000 + 2000 + 4000
    assert not [t for t in texts(at.caption) if "udelader" in t]


def test_scorecard_page_tiles_are_the_restricted_ones(
    root: Path, older: Extract, newest: Extract, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = make_app(
        root,
        monkeypatch,
        user=logged_in(EMAIL["LA"]),
        page="views/scorecard.py",
        params={"udtraek": OLDER.isoformat(), "enhed": "A"},
    )
    assert not at.exception
    card = for_extract(older, load_scorecard(default_scorecard_path()))
    details = scorecard_details(older, card, "A", OLDER, within_for(older, who(newest, "LA"), "A"))
    shown = [m.value for m in at.metric]
    assert shown == [fmt_value(d.row.value, d.format) for d in details]
    # oekonomi_forventet_pct: 5000 / 50000 = 10 % shown, not 7000 / 54000
    i = [d.spec.id for d in details].index("oekonomi_forventet_pct")
    assert details[i].row.value == pytest.approx(10.0)
    assert any("udelader" in t and "Enhed T" in t for t in texts(at.caption))


def test_measurement_roll_up_leaves_out_the_moved_team(newest: Extract, older: Extract) -> None:
    def value(viewer: Viewer) -> float | None:
        return registry.compute(older, "brugertilfredshed", scope_for(older, viewer, "A"), OLDER).value

    # A has no own row: the weighted mean of its children. LA: TA alone = 80;
    # administration: (80 × 10 + 20 × 30) / (10 + 30) = 1400 / 40 = 35
    assert value(who(newest, "LA")) == pytest.approx(80.0)
    assert value(who(newest, "AD")) == pytest.approx(35.0)


def test_compare_page_says_what_the_older_extract_leaves_out(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = make_app(
        root,
        monkeypatch,
        user=logged_in(EMAIL["LA"]),
        page="views/sammenlign.py",
        params={"enhed": "A", "foer": OLDER.isoformat()},
    )
    assert not at.exception
    notes = [t for t in texts(at.caption) if "udelader" in t]
    assert len(notes) == 1 and "Enhed T" in notes[0] and "15. mar. 2024" in notes[0]


def test_sick_leave_rows_leave_out_the_moved_team(newest: Extract, older: Extract) -> None:
    from metrics.reports import sick_leave_monthly

    def units(viewer: Viewer) -> list[str]:
        df = sick_leave_monthly(older, scope_for(older, viewer, "A"), OLDER)
        return df.filter(pl.col("as_of") == pl.col("as_of").min())["unit_id"].to_list()

    # the total (A), its children by name ("Enhed T" < "Enhed TA"), then A's own staff (LA)
    assert units(who(newest, "AD")) == ["A", "T", "TA", "A"]
    assert units(who(newest, "LA")) == ["A", "TA", "A"]
