"""The registry of metric definitions: the one list pages, exports and the CLI read."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

import polars as pl

from metrics import demand, economy, kpis
from metrics.extract import Extract
from metrics.scope import Scope, check_scope
from metrics.values import KpiValue, trend_dates

Direction = Literal["higher", "lower"]
Format = Literal["pct", "dkk", "count", "ratio", "score"]
Compute = Callable[[Extract, Scope, date], KpiValue]


@dataclass(frozen=True)
class MetricDef:
    id: str
    label: str
    unit: str
    format: Format
    description: str
    direction: Direction | None
    tables: tuple[str, ...]
    compute: Compute
    from_measurements: bool = False
    needs: tuple[str, ...] = ()  # optional tables (contacts): without them the metric is left out


_DEFS = (
    MetricDef(
        "oekonomi_forventet_pct",
        "Forventet regnskab i % af budget",
        "%",
        "pct",
        "Forventet regnskab (forbrug år til dato + disponeret resten af året) divideret med årets budget "
        "for enhederne i udsnittet, × 100.",
        "lower",
        ("payments", "interventions", "budgets"),
        economy.oekonomi_forventet_pct,
    ),
    MetricDef(
        "udgift_pr_sag",
        "Udgift pr. sag",
        "kr.",
        "dkk",
        "Årets forbrug divideret med antal forskellige sager med mindst én betaling, der tæller i forbruget.",
        "lower",
        ("payments", "interventions", "cases"),
        economy.udgift_pr_sag,
    ),
    MetricDef(
        "udgift_pr_sag_aendring_pct",
        "Udgift pr. sag, ændring fra sidste år",
        "%",
        "pct",
        "(Udgift pr. sag på datoen ÷ udgift pr. sag samme dag sidste år − 1) × 100. "
        "29. februar sammenlignes med 28. februar.",
        "lower",
        ("payments", "interventions", "cases"),
        economy.udgift_pr_sag_aendring_pct,
    ),
    MetricDef(
        "aktive_sager",
        "Aktive sager",
        "sager",
        "count",
        "Sager, der er åbne på datoen (åbnet senest på datoen og ikke lukket før eller på datoen).",
        None,
        ("cases",),
        kpis.aktive_sager,
    ),
    MetricDef(
        "sager_pr_raadgiver",
        "Sager pr. rådgiver (årsværk)",
        "sager pr. årsværk",
        "ratio",
        "Aktive sager med en rådgiver divideret med summen af årsværk (fte) for ansatte rådgivere på datoen.",
        "lower",
        ("cases", "employees"),
        kpis.sager_pr_raadgiver,
    ),
    MetricDef(
        "frister_overholdt_pct",
        "Frister overholdt",
        "%",
        "pct",
        "Af fristerne med frist i år til og med datoen: andelen, der er afsluttet senest på fristdagen.",
        "higher",
        ("deadlines", "cases"),
        kpis.frister_overholdt_pct,
    ),
    MetricDef(
        "undersoegelser_rettidige_pct",
        "Børnefaglige undersøgelser til tiden",
        "%",
        "pct",
        "Som frister overholdt, kun børnefaglige undersøgelser (4-måneders-fristen).",
        "higher",
        ("deadlines", "cases"),
        kpis.undersoegelser_rettidige_pct,
    ),
    MetricDef(
        "opfoelgninger_rettidige_pct",
        "Opfølgninger til tiden",
        "%",
        "pct",
        "Som frister overholdt, kun opfølgninger på foranstaltninger.",
        "higher",
        ("deadlines", "cases"),
        kpis.opfoelgninger_rettidige_pct,
    ),
    MetricDef(
        "frister_overskredne",
        "Overskredne frister",
        "frister",
        "count",
        "Frister, hvor fristdagen er passeret, og som ikke var afsluttet på datoen.",
        "lower",
        ("deadlines", "cases"),
        kpis.frister_overskredne,
    ),
    MetricDef(
        "underretninger_antal",
        "Underretninger i år",
        "underretninger",
        "count",
        "Underretninger modtaget fra 1. januar til og med datoen.",
        None,
        ("notifications",),
        kpis.underretninger_antal,
    ),
    MetricDef(
        "underretninger_24t_pct",
        "Underretninger vurderet inden for 24 timer",
        "%",
        "pct",
        "Andel af årets underretninger, der er vurderet senest 24 timer efter modtagelsen. Underretninger, "
        "der endnu ikke er vurderet, og hvis 24 timer ikke er gået, tæller ikke med.",
        "higher",
        ("notifications",),
        kpis.underretninger_24t_pct,
    ),
    MetricDef(
        "sygefravaer_pct",
        "Sygefravær",
        "%",
        "pct",
        "Årsværk på hverdage (man–fre) med egen sygdom i år divideret med planlagte årsværk på hverdage, "
        "mens medarbejderen var ansat. Helligdage er ikke fratrukket.",
        "lower",
        ("employees", "absences"),
        kpis.sygefravaer_pct,
    ),
    MetricDef(
        "personaleomsaetning_pct",
        "Personaleomsætning",
        "%",
        "pct",
        "Fratrådte de seneste 365 dage divideret med gennemsnittet af antal ansatte for 365 dage siden "
        "og på datoen, × 100.",
        "lower",
        ("employees",),
        kpis.personaleomsaetning_pct,
    ),
    MetricDef(
        "henvendelser_antal",
        "Henvendelser i år",
        "henvendelser",
        "count",
        "Henvendelser fra familier og samarbejdspartnere modtaget fra 1. januar til og med datoen.",
        None,
        ("contacts",),
        demand.henvendelser_antal,
        needs=("contacts",),
    ),
    MetricDef(
        "fejlefterspoergsel_pct",
        "Fejlefterspørgsel",
        "%",
        "pct",
        "Andel af årets henvendelser, der skyldes noget, der ikke blev gjort eller ikke blev gjort rigtigt "
        "(fx »Har ikke hørt fra rådgiver«).",
        "lower",
        ("contacts",),
        demand.fejlefterspoergsel_pct,
        needs=("contacts",),
    ),
)

_MEASUREMENT_LABELS: dict[str, tuple[str, str]] = {
    "brugertilfredshed": (
        "Brugertilfredshed",
        "Gennemsnitlig tilfredshed (1–5) blandt borgere i seneste måling.",
    ),
    "medarbejdertilfredshed": (
        "Medarbejdertilfredshed",
        "Gennemsnitlig tilfredshed (1–5) blandt medarbejdere i seneste trivselsmåling.",
    ),
}

REGISTRY: dict[str, MetricDef] = {d.id: d for d in _DEFS}
FORMULA_IDS: tuple[str, ...] = tuple(REGISTRY)


def measurement_def(kpi_id: str) -> MetricDef:
    label, description = _MEASUREMENT_LABELS.get(
        kpi_id, (kpi_id, "Værdi fra tabellen measurements (seneste måling for enheden).")
    )
    return MetricDef(
        kpi_id,
        label,
        "",
        "score",
        description
        + " Uden egen måling: gennemsnit af underenhedernes seneste målinger vægtet med antal svar.",
        "higher",
        ("measurements",),
        kpis.measurement(kpi_id),
        from_measurements=True,
    )


for _kpi in _MEASUREMENT_LABELS:
    REGISTRY[_kpi] = measurement_def(_kpi)


def measurement_ids(ex: Extract) -> list[str]:
    return sorted(ex["measurements"]["kpi_id"].unique().to_list())


def available(ex: Extract, metric_id: str) -> bool:
    """False for a metric that needs an optional table the extract does not have."""
    return all(ex.present(t) for t in get(metric_id).needs)


def metric_ids(ex: Extract) -> list[str]:
    """Every formula KPI of kpis.md the extract can give (the demand KPIs only with
    contacts), then every measurement KPI found in the extract."""
    formula = [m for m in FORMULA_IDS if available(ex, m)]
    return formula + [k for k in measurement_ids(ex) if k not in FORMULA_IDS]


def get(metric_id: str) -> MetricDef:
    if metric_id in REGISTRY:
        return REGISTRY[metric_id]
    return measurement_def(metric_id)


def compute(ex: Extract, metric_id: str, scope: Scope, as_of: date) -> KpiValue:
    return get(metric_id).compute(ex, scope, as_of)


def compute_all(ex: Extract, scope: Scope, as_of: date) -> dict[str, KpiValue]:
    check_scope(ex, scope)
    return {m: compute(ex, m, scope, as_of) for m in metric_ids(ex)}


def trend(ex: Extract, metric_id: str, scope: Scope, as_of: date) -> pl.DataFrame:
    """The KPI at the end of each month of as_of's year up to its month (as_of itself for that month)."""
    days = trend_dates(as_of)
    values = values_at(ex, metric_id, scope, days)
    return pl.DataFrame(
        {
            "month": [date(d.year, d.month, 1) for d in days],
            "as_of": days,
            "value": [v.value for v in values],
            "basis": [v.basis for v in values],
        },
        schema={"month": pl.Date, "as_of": pl.Date, "value": pl.Float64, "basis": pl.Int64},
    )


def values_at(ex: Extract, metric_id: str, scope: Scope, days: Sequence[date]) -> list[KpiValue]:
    """The KPI at each of `days`: one grouped pass per year where `metrics.trends`
    has the metric's form, else date by date."""
    from metrics.trends import OVER_DATES

    over = OVER_DATES.get(metric_id)
    if over is None and get(metric_id).from_measurements:
        from metrics.trends import measurement

        over = measurement(metric_id)
    if over is None:
        return [compute(ex, metric_id, scope, d) for d in days]
    unique = sorted(set(days))
    found: dict[date, KpiValue] = {}
    for year in sorted({d.year for d in unique}):
        in_year = [d for d in unique if d.year == year]
        found.update(zip(in_year, over(ex, scope, in_year), strict=True))
    return [found[d] for d in days]
