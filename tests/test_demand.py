"""Demand (kpis.md 1.1, section Demand), the optional contacts table, a month's own value
and the signal mark, worked out by hand on tiny extracts."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import polars as pl
import pytest

from metrics.contract import empty_frame
from metrics.demand import demand_by_channel, demand_by_month, reasons_pareto
from metrics.own_values import mark_months, own_value, own_values, signal_mark
from metrics.registry import compute, compute_all, metric_ids
from metrics.scope import Scope
from tests.conftest import clean_extract, frame, make_extract

ROOT, A, B = Scope.unit("K"), Scope.unit("A"), Scope.unit("B")
ts = datetime
AS_OF = date(2024, 6, 14)


def contact(
    cid: str, unit: str, received: datetime, kind: str, reason: str, channel: str = "telefon"
) -> dict[str, Any]:
    return {
        "contact_id": cid,
        "unit_id": unit,
        "case_id": None,
        "received_at": received,
        "channel": channel,
        "demand_type": kind,
        "reason": reason,
    }


HEARD = "Har ikke hørt fra rådgiver"
COMPLAINT = "Klage over afgørelse"
NEWS = "Ny oplysning i sagen"

CONTACTS = [
    contact("H1", "A", ts(2024, 2, 3, 9), "fejl", HEARD),
    contact("H2", "A", ts(2024, 3, 4, 10), "fejl", HEARD, "mail"),
    contact("H3", "A", ts(2024, 3, 5, 11), "fejl", COMPLAINT, "digital_post"),
    contact("H4", "A", ts(2024, 6, 14, 23, 59), "vaerdi", NEWS),
    contact("H5", "B", ts(2024, 3, 6, 12), "vaerdi", NEWS, "personligt"),
    contact("H6", "A", ts(2023, 12, 31, 12), "fejl", HEARD),  # last year: not in YTD
]


@pytest.fixture(scope="module")
def ex() -> Any:
    return clean_extract(AS_OF, contacts=CONTACTS)


def test_demand_kpis_per_scope(ex: Any) -> None:
    # YTD 2024: H1..H5; failure H1, H2, H3
    assert compute(ex, "henvendelser_antal", ROOT, AS_OF).value == 5
    assert compute(ex, "fejlefterspoergsel_pct", ROOT, AS_OF).value == pytest.approx(60.0)  # 3 / 5
    assert compute(ex, "henvendelser_antal", A, AS_OF).value == 4
    assert compute(ex, "fejlefterspoergsel_pct", A, AS_OF).value == pytest.approx(75.0)  # 3 / 4
    assert compute(ex, "fejlefterspoergsel_pct", B, AS_OF).value == 0.0  # 0 / 1
    # as_of 13 June: H4 (14 June 23:59) is not yet received
    assert compute(ex, "henvendelser_antal", A, date(2024, 6, 13)).value == 3


def test_no_contacts_file_leaves_the_kpis_out_and_an_empty_file_gives_0_and_null() -> None:
    absent = make_extract(AS_OF)
    assert not absent.present("contacts")
    assert "henvendelser_antal" not in metric_ids(absent)
    assert "fejlefterspoergsel_pct" not in compute_all(absent, ROOT, AS_OF)
    assert "contacts" not in absent.report
    empty = make_extract(AS_OF, contacts=empty_frame("contacts"))
    assert empty.present("contacts") and empty.report["contacts"].accepted == 0
    values = compute_all(empty, ROOT, AS_OF)
    assert values["henvendelser_antal"].value == 0
    assert values["fejlefterspoergsel_pct"].value is None


def test_value_and_failure_demand_per_month_use_the_months_own_contacts(ex: Any) -> None:
    out = demand_by_month(ex, ROOT, AS_OF, date(2024, 1, 1))
    assert out["month"].to_list() == [date(2024, m, 1) for m in range(1, 7)]
    assert out["fejl"].to_list() == [0, 1, 2, 0, 0, 0]
    assert out["vaerdi"].to_list() == [0, 0, 1, 0, 0, 1]
    # March: 2 failure of 3 → 66.7 %; January: no contacts → null, never 0
    assert out["fejl_pct"].to_list() == [None, 100.0, pytest.approx(200 / 3), None, None, 0.0]


def test_by_channel_in_the_contracts_order(ex: Any) -> None:
    out = demand_by_channel(ex, ROOT, AS_OF, date(2024, 1, 1))
    assert out["channel"].to_list() == ["telefon", "mail", "digital_post", "personligt", "andet"]
    # telefon: H1 (fejl), H4 (vaerdi); mail H2 fejl; digital_post H3 fejl; personligt H5 vaerdi
    assert out["total"].to_list() == [2, 1, 1, 1, 0]
    assert out["fejl_pct"].to_list() == [50.0, 100.0, 100.0, 0.0, None]


def test_pareto_of_reasons_by_demand_type(ex: Any) -> None:
    out = reasons_pareto(ex, ROOT, AS_OF, date(2024, 1, 1))
    # HEARD fejl 2, NEWS vaerdi 2 (tie: by reason), COMPLAINT fejl 1; of 5 contacts
    assert out.select("reason", "demand_type", "count").rows() == [
        (HEARD, "fejl", 2),
        (NEWS, "vaerdi", 2),
        (COMPLAINT, "fejl", 1),
    ]
    assert out["share_pct"].to_list() == [40.0, 40.0, 20.0]
    assert out["cumulative_pct"].to_list() == [40.0, 80.0, 100.0]


def test_contacts_validation_sets_bad_rows_aside() -> None:
    rows = [
        contact("H1", "A", ts(2024, 2, 3, 9), "fejl", HEARD),
        contact("H2", "A", ts(2024, 2, 3, 9), "klage", HEARD),  # unknown demand_type
        contact("H3", "A", ts(2024, 2, 3, 9), "fejl", HEARD, "brevdue"),  # unknown channel
        contact("H4", "X", ts(2024, 2, 3, 9), "fejl", HEARD),  # unknown unit
        contact("H5", "A", ts(2024, 2, 3, 9), "fejl", HEARD) | {"case_id": "S9"},  # unknown case
        contact("H1", "B", ts(2024, 2, 3, 9), "vaerdi", NEWS),  # duplicate key with the first
        contact("H6", "A", ts(2024, 2, 3, 9), "fejl", HEARD) | {"reason": None},
    ]
    ex = make_extract(AS_OF, contacts=frame("contacts", rows))
    rep = ex.report["contacts"]
    assert rep.accepted == 0 and rep.rejected == 7
    assert rep.reasons == {
        "primary_key": 2,
        "case_id|foreign_key": 1,
        "channel|enum": 1,
        "demand_type|enum": 1,
        "reason|nullability": 1,
        "unit_id|foreign_key": 1,
    }
    messages = ex.rejected["contacts"]["_message"].to_list()
    assert any("kanal" in m and "telefon" in m for m in messages)


# --- a month's own value and the signal mark --------------------------------------------


def test_own_value_ytd_kpi_over_the_month_and_point_in_time_at_month_end(ex: Any) -> None:
    # March: H2, H3, H5 → 3 contacts, 2 failure
    assert own_value(ex, "henvendelser_antal", ROOT, date(2024, 3, 1), AS_OF).value == 3
    assert own_value(ex, "fejlefterspoergsel_pct", ROOT, date(2024, 3, 1), AS_OF).value == pytest.approx(
        200 / 3
    )
    # June (month M) up to as_of: H4
    assert own_value(ex, "henvendelser_antal", ROOT, date(2024, 6, 1), AS_OF).value == 1
    cases = [
        {
            "case_id": "S1",
            "child_id": "b1",
            "unit_id": "A",
            "caseworker_id": None,
            "birth_year": 2015,
            "opened_on": date(2024, 1, 10),
            "closed_on": date(2024, 3, 31),  # active on 31 March? no: d < closed_on fails
        },
        {
            "case_id": "S2",
            "child_id": "b2",
            "unit_id": "A",
            "caseworker_id": None,
            "birth_year": 2015,
            "opened_on": date(2024, 2, 1),
            "closed_on": None,
        },
    ]
    ex2 = clean_extract(AS_OF, cases=cases)
    assert own_value(ex2, "aktive_sager", ROOT, date(2024, 2, 1), AS_OF).value == 2  # on 29 Feb
    assert own_value(ex2, "aktive_sager", ROOT, date(2024, 3, 1), AS_OF).value == 1  # on 31 March


def monthly_contacts(counts: list[int], first: date) -> list[dict[str, Any]]:
    """counts[i] failure contacts on the 2nd of the i-th month from `first`."""
    rows, m = [], first
    for i, n in enumerate(counts):
        rows += [contact(f"H{i:02d}-{k}", "A", ts(m.year, m.month, 2, 9, k), "fejl", HEARD) for k in range(n)]
        m = (m + timedelta(days=32)).replace(day=1)
    return rows


def test_signal_mark_on_24_own_values() -> None:
    # 2023-01 … 2024-12: 23 months alternating 2, 4 (12 twos, 11 fours), then 20
    counts = [2, 4] * 11 + [2, 20]
    ex = clean_extract(date(2024, 12, 31), contacts=monthly_contacts(counts, date(2023, 1, 1)))
    mark = signal_mark(ex, "henvendelser_antal", ROOT, date(2024, 12, 31))
    assert mark.own["value"].to_list() == [float(c) for c in counts]
    # mean (12×2 + 11×4 + 20) / 24 = 88 / 24; mR̄ = (22 × 2 + |20 − 2|) / 23 = 62 / 23
    assert mark.figures.mean == pytest.approx(88 / 24) and mark.figures.mr_bar == pytest.approx(62 / 23)
    # upper 3.667 + 2.66 × 2.696 ≈ 10.84 < 20: the last month breaks rule 1
    assert mark.shown and mark.rules == (1,)
    # the same with an ordinary last month: no mark (no rule; runs alternate sides)
    calm = clean_extract(date(2024, 12, 31), contacts=monthly_contacts([2, 4] * 12, date(2023, 1, 1)))
    assert not signal_mark(calm, "henvendelser_antal", ROOT, date(2024, 12, 31)).shown


def test_months_before_the_first_data_are_left_out() -> None:
    ex = clean_extract(date(2024, 6, 30), contacts=monthly_contacts([1, 1, 1], date(2024, 4, 1)))
    assert mark_months(ex, date(2024, 6, 30)) == [date(2024, 4, 1), date(2024, 5, 1), date(2024, 6, 1)]
    assert own_values(ex, "henvendelser_antal", ROOT, date(2024, 6, 30))["value"].to_list() == [1.0] * 3
    # fewer than 2 months with a value: no figures, no mark
    one = clean_extract(date(2024, 6, 30), contacts=monthly_contacts([5], date(2024, 6, 1)))
    mark = signal_mark(one, "henvendelser_antal", ROOT, date(2024, 6, 30))
    assert mark.figures.n == 1 and not mark.shown
    assert isinstance(mark.own, pl.DataFrame)


def test_compare_gives_no_before_value_when_the_earlier_extract_had_no_contacts(ex: Any) -> None:
    from metrics.compare import kpi_changes

    before = make_extract(date(2024, 5, 31))
    rows = {r["metric_id"]: r for r in kpi_changes(ex, before, "K").to_dicts()}
    assert rows["henvendelser_antal"]["before"] is None  # not 0: the table was not there
    assert rows["henvendelser_antal"]["now"] == 5
    assert rows["henvendelser_antal"]["change"] is None
