"""Calibration constants of the demo world (see data/README.md for sources and measured results).

Rates are per year for one municipality of Gladsaxe's size (≈ 70,000 inhabitants).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

HISTORY_START = date(2021, 1, 1)  # extracts hold facts from this day on
WARMUP_START = date(2008, 1, 1)  # cases opened before 2021 still running in 2021 come from here

# New cases per year by type: investigation only, preventive measures, placement.
CASE_RATE = {"inv": 300.0, "prev": 440.0, "plac": 44.0}
# Intake multipliers by calendar year: the Gladsaxe story moved to the 2020s, with more and costlier
# placements in 2020-2022, then a shift to family care and early preventive support (see year_mult).
PLAC_YEAR_MULT = {2018: 0.95, 2019: 1.0, 2020: 1.1, 2021: 1.25, 2022: 1.2, 2023: 0.95, 2024: 0.95, 2025: 1.05}
PREV_YEAR_MULT = {2022: 1.0, 2023: 1.02, 2024: 1.05}
NOTIFIED_ONLY_RATE = 170.0  # children notified without a case being opened
HANDICAP_SHARE = {"inv": 0.05, "prev": 0.16, "plac": 0.08}
REPEAT_CHILD_SHARE = 0.10  # new cases about a child who had an earlier, closed case

INV_LATE_SHARE = 0.14  # child investigations finished after the 4-month deadline
URGENT_PLACEMENT_SHARE = 0.3
PRE_PLACEMENT_SUPPORT_SHARE = 0.3
AFTERCARE_SHARE = 0.2
PLACEMENT_MEDIAN_MONTHS = 40.0
PLACEMENT_SIGMA = 0.8
KIND_CHANGE_SHARE = 0.22
PRICE_CHANGE_SHARE = {"anbringelse": 0.3, "forebyggende": 0.12}
PLANNED_END_SHARE = {"anbringelse": 0.1, "forebyggende": 0.7, "andet": 1.0}


@dataclass(frozen=True)
class Kind:
    kind_id: str
    name: str
    category: str
    account: str
    legal_basis: str | None
    weight: float = 0.0  # share among preventive measures (non-handicap cases)
    weight_handicap: float = 0.0
    median_months: float = 8.0  # preventive measure duration (lognormal)
    provider_group: str | None = None


_P43 = "Barnets lov § 43"


def _p32(n: int) -> str:
    return f"Barnets lov § 32, stk. 1, nr. {n}"


_PREV = "forebyggende"
KINDS: tuple[Kind, ...] = (
    Kind("plejefamilie", "Plejefamilie", "anbringelse", "5.28.22", _P43),
    Kind("netvaerksplejefamilie", "Netværksplejefamilie", "anbringelse", "5.28.22", _P43),
    Kind("opholdssted", "Opholdssted", "anbringelse", "5.28.20", _P43, provider_group="opholdssted"),
    Kind("doegninstitution", "Døgninstitution (børne- og ungehjem)", "anbringelse", "5.28.23", _P43,
         provider_group="doegninstitution"),
    Kind("sikret", "Sikret døgninstitution", "anbringelse", "5.28.24", _P43, provider_group="sikret"),
    Kind("dagtilbud", "Ophold i dagtilbud, fritidshjem el.lign.", _PREV, "5.28.21", _p32(1),
         weight=0.06, weight_handicap=0.15, median_months=10.0),
    Kind("praktisk_stoette", "Praktisk, pædagogisk støtte i hjemmet", _PREV, "5.28.21", _p32(2),
         weight=0.12, weight_handicap=0.20, median_months=8.0, provider_group=_PREV),
    Kind("kontaktperson", "Fast kontaktperson", _PREV, "5.28.21", _p32(3),
         weight=0.25, weight_handicap=0.10, median_months=9.0, provider_group=_PREV),
    Kind("praktik", "Praktiktilbud med godtgørelse", _PREV, "5.28.21", _p32(4),
         weight=0.03, median_months=6.0),
    Kind("familiebehandling", "Familiebehandling", _PREV, "5.28.21", _p32(5),
         weight=0.32, weight_handicap=0.05, median_months=7.0, provider_group=_PREV),
    Kind("doegnophold_familie", "Døgnophold for hele familien", _PREV, "5.28.21", _p32(6),
         weight=0.02, median_months=2.5),
    Kind("aflastning", "Aflastning (støtteophold)", _PREV, "5.28.21", _p32(7),
         weight=0.10, weight_handicap=0.40, median_months=11.0, provider_group=_PREV),
    Kind("anden_hjaelp", "Anden hjælp (rådgivning, behandling)", _PREV, "5.28.21", _p32(8),
         weight=0.10, weight_handicap=0.10, median_months=6.0, provider_group=_PREV),
    Kind("udredning", "Ekstern udredning", "andet", "5.28.21", None, provider_group=_PREV),
)  # fmt: skip
KIND_INDEX = {k.kind_id: i for i, k in enumerate(KINDS)}
PLACEMENT_KINDS = ("plejefamilie", "netvaerksplejefamilie", "opholdssted", "doegninstitution", "sikret")
# First placement's kind by the year it starts (up to and including the key year).
PLACEMENT_MIX = {
    2019: (0.56, 0.22, 0.12, 0.05, 0.05),  # up to 2019
    2022: (0.52, 0.19, 0.16, 0.08, 0.05),  # 2020-2022: more emergency and institutional placements
    9999: (0.55, 0.29, 0.10, 0.04, 0.02),  # from 2023: family care and network families first
}
# Contracts with opholdssteder and døgninstitutioner renegotiated from this day (price × factor).
RENEGOTIATION = (date(2024, 1, 1), 0.9, 0.97)
# Kind after a change of placement, from each kind (rows) to each kind (columns).
PLACEMENT_TRANSITION = (
    (0.0, 0.5, 0.35, 0.15, 0.0),
    (0.6, 0.0, 0.4, 0.0, 0.0),
    (0.55, 0.25, 0.0, 0.2, 0.0),
    (0.5, 0.0, 0.5, 0.0, 0.0),
    (0.0, 0.0, 0.7, 0.3, 0.0),
)

NOTIFICATION_SOURCES = ("skole", "sundhed", "politi", "dagtilbud", "forælder", "anonym", "andet")
NOTIFICATION_SOURCE_P = (0.21, 0.20, 0.125, 0.12, 0.09, 0.075, 0.18)
NOTIFICATION_LATE_SHARE = 0.03  # assessed 5-10 days late (weekends come on top)
# A new assessment routine (daily triage) from the first of the month this many months before the
# newest as_of's month: ordinary assessments then take this share of the time (a real shift, a signal).
ASSESSMENT_ROUTINE_MONTHS = 5
ASSESSMENT_ROUTINE_FACTOR = 0.45

# Family-care allowances paid in advance, between the 15th and the 25th of the month before
# (kpis.md 1.1 prepaid: such a month is in actual and not again in committed).
ADVANCE_SHARE = 0.1
ADVANCE_DAYS = (15, 25)

# Deadlines: share done after the due date, and share never done at all.
DEADLINE_LATE_SHARE = 0.14
DEADLINE_NEVER_SHARE = 0.02
HANDLEPLAN_SHARE = 0.6

TARGET_CASELOAD = 29.0  # active cases per caseworker FTE, used to size the teams
MEAN_TENURE_YEARS = {"raadgiver": 6.0, "teamleder": 7.0, "leder": 8.0, "administration": 8.0}

# Absence spells per employee-year: (kind, rate, min days, max days).
ABSENCE_SPELLS = (
    ("egen_sygdom", 3.8, 1, 4),
    ("egen_sygdom", 0.6, 5, 14),
    ("egen_sygdom", 0.07, 15, 75),
    ("barns_sygdom", 1.6, 1, 2),
    ("arbejdsskade", 0.02, 3, 30),
    ("andet", 0.3, 1, 5),
)

# Spend ÷ budget for the whole department, by year; the year of the newest extract is 1.0.
OVERRUN = {2021: 1.005, 2022: 1.07, 2023: 1.105, 2024: 1.03, 2025: 1.01}

SURVEY_MONTH_DAY = (9, 30)  # satisfaction surveys close on 30 September


def year_mult(table: dict[int, float], year: int) -> float:
    """The value for the latest year in the table on or before `year` (the first one before it)."""
    years = sorted(table)
    if year <= years[0]:
        return table[years[0]]
    if year >= years[-1]:
        return table[years[-1]]
    return table[year] if year in table else table[max(y for y in years if y < year)]
