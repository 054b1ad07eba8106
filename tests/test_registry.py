"""The registry: every KPI of kpis.md is defined once, and the monthly trend dates."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest

from metrics.contract import polars_schema
from metrics.extract import Extract
from metrics.registry import FORMULA_IDS, compute, compute_all, get, metric_ids, trend
from metrics.scope import Scope, UnknownScope
from metrics.values import trend_dates
from tests.conftest import make_extract

# Copied by hand from the tables of kpis.md, with each one's unit column.
SPEC_KPIS = {
    "oekonomi_forventet_pct": "%",
    "udgift_pr_sag": "DKK",
    "udgift_pr_sag_aendring_pct": "%",
    "aktive_sager": "count",
    "sager_pr_raadgiver": "cases per FTE",
    "frister_overholdt_pct": "%",
    "undersoegelser_rettidige_pct": "%",
    "opfoelgninger_rettidige_pct": "%",
    "frister_overskredne": "count",
    "underretninger_antal": "count",
    "underretninger_24t_pct": "%",
    "sygefravaer_pct": "%",
    "personaleomsaetning_pct": "%",
    # section Demand (1.1): only for an extract with contacts
    "henvendelser_antal": "count",
    "fejlefterspoergsel_pct": "%",
}
DEMAND_KPIS = ("henvendelser_antal", "fejlefterspoergsel_pct")
FORMAT_OF_SPEC_UNIT = {"%": "pct", "DKK": "dkk", "count": "count", "cases per FTE": "ratio"}


def case(cid: str, opened: date, closed: date | None = None) -> dict[str, Any]:
    return {
        "case_id": cid,
        "child_id": "child-" + cid,
        "unit_id": "A",
        "caseworker_id": None,
        "birth_year": 2012,
        "opened_on": opened,
        "closed_on": closed,
    }


@pytest.fixture(scope="module")
def ex() -> Extract:
    cases = [
        case("c1", date(2024, 1, 15), date(2024, 3, 5)),
        case("c2", date(2024, 2, 1)),
        case("c3", date(2024, 3, 14)),
        case("c4", date(2023, 5, 1), date(2024, 3, 1)),
        case("c5", date(2024, 2, 29)),
    ]
    meas = pl.DataFrame(
        [
            {
                "kpi_id": "ventetid_dage",
                "unit_id": "A",
                "period_end": date(2024, 1, 31),
                "value": 9.0,
                "respondents": None,
            }
        ],
        schema=polars_schema("measurements"),
        orient="row",
    )
    out = make_extract(
        as_of=date(2024, 3, 14),
        cases=pl.DataFrame(cases, schema=polars_schema("cases"), orient="row"),
        measurements=meas,
    )
    assert out.rejected_total == 0
    return out


def test_every_kpi_of_the_spec_is_defined_once() -> None:
    assert sorted(FORMULA_IDS) == sorted(SPEC_KPIS)
    assert len(FORMULA_IDS) == len(set(FORMULA_IDS))
    for kpi, unit in SPEC_KPIS.items():
        d = get(kpi)
        assert d.id == kpi
        assert d.format == FORMAT_OF_SPEC_UNIT[unit], kpi
        assert d.label.strip() and d.description.strip(), kpi


def test_metric_ids_add_measurements_found(ex: Extract) -> None:
    ids = metric_ids(ex)
    # no contacts.parquet: the demand KPIs are left out (kpis.md, Demand)
    formula = [k for k in FORMULA_IDS if k not in DEMAND_KPIS]
    assert ids[: len(formula)] == formula
    # only the measurement KPI present in the extract, not the registry's other known ones
    assert ids[len(formula) :] == ["ventetid_dage"]


def test_compute_all_covers_every_id(ex: Extract) -> None:
    values = compute_all(ex, Scope.unit("K"), date(2024, 3, 14))
    assert list(values) == metric_ids(ex)
    assert values["aktive_sager"].value == 3  # c2, c3, c5 (see the trend test)
    assert values["ventetid_dage"].value == 9.0
    assert values["sager_pr_raadgiver"].value is None  # no caseworkers: 0 / 0


def test_unknown_scope_refused(ex: Extract) -> None:
    with pytest.raises(UnknownScope):
        compute_all(ex, Scope.unit("ZZ"), date(2024, 3, 14))
    with pytest.raises(UnknownScope):
        compute(ex, "aktive_sager", Scope.caseworker("nobody"), date(2024, 3, 14))


def test_trend_dates_leap_year() -> None:
    # the last day of each month of year before M, then as_of itself
    assert trend_dates(date(2024, 3, 14)) == [date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 14)]
    assert trend_dates(date(2023, 3, 14)) == [date(2023, 1, 31), date(2023, 2, 28), date(2023, 3, 14)]
    assert trend_dates(date(2024, 2, 29)) == [date(2024, 1, 31), date(2024, 2, 29)]
    assert trend_dates(date(2024, 1, 10)) == [date(2024, 1, 10)]
    dec = trend_dates(date(2024, 12, 31))
    assert len(dec) == 12
    assert dec[-2:] == [date(2024, 11, 30), date(2024, 12, 31)]
    assert [d.month for d in dec] == list(range(1, 13))


def test_trend_values(ex: Extract) -> None:
    # active on 31 Jan: c1, c4 = 2
    # 29 Feb: c1 (closes 5 Mar), c2, c4 (closes 1 Mar), c5 (opened 29 Feb) = 4
    #   (on 28 Feb it would be 3: c5 not yet opened)
    # 14 Mar: c2, c3 (opened that day), c5 = 3
    t = trend(ex, "aktive_sager", Scope.unit("K"), date(2024, 3, 14))
    assert t["as_of"].to_list() == [date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 14)]
    assert t["month"].to_list() == [date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)]
    assert t["value"].to_list() == [2.0, 4.0, 3.0]


def test_trend_of_a_ratio_keeps_nulls(ex: Extract) -> None:
    # no deadlines at all: every month's ratio is null, never 0
    t = trend(ex, "frister_overholdt_pct", Scope.unit("K"), date(2024, 3, 14))
    assert t["value"].to_list() == [None, None, None]
