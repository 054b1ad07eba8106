"""What a generated extract actually looks like, measured against the calibration targets.

`python -m data.generate --calibration` prints the table that data/README.md shows.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from metrics.contract import ALL_TABLE_NAMES, file_name
from metrics.economy import committed


def num(x: Any) -> float:
    """A polars scalar (sum, mean, item) as a float; polars types them as a wide union."""
    return float(x)


def read(path: Path) -> dict[str, pl.DataFrame]:
    return {
        t: pl.read_parquet(path / file_name(t)) for t in ALL_TABLE_NAMES if (path / file_name(t)).is_file()
    }


def _active(df: pl.DataFrame, start: str, end: str, d: date) -> pl.DataFrame:
    return df.filter((pl.col(start) <= d) & (pl.col(end).is_null() | (pl.col(end) >= d)))


def expected(t: dict[str, pl.DataFrame], as_of: date) -> float:
    """kpis.md 'expected' for the whole municipality: actual + committed for the rest of the year."""
    y = as_of.year
    actual = t["payments"].filter(pl.col("period").dt.year() == y)["amount"].sum()
    return num(actual) + committed(t["interventions"], t["payments"], as_of)


def measure(t: dict[str, pl.DataFrame], as_of: date) -> dict[str, float]:
    out: dict[str, float] = {}
    iv = t["interventions"].join(t["intervention_kinds"], on="kind_id")
    cases = t["cases"]
    pay = t["payments"].join(iv.select("intervention_id", "category", "account"), on="intervention_id")
    by_year = pay.group_by(pl.col("period").dt.year().alias("y")).agg(pl.col("amount").sum()).sort("y")
    full_years = by_year.filter(pl.col("y") < as_of.year)
    peak = full_years.sort("amount").tail(1)
    out["spend_peak_mio"] = peak["amount"].item() / 1e6
    out["spend_peak_year"] = peak["y"].item()
    py = out["spend_peak_year"]
    placed_spend = pay.filter((pl.col("period").dt.year() == py) & (pl.col("category") == "anbringelse"))
    out["placement_share_pct"] = 100 * placed_spend["amount"].sum() / peak["amount"].item()
    budget = t["budgets"].group_by("year").agg(pl.col("amount").sum())
    for y, amount in full_years.iter_rows():
        b = budget.filter(pl.col("year") == y)["amount"].sum()
        out[f"spend_{y}_mio"] = amount / 1e6
        out[f"spend_vs_budget_{y}_pct"] = 100 * amount / b
    exp = expected(t, as_of)
    out["expected_current_mio"] = exp / 1e6
    out["expected_vs_budget_current_pct"] = (
        100 * exp / num(budget.filter(pl.col("year") == as_of.year)["amount"].sum())
    )

    live = _active(iv, "start_on", "end_on", as_of)
    live = live.join(cases.select("case_id", "child_id"), on="case_id")
    out["children_placed"] = live.filter(pl.col("category") == "anbringelse")["child_id"].n_unique()
    out["children_preventive"] = live.filter(pl.col("category") == "forebyggende")["child_id"].n_unique()
    for kind in (
        "plejefamilie",
        "netvaerksplejefamilie",
        "opholdssted",
        "doegninstitution",
        "sikret",
        "familiebehandling",
        "kontaktperson",
        "aflastning",
    ):
        costs = iv.filter(pl.col("kind_id") == kind)["monthly_cost"]
        out[f"unit_cost_{kind}"] = num(costs.median() or 0)

    act = cases.filter(
        (pl.col("opened_on") <= as_of) & (pl.col("closed_on").is_null() | (pl.col("closed_on") > as_of))
    )
    out["active_cases"] = act.height
    emp = t["employees"]
    employed = emp.filter(
        (pl.col("employed_from") <= as_of)
        & (pl.col("employed_to").is_null() | (pl.col("employed_to") >= as_of))
    )
    cw = employed.filter(pl.col("role") == "raadgiver")
    out["caseworkers"] = cw.height
    out["caseload_per_fte"] = num(act["caseworker_id"].is_not_null().sum()) / num(cw["fte"].sum())
    per = (
        act.group_by("caseworker_id")
        .len()
        .join(cw.select(pl.col("employee_id").alias("caseworker_id")), on="caseworker_id")
    )
    out["caseload_min"] = num(per["len"].min())
    out["caseload_max"] = num(per["len"].max())
    out["unassigned_cases"] = num(act["caseworker_id"].is_null().sum())
    out["staff_employed"] = employed.height

    n = t["notifications"]
    ny = n.group_by(pl.col("received_at").dt.year().alias("y")).agg(
        pl.len(), pl.col("child_id").n_unique().alias("children")
    )
    last_full = ny.filter(pl.col("y") < as_of.year).sort("y")
    out["notifications_per_year_min"] = num(last_full["len"].min())
    out["notifications_per_year_max"] = num(last_full["len"].max())
    out["notified_children_per_year"] = num(last_full["children"].mean())
    share = n.group_by("source").len().with_columns(pct=100 * pl.col("len") / n.height)
    for s, pct in share.select("source", "pct").iter_rows():
        out[f"source_{s}_pct"] = pct
    done = n.filter(pl.col("assessed_at").is_not_null())
    late = (done["assessed_at"] - done["received_at"]) > timedelta(hours=24)
    out["assessed_late_pct"] = num(100 * late.sum() / done.height)
    out["unassessed_at_as_of"] = num(n["assessed_at"].is_null().sum())

    # sick leave per kpis.md, whole municipality, YTD
    y0 = date(as_of.year, 1, 1)
    days = pl.date_range(y0, as_of, eager=True)
    weekdays = days.filter(days.dt.weekday() <= 5)
    e = emp.select("employee_id", "fte", "employed_from", "employed_to")
    grid = e.join(pl.DataFrame({"d": weekdays}), how="cross").filter(
        (pl.col("employed_from") <= pl.col("d"))
        & (pl.col("employed_to").is_null() | (pl.col("d") <= pl.col("employed_to")))
    )
    sick = t["absences"].filter(pl.col("kind") == "egen_sygdom")
    sick_days = (
        grid.join(sick, on="employee_id")
        .filter((pl.col("start_on") <= pl.col("d")) & (pl.col("d") <= pl.col("end_on")))
        .unique(["employee_id", "d"])
    )
    out["sick_leave_pct"] = 100 * num(sick_days["fte"].sum()) / num(grid["fte"].sum())
    ab = t["absences"]
    out["long_spells"] = ab.filter((pl.col("end_on") - pl.col("start_on")).dt.total_days() >= 14).height
    a2 = ab.with_row_index("i")
    overl = a2.join(a2, on="employee_id").filter(
        (pl.col("i") < pl.col("i_right"))
        & (pl.col("start_on") <= pl.col("end_on_right"))
        & (pl.col("start_on_right") <= pl.col("end_on"))
    )
    out["overlapping_spell_pairs"] = overl.height

    def headcount(d: date) -> int:
        return emp.filter(
            (pl.col("employed_from") <= d) & (pl.col("employed_to").is_null() | (pl.col("employed_to") >= d))
        ).height

    year_ago = as_of - timedelta(days=365)
    leavers = emp.filter((pl.col("employed_to") > year_ago) & (pl.col("employed_to") <= as_of)).height
    out["turnover_pct"] = 100 * leavers / ((headcount(year_ago) + headcount(as_of)) / 2)

    dl = t["deadlines"].filter((pl.col("due_on") >= y0) & (pl.col("due_on") <= as_of))
    met = dl.filter(
        pl.col("done_on").is_not_null() & (pl.col("done_on") <= pl.min_horizontal("due_on", pl.lit(as_of)))
    )
    out["deadlines_met_pct"] = 100 * met.height / dl.height
    for kind in ("undersoegelse", "opfoelgning", "handleplan"):
        k_all = dl.filter(pl.col("kind") == kind).height
        out[f"deadlines_met_{kind}_pct"] = 100 * met.filter(pl.col("kind") == kind).height / max(k_all, 1)
    out["deadlines_overdue"] = (
        t["deadlines"]
        .filter((pl.col("due_on") < as_of) & (pl.col("done_on").is_null() | (pl.col("done_on") > as_of)))
        .height
    )
    out["deadlines_open"] = num(t["deadlines"]["done_on"].is_null().sum())
    m = t["measurements"]
    out["survey_min"] = num(m["value"].min())
    out["survey_max"] = num(m["value"].max())
    out["payments_negative"] = t["payments"].filter(pl.col("amount") < 0).height
    dec = (
        t["payments"]
        .filter(
            (pl.col("period").dt.month() == 12)
            & (pl.col("posted_on").dt.year() == pl.col("period").dt.year() + 1)
        )
        .height
    )
    out["december_paid_in_january"] = dec
    out["paid_in_advance"] = t["payments"].filter(pl.col("posted_on") < pl.col("period")).height
    if "contacts" in t:
        ct = t["contacts"].filter(pl.col("received_at").dt.year() < as_of.year)
        yearly = ct.group_by(pl.col("received_at").dt.year()).agg(
            pl.len().alias("n"), (pl.col("demand_type") == "fejl").mean().alias("fail")
        )
        out["contacts_per_year_min"] = num(yearly["n"].min())
        out["contacts_per_year_max"] = num(yearly["n"].max())
        out["failure_share_pct"] = 100 * num((ct["demand_type"] == "fejl").mean())
        monthly = ct.group_by(pl.col("received_at").dt.truncate("1mo")).agg(
            (pl.col("demand_type") == "fejl").mean().alias("fail")
        )
        out["failure_month_min_pct"] = 100 * num(monthly["fail"].min())
        out["failure_month_max_pct"] = 100 * num(monthly["fail"].max())
    # notification assessment hours before and after the new routine (data._world), items as in
    # kpis.md's vurdering_timer: mean over the 365 days up to as_of
    from data._world import assessment_routine_from

    routine = datetime.combine(assessment_routine_from(as_of), datetime.min.time())
    window = datetime.combine(as_of - timedelta(days=364), datetime.min.time())
    n = t["notifications"].filter(pl.col("assessed_at").is_not_null() & (pl.col("received_at") >= window))
    hours = (pl.col("assessed_at") - pl.col("received_at")).dt.total_seconds() / 3600
    out["assessment_before_h"] = num(n.filter(pl.col("received_at") < routine).select(hours.mean()).item())
    out["assessment_after_h"] = num(n.filter(pl.col("received_at") >= routine).select(hours.mean()).item())
    return out


def _mio(x: float) -> str:
    return f"{x / 1e6:.1f} mio. kr."


def _kr(x: float) -> str:
    return f"{x:,.0f} kr.".replace(",", ".")


def table(path: Path) -> str:
    """The calibration table (markdown) for one written extract."""
    as_of = date.fromisoformat(path.name)
    m = measure(read(path), as_of)
    y = int(m["spend_peak_year"])
    years = sorted(
        int(k[6:10]) for k in m if k.startswith("spend_") and k[6:10].isdigit() and k.endswith("_mio")
    )
    vs_budget = ", ".join(f"{yr}: {m[f'spend_vs_budget_{yr}_pct']:.0f} %" for yr in years)
    rows = [
        (
            "Forbrug på børne- og ungeområdet, højeste år",
            "≈ 156 mio. kr. (Gladsaxe 2017)",
            f"{m['spend_peak_mio']:.1f} mio. kr. ({y})",
        ),
        (
            "Andel til anbringelser / forebyggelse i det år",
            "≈ 63 % / 37 %",
            f"{m['placement_share_pct']:.0f} % / {100 - m['placement_share_pct']:.0f} %",
        ),
        ("Forbrug ÷ budget pr. år", "over budget 2022–23, balance i indeværende år", vs_budget),
        (
            "Forventet regnskab ÷ budget, indeværende år (kpis.md)",
            "≈ 100 % (± 2 %)",
            f"{m['expected_vs_budget_current_pct']:.1f} %",
        ),
        ("Anbragte børn på as_of", "≈ 150–170", f"{m['children_placed']:.0f}"),
        ("Børn med forebyggende foranstaltninger på as_of", "≈ 450–550", f"{m['children_preventive']:.0f}"),
        ("Plejefamilie, median pr. år", "≈ 470.000 kr.", _kr(12 * m["unit_cost_plejefamilie"])),
        (
            "Netværksplejefamilie, median pr. år",
            "100.000–250.000 kr.",
            _kr(12 * m["unit_cost_netvaerksplejefamilie"]),
        ),
        ("Døgninstitution, median pr. år", "1,4–1,9 mio. kr.", _mio(12 * m["unit_cost_doegninstitution"])),
        ("Opholdssted, median pr. år", "0,9–1,0 mio. kr.", _mio(12 * m["unit_cost_opholdssted"])),
        ("Sikret døgninstitution, median pr. år", "≈ 1,5 mio. kr.", _mio(12 * m["unit_cost_sikret"])),
        (
            "Familiebehandling / kontaktperson, median pr. måned",
            "640–690 kr. pr. time × timer",
            f"{_kr(m['unit_cost_familiebehandling'])} / {_kr(m['unit_cost_kontaktperson'])}",
        ),
        ("Aflastning, median pr. måned", "≈ 2.800 kr. pr. døgn × døgn", _kr(m["unit_cost_aflastning"])),
        (
            "Underretninger pr. hele år",
            "≈ 1.800–2.000",
            f"{m['notifications_per_year_min']:.0f}–{m['notifications_per_year_max']:.0f}",
        ),
        ("Børn med underretning pr. år", "≈ 1.000", f"{m['notified_children_per_year']:.0f}"),
        (
            "Underrettere: skole / sundhed / politi",
            "21 % / 20 % / 12,5 %",
            f"{m['source_skole_pct']:.1f} % / {m['source_sundhed_pct']:.1f} % / {m['source_politi_pct']:.1f} %",
        ),
        ("Underretninger vurderet efter mere end 24 timer", "8–15 %", f"{m['assessed_late_pct']:.1f} %"),
        ("Underretninger ikke vurderet på as_of", "nogle få", f"{m['unassessed_at_as_of']:.0f}"),
        ("Rådgivere ansat på as_of", "25–35", f"{m['caseworkers']:.0f}"),
        (
            "Aktive sager pr. rådgiver-årsværk (min–maks pr. rådgiver)",
            "25–33",
            f"{m['caseload_per_fte']:.1f} ({m['caseload_min']:.0f}–{m['caseload_max']:.0f})",
        ),
        (
            "Sygefravær, egen sygdom, år til dato (kpis.md)",
            "5–6 %",
            f"{m['sick_leave_pct']:.1f} %",
        ),
        (
            "Sygeperioder over 14 dage / overlappende par",
            "nogle",
            f"{m['long_spells']:.0f} / {m['overlapping_spell_pairs']:.0f}",
        ),
        ("Personaleomsætning (kpis.md)", "10–20 %", f"{m['turnover_pct']:.1f} %"),
        (
            "Frister overholdt, år til dato: alle / undersøgelser / opfølgninger",
            "de fleste",
            f"{m['deadlines_met_pct']:.0f} % / {m['deadlines_met_undersoegelse_pct']:.0f} % / "
            f"{m['deadlines_met_opfoelgning_pct']:.0f} %",
        ),
        ("Tilfredshed (brugere og medarbejdere)", "3,6–4,7", f"{m['survey_min']:.2f}–{m['survey_max']:.2f}"),
        (
            "Negative betalinger / december betalt i januar",
            "nogle",
            f"{m['payments_negative']:.0f} / {m['december_paid_in_january']:.0f}",
        ),
        (
            "Plejefamiliebetalinger betalt forud (15.–25. i måneden før)",
            "nogle",
            f"{m['paid_in_advance']:.0f}",
        ),
    ]
    if "contacts_per_year_min" in m:
        rows += [
            (
                "Henvendelser pr. hele år",
                "nogle tusinde",
                f"{m['contacts_per_year_min']:.0f}–{m['contacts_per_year_max']:.0f}",
            ),
            (
                "Fejlefterspørgsel (hele år; laveste–højeste måned)",
                "≈ en tredjedel, højere ved udskiftning og sygdom",
                f"{m['failure_share_pct']:.1f} % ({m['failure_month_min_pct']:.0f}–{m['failure_month_max_pct']:.0f} %)",
            ),
        ]
    rows.append(
        (
            "Timer fra underretning til vurdering, gennemsnit før / efter ny rutine",
            "et tydeligt fald (et signal)",
            f"{m['assessment_before_h']:.1f} / {m['assessment_after_h']:.1f}",
        )
    )
    lines = ["| Mål | Mål (kilde: se nedenfor) | Genereret |", "| --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)
