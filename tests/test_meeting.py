"""metrics.meeting on two tiny extracts with hand-worked values.

Organisation: root K with teams A and B (conftest default). as_of now = 14 Jun 2024
(M = 6), the previous extract 31 May 2024 (M = 5).

Kinds: k1 forebyggende, account 5.28.21; k2 anbringelse, account 5.28.22.
Budgets 2024: A 5.28.21 = 10.000, A 5.28.20 = 5.000 (an account without interventions);
B has no budget at all (a unit with no budget).
Cases: c1 (A, caseworker r1, opened 2023), c3 (A, unassigned, opened 2023) in both;
c2 (B, opened 1 Jun 2024) only in the new one.
Interventions: i1 on c1, k1, decided/started 1 Jan 2024, open, 1.000 a month, paid for
Jan..May (both extracts) and Jun (new one), each posted on the month's first day.
i2 on c2, k2, decided 3 Jun 2024 (between the extracts), starts 1 Jul, 3.000 a month.

Hand-worked economy at 14 Jun (committed = monthly cost × months Jul..Dec, no payment
covers a month after June, so kpis.md 1.1's prepaid-month rule changes nothing here):
  A/5.28.21: actual 6 × 1.000 = 6.000 + committed 6 × 1.000 = 6.000 → expected 12.000;
             deviation 10.000 − 12.000 = −2.000; −2.000 ÷ 10.000 = −20 %; over budget.
  A/5.28.20: budget 5.000, expected 0 → deviation 5.000, 100 %.
  B/5.28.22: committed 6 × 3.000 = 18.000, budget 0 → deviation −18.000, % null, over.
  I alt row: 5.28.20 5.000/0; 5.28.21 10.000/12.000; 5.28.22 0/18.000.
  I alt column: A 15.000/12.000 → 3.000, 20 %; B 0/18.000 → −18.000, null;
  total 15.000/30.000 → −15.000, −15.000 ÷ 15.000 = −100 % (not an average of 20 % and –).
At 31 May: A/5.28.21 actual 5 × 1.000 + committed 7 × 1.000 (Jun..Dec) = 12.000 (unchanged);
5.28.22 0 → so 5.28.22 moved +18.000 and unit B moved +18.000; nothing else moved.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import polars as pl
import pytest

from metrics.access import AccessDenied, Viewer
from metrics.extract import Extract
from metrics.meeting import MeetingRefused, agenda, agenda_points, economy_matrix, matrix_table
from metrics.scorecard import Scorecard, load_scorecard
from tests.conftest import clean_extract

NOW, BEFORE = date(2024, 6, 14), date(2024, 5, 31)

SCORECARD = """
title = "Test"
[[perspectives]]
id = "drift"
name = "Drift"
[[perspectives.kpis]]
id = "frister"
name = "Overskredne frister"
metric = "frister_overskredne"
target = 0
direction = "lower"
tolerance = 0
[[perspectives.kpis]]
id = "sager"
name = "Aktive sager"
metric = "aktive_sager"
target = 1
direction = "higher"
tolerance = 0
[[perspectives.kpis]]
id = "oekonomi"
name = "Forventet i % af budget"
metric = "oekonomi_forventet_pct"
target = 100
direction = "lower"
tolerance = 10
"""

KINDS = [
    {
        "kind_id": "k1",
        "name": "Familiebehandling",
        "category": "forebyggende",
        "account": "5.28.21",
        "legal_basis": None,
    },
    {
        "kind_id": "k2",
        "name": "Plejefamilie",
        "category": "anbringelse",
        "account": "5.28.22",
        "legal_basis": None,
    },
]
BUDGETS = [
    {"year": 2024, "unit_id": "A", "account": "5.28.21", "amount": 10_000.0},
    {"year": 2024, "unit_id": "A", "account": "5.28.20", "amount": 5_000.0},
]
STAFF = [
    {"employee_id": "tl", "name": "Tove Leder", "email": "tl@x.dk", "unit_id": "A", "role": "teamleder",
     "fte": 1.0, "employed_from": date(2020, 1, 1), "employed_to": None},
    {"employee_id": "r1", "name": "Rie Rådgiver", "email": "r1@x.dk", "unit_id": "A", "role": "raadgiver",
     "fte": 1.0, "employed_from": date(2020, 1, 1), "employed_to": None},
    {"employee_id": "ad", "name": "Ada Admin", "email": "ad@x.dk", "unit_id": "K", "role": "administration",
     "fte": 1.0, "employed_from": date(2020, 1, 1), "employed_to": None},
]  # fmt: skip


def _case(cid: str, unit: str, opened: date, cw: str | None = None) -> dict[str, Any]:
    return {"case_id": cid, "child_id": f"b{cid}", "unit_id": unit, "caseworker_id": cw,
            "birth_year": 2015, "opened_on": opened, "closed_on": None}  # fmt: skip


def _iv(iid: str, cid: str, kid: str, decided: date, start: date, monthly: float) -> dict[str, Any]:
    return {"intervention_id": iid, "case_id": cid, "kind_id": kid, "provider": None,
            "decided_on": decided, "start_on": start, "end_on": None, "monthly_cost": monthly}  # fmt: skip


def _pay(month: int) -> dict[str, Any]:
    return {"payment_id": f"p{month}", "intervention_id": "i1", "period": date(2024, month, 1),
            "posted_on": date(2024, month, 1), "amount": 1_000.0}  # fmt: skip


def _note(nid: str, received: datetime, assessed: datetime | None, case: str | None) -> dict[str, Any]:
    return {"notification_id": nid, "child_id": "bx", "case_id": case, "unit_id": "A", "source": "skole",
            "received_at": received, "assessed_at": assessed}  # fmt: skip


def _deadline(did: str, case: str, due: date, done: date | None) -> dict[str, Any]:
    return {"deadline_id": did, "case_id": case, "kind": "handleplan", "started_on": date(2024, 1, 1),
            "due_on": due, "done_on": done}  # fmt: skip


# notifications, each as known at its extract:
#  n1 (no case) received 10 Jun 08:00, never assessed: 24 h ran out 11 Jun, in the window → late
#  n2 received 30 May 10:00, assessed 2 Jun: ran out 31 May 10:00, before the previous cut-off → not new
#  n3 received 12 Jun 09:00, assessed 15:00: on time → not late
#  n4 received 14 Jun 20:00, not assessed: runs out after this cut-off → not yet
#  n5 (c1) received 5 Jun 12:00, assessed 7 Jun 12:00 (48 h) → late
NOTES_NOW = [
    _note("n1", datetime(2024, 6, 10, 8), None, None),
    _note("n2", datetime(2024, 5, 30, 10), datetime(2024, 6, 2, 9), "c1"),
    _note("n3", datetime(2024, 6, 12, 9), datetime(2024, 6, 12, 15), "c1"),
    _note("n4", datetime(2024, 6, 14, 20), None, "c1"),
    _note("n5", datetime(2024, 6, 5, 12), datetime(2024, 6, 7, 12), "c1"),
]
# deadlines: d1 (c1) due 10 Jun, open → became overdue (4 days); d2 (c3) due 20 May, open →
# overdue at both; d3 due 12 Jun done 11 Jun → met; d4 due 14 Jun → not overdue (due < as_of)
DEADLINES = [
    _deadline("d1", "c1", date(2024, 6, 10), None),
    _deadline("d2", "c3", date(2024, 5, 20), None),
    _deadline("d3", "c1", date(2024, 6, 12), date(2024, 6, 11)),
    _deadline("d4", "c1", date(2024, 6, 14), None),
]


def now_rows() -> dict[str, list[dict[str, Any]]]:
    return {
        "intervention_kinds": KINDS,
        "budgets": BUDGETS,
        "employees": STAFF,
        "cases": [
            _case("c1", "A", date(2023, 1, 1), "r1"),
            _case("c3", "A", date(2023, 1, 1)),
            _case("c2", "B", date(2024, 6, 1)),
        ],
        "interventions": [
            _iv("i1", "c1", "k1", date(2024, 1, 1), date(2024, 1, 1), 1_000.0),
            _iv("i2", "c2", "k2", date(2024, 6, 3), date(2024, 7, 1), 3_000.0),
        ],
        "payments": [_pay(m) for m in range(1, 7)],
        "notifications": NOTES_NOW,
        "deadlines": DEADLINES,
    }


def before_rows() -> dict[str, list[dict[str, Any]]]:
    return {
        "intervention_kinds": KINDS,
        "budgets": BUDGETS,
        "employees": STAFF,
        "cases": [_case("c1", "A", date(2023, 1, 1), "r1"), _case("c3", "A", date(2023, 1, 1))],
        "interventions": [_iv("i1", "c1", "k1", date(2024, 1, 1), date(2024, 1, 1), 1_000.0)],
        "payments": [_pay(m) for m in range(1, 6)],
        "notifications": [_note("n2", datetime(2024, 5, 30, 10), None, "c1")],
        "deadlines": [{**d, "done_on": None} for d in DEADLINES if d["deadline_id"] != "d3"],
    }


@pytest.fixture(scope="module")
def now() -> Extract:
    return clean_extract(NOW, **now_rows())


@pytest.fixture(scope="module")
def before() -> Extract:
    return clean_extract(BEFORE, **before_rows())


@pytest.fixture(scope="module")
def card(tmp_path_factory: pytest.TempPathFactory) -> Scorecard:
    path = tmp_path_factory.mktemp("card") / "scorecard.toml"
    path.write_text(SCORECARD, encoding="utf-8")
    return load_scorecard(path)


SYSTEM = Viewer.system()
TEAMLEDER = Viewer("tl", "Tove Leder", "teamleder", "A", "tl@x.dk")
ADMIN = Viewer("ad", "Ada Admin", "administration", "K", "ad@x.dk")
RAADGIVER = Viewer("r1", "Rie Rådgiver", "raadgiver", "A", "r1@x.dk")


def cell(m: pl.DataFrame, row: str, account: str | None) -> dict[str, Any]:
    hit = m.filter((pl.col("row_label") == row) & pl.col("account").eq_missing(account))
    assert hit.height == 1, (row, account, hit)
    return hit.row(0, named=True)


def test_matrix_cells_totals_and_recomputed_percentages(now: Extract) -> None:
    m = economy_matrix(now, "K", NOW)
    # rows: A, B, then I alt; columns 5.28.20, 5.28.21, 5.28.22, then I alt (null account)
    assert list(dict.fromkeys(m["row_label"].to_list())) == ["Team A", "Team B", "I alt"]
    assert list(dict.fromkeys(m["account"].to_list())) == ["5.28.20", "5.28.21", "5.28.22", None]
    a21 = cell(m, "Team A", "5.28.21")
    assert (a21["budget"], a21["expected"], a21["deviation"]) == (10_000, 12_000, -2_000)
    assert a21["deviation_pct"] == pytest.approx(-20.0) and a21["over_budget"] is True
    a20 = cell(m, "Team A", "5.28.20")  # an account with budget and no interventions
    assert (a20["budget"], a20["expected"], a20["deviation"], a20["deviation_pct"]) == (
        5_000,
        0,
        5_000,
        100.0,
    )
    assert a20["over_budget"] is False
    b22 = cell(m, "Team B", "5.28.22")  # a unit with no budget
    assert (b22["budget"], b22["expected"], b22["deviation"]) == (0, 18_000, -18_000)
    assert b22["deviation_pct"] is None and b22["over_budget"] is True
    a22 = cell(m, "Team A", "5.28.22")  # present in the grid, all zero
    assert (a22["budget"], a22["expected"], a22["deviation_pct"], a22["over_budget"]) == (0, 0, None, False)
    # I alt column per row
    assert (cell(m, "Team A", None)["deviation"], cell(m, "Team A", None)["deviation_pct"]) == (3_000, 20.0)
    assert cell(m, "Team B", None)["deviation_pct"] is None
    total = cell(m, "I alt", None)
    assert (total["budget"], total["expected"], total["deviation"]) == (15_000, 30_000, -15_000)
    assert total["deviation_pct"] == pytest.approx(-100.0) and total["over_budget"] is True
    # I alt row per account
    assert cell(m, "I alt", "5.28.21")["expected"] == 12_000
    assert cell(m, "I alt", "5.28.22")["expected"] == 18_000
    # links: a child unit opens Økonomi for that unit per account
    assert cell(m, "Team B", "5.28.22")["link_page"] == "oekonomi"
    assert cell(m, "Team B", "5.28.22")["link_params"] == "enhed=B&gruppering=account"


def test_matrix_table_names_the_accounts_over_budget(now: Extract) -> None:
    t = matrix_table(economy_matrix(now, "K", NOW))
    over = dict(zip(t["row_label"], t["over_budget_accounts"], strict=True))
    assert over == {"Team A": "5.28.21", "Team B": "5.28.22", "I alt": "5.28.21, 5.28.22"}


def test_agenda_against_previous(now: Extract, before: Extract, card: Scorecard) -> None:
    a = agenda(now, before, "K", SYSTEM, card)
    assert a.previous_as_of == BEFORE
    # KPIs: overdue deadlines 1 → 2 (d1 new), red (target 0), worsened;
    # active cases 2 → 3, green, improved → not on the agenda;
    # expected % of budget 12.000/15.000 = 80 % → 30.000/15.000 = 200 %, red, worsened
    k = {r["kpi_id"]: r for r in a.scorecard.iter_rows(named=True)}
    assert (k["frister"]["before"], k["frister"]["value"], k["frister"]["change"]) == (1, 2, 1)
    assert (k["frister"]["status"], k["frister"]["judgement"]) == ("red", "worsened")
    assert (k["sager"]["status"], k["sager"]["judgement"], k["sager"]["to_discuss"]) == (
        "green",
        "improved",
        False,
    )
    assert k["oekonomi"]["before"] == pytest.approx(80.0) and k["oekonomi"]["value"] == pytest.approx(200.0)
    assert k["oekonomi"]["change"] == pytest.approx(120.0)
    assert a.kpis["kpi_id"].to_list() == ["frister", "oekonomi"]
    assert k["frister"]["link_page"] == "scorecard" and k["frister"]["link_params"] == "kpi=frister&enhed=K"
    # accounts with I alt: 5.28.20, 5.28.21, 5.28.22, I alt
    acc = a.accounts
    assert acc["label"].to_list()[-1] == "I alt"
    total = acc.row(-1, named=True)
    assert (total["budget"], total["expected"], total["deviation"]) == (15_000, 30_000, -15_000)
    assert total["deviation_pct"] == pytest.approx(-100.0) and total["over_budget"] is True
    assert a.over_budget is True
    # moves: only 5.28.22 (+18.000) and unit B (+18.000)
    assert a.moves.select("kind", "id", "expected_change").rows() == [
        ("account", "5.28.22", 18_000.0),
        ("unit", "B", 18_000.0),
    ]
    # new since 31 May
    n = a.new
    assert n is not None
    assert (n.interventions, n.interventions_yearly_cost) == (1, 36_000.0)  # i2: 3.000 × 12
    assert n.intervention_rows["intervention_id"].to_list() == ["i2"]
    assert n.top_cases["case_id"].to_list() == ["c2"]  # now c2, c1, c3; before c1, c3
    assert n.late_notifications == 2
    assert n.late_notification_rows["notification_id"].to_list() == ["n5", "n1"]  # by received_at
    assert n.overdue_deadlines == 1
    assert n.overdue_rows.select("deadline_id", "days_overdue").rows() == [("d1", 4)]
    # most expensive: c2 18.000, c1 12.000, c3 0
    assert a.top_cases is not None
    assert a.top_cases.select("case_id", "expected").rows() == [
        ("c2", 18_000.0),
        ("c1", 12_000.0),
        ("c3", 0.0),
    ]
    assert a.top_cases["link_params"].to_list() == ["sag=c2", "sag=c1", "sag=c3"]
    assert set(a.case_ids()) == {"c1", "c2", "c3"}
    assert a.notification_ids_without_case() == ["n1"]


def test_first_extract_has_no_changes(now: Extract, card: Scorecard) -> None:
    a = agenda(now, None, "K", SYSTEM, card)
    assert a.previous_as_of is None and a.new is None and a.moves.height == 0
    assert a.scorecard["before"].null_count() == 3
    assert set(a.scorecard["judgement"]) == {"no_data"}
    # only red or yellow ones: frister (2 > 0) and oekonomi (200 % > 110 %)
    assert a.kpis["kpi_id"].to_list() == ["frister", "oekonomi"]
    points = agenda_points(a)
    assert "Nye indsatser siden sidst (årlig udgift)" not in points["point"].to_list()
    assert points.filter(pl.col("point") == "Konti over budget")["count"].item() == 2  # 5.28.21, 5.28.22


def test_unit_with_no_budget(now: Extract, before: Extract, card: Scorecard) -> None:
    a = agenda(now, before, "B", SYSTEM, card)
    assert a.economy.budget == 0 and a.over_budget is None
    total = a.accounts.row(-1, named=True)
    assert (total["label"], total["expected"], total["deviation_pct"]) == ("I alt", 18_000, None)
    # a team without children: one row, the unit itself, then I alt
    assert list(dict.fromkeys(a.matrix["row_label"].to_list())) == ["Team B", "I alt"]


def test_administration_gets_counts_but_no_case_rows(now: Extract, before: Extract, card: Scorecard) -> None:
    a = agenda(now, before, "K", ADMIN, card)
    assert a.top_cases is None and not a.case_rows_shown
    n = a.new
    assert n is not None
    assert (n.interventions, n.late_notifications, n.overdue_deadlines) == (1, 2, 1)
    assert n.intervention_rows.height == n.late_notification_rows.height == n.overdue_rows.height == 0
    assert a.case_ids() == []


def test_team_leader_sees_own_team_only(now: Extract, before: Extract, card: Scorecard) -> None:
    a = agenda(now, before, "A", TEAMLEDER, card)
    assert a.top_cases is not None and a.top_cases["case_id"].to_list() == ["c1", "c3"]
    with pytest.raises(AccessDenied):
        agenda(now, before, "K", TEAMLEDER, card)


def test_caseworker_is_refused(now: Extract, card: Scorecard) -> None:
    with pytest.raises(MeetingRefused):
        agenda(now, None, "A", RAADGIVER, card)


def test_matrix_follows_the_economy_functions(small_extract: Extract) -> None:
    """Whatever rule metrics.economy applies (kpis.md 1.1 changes committed), the matrix's
    I alt column equals economy_table by child unit and its I alt row equals it by account."""
    from metrics.economy import economy_table
    from metrics.org import org_tree
    from metrics.scope import Scope

    ex = small_extract
    tree = org_tree(ex)
    unit = next(u for u, _ in tree.depth_first() if len(tree.children.get(u, ())) > 1)
    m = economy_matrix(ex, unit, ex.as_of)
    by_child = economy_table(ex, Scope.unit(unit), ex.as_of, "child_unit").filter(pl.col("group") != unit)
    col = m.filter(pl.col("account").is_null() & (pl.col("row_kind") == "unit"))
    assert dict(zip(col["row_id"], col["expected"], strict=True)) == pytest.approx(
        dict(zip(by_child["group"], by_child["expected"], strict=True))
    )
    by_account = economy_table(ex, Scope.unit(unit), ex.as_of, "account")
    row = m.filter((pl.col("row_kind") == "total") & pl.col("account").is_not_null())
    assert dict(zip(row["account"], row["expected"], strict=True)) == pytest.approx(
        dict(zip(by_account["group"], by_account["expected"], strict=True))
    )
    assert dict(zip(row["account"], row["budget"], strict=True)) == pytest.approx(
        dict(zip(by_account["group"], by_account["budget"], strict=True))
    )


def test_agenda_leaves_out_a_kpi_whose_optional_table_is_absent(now: Extract, tmp_path: Any) -> None:
    # The extract has no contacts.parquet: fejlefterspoergsel_pct gets no row (as on the
    # scorecard), and the other KPI is still there (overdue deadlines at 14 Jun: d1, d2 = 2).
    path = tmp_path / "scorecard.toml"
    path.write_text(
        SCORECARD.split("[[perspectives.kpis]]\nid = \"sager\"")[0]
        + '[[perspectives.kpis]]\nid = "fejl"\nname = "Fejlefterspørgsel"\n'
        'metric = "fejlefterspoergsel_pct"\ntarget = 20\ndirection = "lower"\ntolerance = 5\n',
        encoding="utf-8",
    )
    card = load_scorecard(path)
    assert not now.present("contacts")
    a = agenda(now, None, "K", SYSTEM, card)
    assert a.scorecard.select("kpi_id", "value").rows() == [("frister", 2.0)]


def test_a_previous_extract_without_contacts_has_no_before_value(before: Extract, tmp_path: Any) -> None:
    # now has one contact (3 Jun 2024) → henvendelser_antal 1; the previous extract has no
    # contacts.parquet, so there is nothing to compare with (not "0 → 1, worsened").
    contact = {"contact_id": "h1", "unit_id": "A", "case_id": None, "received_at": datetime(2024, 6, 3, 9),
               "channel": "telefon", "demand_type": "fejl", "reason": "Har ikke hørt fra rådgiver"}  # fmt: skip
    now_c = clean_extract(NOW, **now_rows(), contacts=[contact])
    path = tmp_path / "scorecard.toml"
    path.write_text(
        'title = "T"\n[[perspectives]]\nid = "d"\nname = "D"\n[[perspectives.kpis]]\nid = "h"\n'
        'name = "Henvendelser"\nmetric = "henvendelser_antal"\ntarget = 5\ndirection = "lower"\ntolerance = 0\n',
        encoding="utf-8",
    )
    a = agenda(now_c, before, "K", SYSTEM, load_scorecard(path))
    row = a.scorecard.row(0, named=True)
    assert (row["value"], row["before"], row["change"], row["judgement"]) == (1.0, None, None, "no_data")


def test_an_extract_without_contacts_leaves_out_the_kpi_that_needs_them(now: Extract, before: Extract) -> None:
    """The configured scorecard has fejlefterspoergsel_pct, which needs the optional contacts
    table; these extracts have none: the agenda has every other KPI (as Scorecard shows them)
    instead of failing."""
    full = load_scorecard()
    a = agenda(now, before, "K", SYSTEM, full)
    expected = [k.id for k in full.kpis if k.id != "fejlefterspoergsel_pct"]
    assert len(expected) == len(full.kpis) - 1
    assert a.scorecard["kpi_id"].to_list() == expected
