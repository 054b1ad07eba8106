"""One simulated world: every fact from 2021 to the end of the horizon year, with the day on which
each fact becomes known. Extracts are snapshots of it (see _snapshot.py).

Everything is vectorised over rows with numpy and polars; Python loops only run over small things
(kinds, spell types, years, months of a year, municipalities when building the org tree).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import polars as pl

from data import _params as P
from data._calendar import (
    add_months,
    day,
    days_in_month,
    month_index,
    month_start,
    next_weekday,
    to_date,
    weekday,
    year_of,
    year_start,
)
from data._contacts import build_contacts
from data._names import PROVIDERS, emails, person_names
from data._random import (
    GOLDEN,
    SQRT2,
    choice,
    choice_rows,
    normal_quantile,
    rng_for,
    systematic_counts,
    uniform_int,
    weyl,
)
from metrics.contract import TIMESTAMP, polars_schema

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
Arrays = dict[str, np.ndarray]
Progress = Callable[[float, str], None]

US_PER_DAY = 86_400_000_000
NO_DATE = np.iinfo(np.int64).max // 4  # an end so far away that it is shown as open (null)
INV, PREV, PLAC = 0, 1, 2  # case types: investigation only, preventive measures, placement
DEADLINE_KINDS = ("undersoegelse", "handleplan", "opfoelgning")


@dataclass(frozen=True)
class Team:
    key: str
    name: str
    has_cases: bool = True


@dataclass(frozen=True)
class Preset:
    teams: tuple[Team, ...]
    population: float  # case and notification volume relative to Gladsaxe
    caseload: float  # active cases per caseworker FTE used to size the teams
    n_admin: int
    admin_team: str | None  # team key of the economy unit; None: admin staff sit in the afdeling


PRESETS = {
    "full": Preset(
        teams=(
            Team("modt", "Modtagelsen"),
            Team("b013", "Familierådgivningen 0–13 år"),
            Team("unge", "Unge 14–17 år"),
            Team("handicap", "Børnehandicap"),
            Team("oekonomi", "Økonomi og administration", has_cases=False),
        ),
        population=1.0,
        caseload=P.TARGET_CASELOAD,
        n_admin=4,
        admin_team="oekonomi",
    ),
    "small": Preset(
        teams=(Team("modt", "Modtagelsen"), Team("famr", "Familierådgivningen")),
        population=0.1,
        caseload=19.0,
        n_admin=1,
        admin_team=None,
    ),
}


@dataclass
class World:
    """All facts with their true dates; extra columns say when a fact becomes known."""

    horizon: date
    municipality: str
    org_units: pl.DataFrame
    intervention_kinds: pl.DataFrame
    employees: pl.DataFrame  # employed_to is the true last day (may lie after an as_of)
    holders: pl.DataFrame  # position_id, employee_id, from_day, to_day: who holds a position when
    cases: pl.DataFrame  # + position_id, assign_lag; closed_on true
    interventions: pl.DataFrame  # + end_known_on; end_on true
    payments: pl.DataFrame
    budgets: pl.DataFrame
    notifications: pl.DataFrame  # assessed_at true; case_id the case it will belong to
    deadlines: pl.DataFrame  # done_on true
    absences: pl.DataFrame
    measurements: pl.DataFrame
    contacts: pl.DataFrame | None = None  # optional table (contract 1.1); received_at true


@dataclass(frozen=True)
class _Ctx:
    seed: int
    key: tuple[int, ...]
    scale: int
    size: str
    preset: Preset
    horizon_year: int
    H: int  # last simulated day
    H0: int  # first day of history in the extracts
    reference: int  # the newest as_of: the current year's budget is set to its expected spend
    pop: F64  # size of each municipality relative to Gladsaxe

    @property
    def T(self) -> int:
        return len(self.preset.teams)

    def rng(self, component: int) -> np.random.Generator:
        return rng_for(self.seed, self.key, component)

    def team_index(self, key: str) -> int:
        return [t.key for t in self.preset.teams].index(key)


@dataclass(frozen=True)
class _Org:
    units: pl.DataFrame
    team_units: pl.Series  # unit_id of team i (municipality i // T, team i % T)
    afd_units: pl.Series  # unit_id of each municipality's afdeling
    domains: list[str]
    municipality: str


def _date_col(name: str, days: I64) -> pl.Series:
    """Day numbers as a pl.Date series; NO_DATE and later become null."""
    f = np.where(days >= NO_DATE, np.nan, days.astype(np.float64))
    return pl.Series(name, f, nan_to_null=True).cast(pl.Int32).cast(pl.Date)


def _ids(prefix: str, n: int, width: int) -> pl.Series:
    return pl.select(
        pl.concat_str(pl.lit(prefix), pl.int_range(1, n + 1).cast(pl.String).str.zfill(width))
    ).to_series()


def _labels(values: tuple[str, ...] | list[str] | pl.Series, idx: I64) -> pl.Series:
    return pl.Series(values, dtype=pl.String).gather(idx)


def _month_range(first_day: int, last_day: int) -> I64:
    return np.arange(month_index(np.array([first_day]))[0], month_index(np.array([last_day]))[0] + 1)


# --- organisation --------------------------------------------------------------------------------------


def _organisation(ctx: _Ctx) -> _Org:
    scale, preset = ctx.scale, ctx.preset
    width = max(2, len(str(scale)))
    if scale == 1:
        codes = ["gladsaxe"]
        root_id, root_name = "gladsaxe", "Gladsaxe Kommune (demo)"
        municipality = root_name
        forv_names = ["Børne- og Familieforvaltningen"]
        domains = ["demo.gladsaxe.invalid"]
    else:
        codes = [f"k{m + 1:0{width}d}" for m in range(scale)]
        root_id, root_name = "alle", "Alle kommuner (demo)"
        municipality = f"Alle kommuner (demo, {scale} kommuner)"
        forv_names = [f"Børn og Familie, Demokommune {m + 1:0{width}d}" for m in range(scale)]
        domains = [f"{c}.demo.invalid" for c in codes]
    units: list[tuple[str, str | None, str, str]] = [(root_id, None, root_name, "kommune")]
    team_units, afd_units = [], []
    for m, c in enumerate(codes):
        units.append((f"{c}.bf", root_id, forv_names[m], "forvaltning"))
        units.append((f"{c}.bf.fam", f"{c}.bf", "Familieafdelingen", "afdeling"))
        afd_units.append(f"{c}.bf.fam")
        for t in preset.teams:
            units.append((f"{c}.bf.fam.{t.key}", f"{c}.bf.fam", t.name, "team"))
            team_units.append(f"{c}.bf.fam.{t.key}")
    return _Org(
        units=pl.DataFrame(units, schema=polars_schema("org_units"), orient="row"),
        team_units=pl.Series(team_units, dtype=pl.String),
        afd_units=pl.Series(afd_units, dtype=pl.String),
        domains=domains,
        municipality=municipality,
    )


def _kinds_frame() -> pl.DataFrame:
    return pl.DataFrame(
        [(k.kind_id, k.name, k.category, k.account, k.legal_basis) for k in P.KINDS],
        schema=polars_schema("intervention_kinds"),
        orient="row",
    )


# --- cases and the measures on them ----------------------------------------------------------------------


class _Segments:
    """Intervention segments from several batches; each batch row starts its own episode."""

    FIELDS = ("case", "kind", "decided", "start", "end", "known", "cost", "episode")

    def __init__(self) -> None:
        self.parts: list[Arrays] = []
        self.n_episodes = 0

    def add(self, case: I64, kind: I64, decided: I64, start: I64, end: I64, known: I64) -> None:
        n = len(case)
        episode = np.arange(self.n_episodes, self.n_episodes + n, dtype=np.int64)
        self.n_episodes += n
        self.parts.append(
            {
                "case": case,
                "kind": kind,
                "decided": decided,
                "start": start,
                "end": end,
                "known": known,
                "cost": np.zeros(n),
                "episode": episode,
            }
        )

    def arrays(self) -> Arrays:
        return {k: np.concatenate([p[k] for p in self.parts]) for k in self.FIELDS}


def _split(
    seg: Arrays, mask: Bools, at: I64, new_kind: I64, new_cost: F64, rng: np.random.Generator
) -> Arrays:
    """The masked segments end on day `at`; a successor of new_kind and new_cost starts the next day.

    The successor is decided a little before it starts, and from that day the old end is known.
    """
    idx = np.flatnonzero(mask)
    b_start = at[idx] + 1
    b_decided = np.maximum(b_start - uniform_int(rng, 7, 30, len(idx)), seg["start"][idx])
    new = {
        "case": seg["case"][idx],
        "kind": new_kind[idx],
        "decided": b_decided,
        "start": b_start,
        "end": seg["end"][idx],
        "known": np.maximum(seg["known"][idx], b_decided),
        "cost": new_cost[idx],
        "episode": seg["episode"][idx],
    }
    old = {k: v.copy() for k, v in seg.items()}
    old["end"][idx] = at[idx]
    old["known"][idx] = b_decided
    return {k: np.concatenate([old[k], new[k]]) for k in seg}


def _monthly_cost(rng: np.random.Generator, kind: I64) -> F64:
    """DKK per full month, from the unit costs in data/README.md."""
    n = len(kind)
    u = rng.random(n)
    h = rng.random(n)

    def hours(lo: int, hi: int) -> F64:
        return np.round(lo + (hi - lo) * h)

    by_kind = {
        "plejefamilie": 470_000 / 12 * (0.88 + 0.24 * u),
        "netvaerksplejefamilie": (100_000 + 150_000 * u) / 12,
        "opholdssted": (900_000 + 100_000 * u) / 12,
        "doegninstitution": (1_400_000 + 500_000 * u) / 12,
        "sikret": 1_500_000 / 12 * (0.95 + 0.1 * u),
        "dagtilbud": 2_500 + 3_500 * u,
        "praktisk_stoette": hours(6, 14) * (560 + 80 * u),
        "kontaktperson": hours(6, 14) * (640 + 50 * u),
        "praktik": 2_000 + 2_500 * u,
        "familiebehandling": hours(8, 20) * (640 + 50 * u),
        "doegnophold_familie": 55_000 + 30_000 * u,
        "aflastning": hours(2, 6) * (2_700 + 200 * u),  # døgn per month × price per døgn
        "anden_hjaelp": 3_000 + 6_000 * u,
        "udredning": 20_000 + 15_000 * u,
    }
    out = np.zeros(n)
    for i, k in enumerate(P.KINDS):
        sel = kind == i
        out[sel] = by_kind[k.kind_id][sel]
    return np.round(out, 0)


def _case_arrivals(ctx: _Ctx, rng: np.random.Generator) -> Arrays:
    months = _month_range(day(P.WARMUP_START), ctx.H)
    m_years = year_of(month_start(months))
    mults = {
        INV: np.ones(len(months)),
        PREV: np.array([P.year_mult(P.PREV_YEAR_MULT, int(y)) for y in m_years]),
        PLAC: np.array([P.year_mult(P.PLAC_YEAR_MULT, int(y)) for y in m_years]),
    }
    parts = []
    for ty, name in ((INV, "inv"), (PREV, "prev"), (PLAC, "plac")):
        lam = ctx.pop[:, None] * P.CASE_RATE[name] * mults[ty][None, :] / 12
        counts = systematic_counts(rng, lam).ravel()
        parts.append(
            (
                np.repeat(np.repeat(np.arange(ctx.scale), len(months)), counts),
                np.repeat(np.tile(months, ctx.scale), counts),
                np.full(counts.sum(), ty),
            )
        )
    muni, month, ctype = (np.concatenate([p[i] for p in parts]) for i in range(3))
    opened = month_start(month) + np.floor(rng.random(len(muni)) * days_in_month(month)).astype(np.int64)
    order = np.lexsort((ctype, muni, opened))
    return {"muni": muni[order], "ctype": ctype[order], "opened": opened[order]}


def _simulate_cases(ctx: _Ctx) -> tuple[Arrays, Arrays]:
    """Cases (all since WARMUP_START) and their intervention segments."""
    rng = ctx.rng(1)
    c = _case_arrivals(ctx, rng)
    n = len(c["muni"])
    ctype, opened = c["ctype"], c["opened"]
    age_p = {
        INV: np.ones(18),
        PREV: np.r_[np.full(6, 0.8), np.full(8, 1.2), np.full(4, 0.9)],
        PLAC: np.r_[np.full(12, 0.8), np.full(6, 1.5)],
    }
    age = np.zeros(n, dtype=np.int64)
    handicap = np.zeros(n, dtype=bool)
    for ty, name in ((INV, "inv"), (PREV, "prev"), (PLAC, "plac")):
        sel = ctype == ty
        k = int(sel.sum())
        age[sel] = choice(rng, age_p[ty], k, weyl(rng, k, GOLDEN / 2) if ty == PLAC else None)
        handicap[sel] = rng.random(k) < P.HANDICAP_SHARE[name]
    birth_year = year_of(opened) - age
    inv_late = rng.random(n) < P.INV_LATE_SHARE
    # a 4-month deadline is 120-123 days; late investigations take at least 124
    inv_done = opened + np.where(inv_late, uniform_int(rng, 124, 220, n), uniform_int(rng, 20, 118, n))
    closed = np.full(n, NO_DATE, dtype=np.int64)
    segs = _Segments()

    kind_w = np.array([k.weight for k in P.KINDS])
    kind_wh = np.array([k.weight_handicap for k in P.KINDS])
    median_m = np.array([k.median_months for k in P.KINDS])

    def preventive_kinds(hc: Bools) -> I64:
        out = choice(rng, kind_w, len(hc))
        out[hc] = choice(rng, kind_wh, int(hc.sum()))
        return out

    def preventive_days(kind: I64) -> I64:
        months = np.exp(np.log(median_m[kind]) + 0.6 * rng.standard_normal(len(kind)))
        return np.maximum(np.round(months * 30.44), 30).astype(np.int64)

    # investigation only; some with an external assessment (category "andet")
    idx = np.flatnonzero(ctype == INV)
    closed[idx] = inv_done[idx] + uniform_int(rng, 0, 30, len(idx))
    ext = idx[rng.random(len(idx)) < 0.08]
    x_dec = opened[ext] + uniform_int(rng, 5, 30, len(ext))
    x_start = x_dec + uniform_int(rng, 0, 14, len(ext))
    x_end = x_start + uniform_int(rng, 30, 90, len(ext))
    segs.add(ext, np.full(len(ext), P.KIND_INDEX["udredning"]), x_dec, x_start, x_end, x_dec)
    closed[ext] = np.maximum(closed[ext], x_end + uniform_int(rng, 0, 20, len(ext)))

    # preventive cases: one to three measures, the first decided when the investigation ends
    idx = np.flatnonzero(ctype == PREV)
    early = rng.random(len(idx)) < 0.1
    ep_dec = np.where(
        early,
        opened[idx] + uniform_int(rng, 5, 40, len(idx)),
        inv_done[idx] + uniform_int(rng, 0, 14, len(idx)),
    )
    n_meas = choice(rng, [0.55, 0.3, 0.15], len(idx)) + 1
    m_case = np.repeat(idx, n_meas)
    first = np.r_[True, m_case[1:] != m_case[:-1]]
    m_dec = np.repeat(ep_dec, n_meas) + np.where(first, 0, uniform_int(rng, 0, 270, len(m_case)))
    m_kind = preventive_kinds(handicap[m_case])
    m_start = m_dec + uniform_int(rng, 0, 21, len(m_case))
    m_end = m_start + preventive_days(m_kind) - 1
    planned = rng.random(len(m_case)) < P.PLANNED_END_SHARE["forebyggende"]
    segs.add(m_case, m_kind, m_dec, m_start, m_end, np.where(planned, m_dec, m_end))
    last_end = np.zeros(n, dtype=np.int64)
    np.maximum.at(last_end, m_case, m_end)
    closed[idx] = last_end[idx] + uniform_int(rng, 7, 75, len(idx))

    # placements: urgent, after preventive support, or after the investigation
    idx = np.flatnonzero(ctype == PLAC)
    k = len(idx)
    urgent = rng.random(k) < P.URGENT_PLACEMENT_SHARE
    pre = ~urgent & (rng.random(k) < P.PRE_PLACEMENT_SUPPORT_SHARE)
    pre_dec = inv_done[idx] + uniform_int(rng, 0, 14, k)
    pre_start = pre_dec + uniform_int(rng, 0, 14, k)
    pre_end = pre_start + uniform_int(rng, 60, 240, k)
    p_dec = np.where(
        urgent,
        opened[idx] + uniform_int(rng, 0, 2, k),
        np.where(
            pre,
            np.maximum(pre_end - uniform_int(rng, 5, 30, k), pre_start),
            inv_done[idx] + uniform_int(rng, 0, 30, k),
        ),
    )
    p_start = np.where(
        urgent,
        p_dec + uniform_int(rng, 0, 1, k),
        np.where(pre, pre_end + 1, p_dec + uniform_int(rng, 3, 30, k)),
    )
    segs.add(
        idx[pre],
        preventive_kinds(handicap[idx[pre]]),
        pre_dec[pre],
        pre_start[pre],
        pre_end[pre],
        pre_dec[pre],
    )
    months = np.exp(
        np.log(P.PLACEMENT_MEDIAN_MONTHS) + P.PLACEMENT_SIGMA * normal_quantile(weyl(rng, k, SQRT2))
    )
    birthday18 = year_start(birth_year[idx] + 18) + uniform_int(rng, 0, 364, k)
    aftercare = np.where(rng.random(k) < 0.25, uniform_int(rng, 180, 730, k), 0)  # kept on past 18
    p_end = np.minimum(
        p_start + np.round(np.clip(months, 2, 180) * 30.44).astype(np.int64), birthday18 + aftercare
    )
    p_end = np.where(p_end < p_start + 30, p_start + 30 + uniform_int(rng, 0, 60, k), p_end)
    mix_years = np.array(sorted(P.PLACEMENT_MIX))
    mix = np.array([P.PLACEMENT_MIX[y] for y in mix_years])[np.searchsorted(mix_years, year_of(p_start))]
    teen = age[idx] >= 14
    mix[~teen, 4] = 0.0  # secure units only take teenagers, and take more of them
    mix[teen, 4] *= 2.0
    placement_kinds = np.array([P.KIND_INDEX[x] for x in P.PLACEMENT_KINDS])
    p_kind = placement_kinds[choice_rows(rng, mix, weyl(rng, k, GOLDEN))]
    planned = rng.random(k) < P.PLANNED_END_SHARE["anbringelse"]
    segs.add(idx, p_kind, p_dec, p_start, p_end, np.where(planned, p_dec, p_end))
    after = rng.random(k) < P.AFTERCARE_SHARE  # a contact person when the child moves home
    a_dec = np.maximum(p_end[after] - uniform_int(rng, 0, 30, int(after.sum())), p_start[after])
    a_start = p_end[after] + 1
    a_end = a_start + uniform_int(rng, 90, 365, len(a_start))
    segs.add(idx[after], np.full(len(a_start), P.KIND_INDEX["kontaktperson"]), a_dec, a_start, a_end, a_dec)
    final_end = p_end.copy()
    final_end[after] = a_end
    closed[idx] = final_end + uniform_int(rng, 14, 90, k)

    c.update(closed=closed, birth_year=birth_year, inv_done=inv_done, handicap=handicap)
    _repeat_children(ctx, c, rng)
    keys = [t.key for t in ctx.preset.teams]
    age = year_of(opened) - c["birth_year"]
    if ctx.size == "full":
        team = np.where(
            ctype == INV,
            keys.index("modt"),
            np.where(
                c["handicap"],
                keys.index("handicap"),
                np.where(age >= 14, keys.index("unge"), keys.index("b013")),
            ),
        )
    else:
        team = np.where(ctype == INV, keys.index("modt"), keys.index("famr"))
    c["team"] = team
    c["unit"] = c["muni"] * ctx.T + team
    return c, _finish_segments(segs.arrays(), rng)


def _repeat_children(ctx: _Ctx, c: Arrays, rng: np.random.Generator) -> None:
    """Some new cases are about a child whose earlier case closed at least 30 days before."""
    n = len(c["muni"])
    muni, opened, closed = c["muni"], c["opened"], c["closed"]
    child = np.arange(n, dtype=np.int64)
    cand = (c["ctype"] != PLAC) & (rng.random(n) < P.REPEAT_CHILD_SHARE)
    big = np.int64(1) << 40
    close_key = muni * big + closed
    by_close = np.argsort(close_key, kind="stable")
    sorted_key = close_key[by_close]
    lo = np.searchsorted(sorted_key, muni * big, side="left")
    hi = np.searchsorted(sorted_key, muni * big + opened - 30, side="left")
    pick = by_close[np.minimum(lo + np.floor(rng.random(n) * np.maximum(hi - lo, 1)).astype(np.int64), n - 1)]
    ok = cand & (hi > lo) & (year_of(opened) - c["birth_year"][pick] <= 17)
    ok &= ~cand[pick]  # one step only, so a child's cases never overlap
    idx = np.flatnonzero(ok)
    _, first_use = np.unique(pick[idx], return_index=True)
    idx = idx[np.sort(first_use)]
    child[idx] = pick[idx]
    for col in ("birth_year", "handicap"):
        c[col][idx] = c[col][pick[idx]]
    c["child"] = child


def _finish_segments(seg: Arrays, rng: np.random.Generator) -> Arrays:
    """Prices, changes of placement, price changes and the renegotiation of institution contracts."""
    kind_cat = np.array([k.category for k in P.KINDS])
    seg["cost"] = _monthly_cost(rng, seg["kind"])
    n = len(seg["kind"])
    placement_kinds = np.array([P.KIND_INDEX[x] for x in P.PLACEMENT_KINDS])
    local = np.full(n, -1)
    for i, kind in enumerate(placement_kinds):
        local[seg["kind"] == kind] = i
    length = seg["end"] - seg["start"]
    sikret = seg["kind"] == P.KIND_INDEX["sikret"]
    # secure stays are short and continue elsewhere; other placements sometimes change kind
    change = (local >= 0) & ~sikret & (length > 365) & (rng.random(n) < P.KIND_CHANGE_SHARE)
    change |= sikret & (length > 150)
    at = np.where(
        sikret,
        seg["start"] + uniform_int(rng, 30, 120, n),
        seg["start"] + np.round(length * rng.uniform(0.2, 0.7, n)).astype(np.int64),
    )
    to = placement_kinds[choice_rows(rng, np.array(P.PLACEMENT_TRANSITION)[np.maximum(local, 0)])]
    seg = _split(seg, change, at, to, np.zeros(n), rng)
    fresh = seg["cost"] == 0
    seg["cost"][fresh] = _monthly_cost(rng, seg["kind"][fresh])

    n = len(seg["kind"])
    length = seg["end"] - seg["start"]
    cat = kind_cat[seg["kind"]]
    share = np.select(
        [cat == "anbringelse", cat == "forebyggende"],
        [P.PRICE_CHANGE_SHARE["anbringelse"], P.PRICE_CHANGE_SHARE["forebyggende"]],
        0.0,
    )
    change = (length > 120) & (rng.random(n) < share)
    at = seg["start"] + np.round(length * rng.uniform(0.25, 0.75, n)).astype(np.int64)
    seg = _split(seg, change, at, seg["kind"], np.round(seg["cost"] * rng.uniform(0.9, 1.12, n)), rng)

    n = len(seg["kind"])
    reneg, lo, hi = day(P.RENEGOTIATION[0]), P.RENEGOTIATION[1], P.RENEGOTIATION[2]
    inst = np.isin(seg["kind"], [P.KIND_INDEX["opholdssted"], P.KIND_INDEX["doegninstitution"]])
    change = inst & (seg["start"] < reneg - 30) & (seg["end"] >= reneg)
    return _split(
        seg, change, np.full(n, reneg - 1), seg["kind"], np.round(seg["cost"] * rng.uniform(lo, hi, n)), rng
    )


def _trim(ctx: _Ctx, c: Arrays, seg: Arrays) -> tuple[Arrays, Arrays, Arrays]:
    """Keep the cases and segments that reach into the extracts' history; episodes for follow-ups."""
    n = len(c["muni"])
    first_dec = np.full(n, NO_DATE, dtype=np.int64)
    np.minimum.at(first_dec, seg["case"], seg["decided"])
    ep = (
        pl.DataFrame({"ep": seg["episode"], "case": seg["case"], "start": seg["start"], "end": seg["end"]})
        .group_by("ep")
        .agg(pl.col("case").first(), pl.col("start").min(), pl.col("end").max())
        .sort("ep")
    )
    keep = c["closed"] >= ctx.H0
    new_idx = np.cumsum(keep) - 1
    ep_case = ep["case"].to_numpy()
    ep_keep = keep[ep_case]
    episodes = {
        "case": new_idx[ep_case[ep_keep]],
        "start": ep["start"].to_numpy()[ep_keep],
        "end": ep["end"].to_numpy()[ep_keep],
    }
    keep_seg = keep[seg["case"]] & (seg["end"] >= ctx.H0) & (seg["decided"] <= ctx.H)
    seg = {k: v[keep_seg] for k, v in seg.items()}
    seg["case"] = new_idx[seg["case"]]
    c = {k: v[keep] for k, v in c.items()}
    c["first_dec"] = first_dec[keep]
    c["child"] = np.unique(c["child"], return_inverse=True)[1]  # compact child numbers
    order = np.lexsort((seg["kind"], seg["case"], seg["start"]))
    return c, {k: v[order] for k, v in seg.items()}, episodes


# --- staff -----------------------------------------------------------------------------------------------


def _staff(ctx: _Ctx, org: _Org, c: Arrays) -> tuple[pl.DataFrame, pl.DataFrame, Arrays]:
    """Positions sized to the case volume, and the chain of people holding each of them."""
    rng = ctx.rng(2)
    T, scale = ctx.T, ctx.scale
    month_now = month_index(np.array([ctx.H]))[0]
    sample = month_start(np.arange(month_now - 23, month_now))
    active = np.zeros(scale * T)
    for d in sample:
        live = (c["opened"] <= d) & (d < c["closed"])
        active += np.bincount(c["unit"][live], minlength=scale * T)
    active /= len(sample)
    unit, role, afd, muni = [], [], [], []  # afd: sits in the afdeling, not in a team

    def add(u: int, r: str, m: int, k: int = 1, in_afd: bool = False) -> None:
        unit.extend([u] * k)
        role.extend([r] * k)
        afd.extend([in_afd] * k)
        muni.extend([m] * k)

    for m in range(scale):
        add(m, "leder", m, in_afd=True)
        for ti, t in enumerate(ctx.preset.teams):
            add(m * T + ti, "teamleder", m)
            if t.has_cases:
                add(
                    m * T + ti,
                    "raadgiver",
                    m,
                    max(1, round(active[m * T + ti] / (ctx.preset.caseload * 0.96))),
                )
        admin = ctx.preset.admin_team
        if admin is None:
            add(m, "administration", m, ctx.preset.n_admin, in_afd=True)
        else:
            add(m * T + ctx.team_index(admin), "administration", m, ctx.preset.n_admin)
    pos = {"unit": np.array(unit), "role": np.array(role), "afd": np.array(afd), "muni": np.array(muni)}
    n_pos = len(unit)

    K = 12  # enough successive holders per position for any horizon
    mean = np.array([P.MEAN_TENURE_YEARS[r] for r in role]) * 365.25
    tenure = np.round(rng.exponential(1.0, (n_pos, K)) * mean[:, None]).astype(np.int64)
    tenure[:, 1:] = np.maximum(tenure[:, 1:], 60)
    gaps = uniform_int(rng, 10, 80, n_pos * K).reshape(n_pos, K)  # vacancy before the next hire
    h_from = np.zeros((n_pos, K), dtype=np.int64)
    h_to = np.zeros((n_pos, K), dtype=np.int64)
    h_from[:, 0] = ctx.H0 - uniform_int(rng, 30, 15 * 365, n_pos)
    h_to[:, 0] = ctx.H0 + tenure[:, 0]  # exponential tenure is memoryless: the rest from 2021 on
    for j in range(1, K):
        h_from[:, j] = h_to[:, j - 1] + 1 + gaps[:, j]
        h_to[:, j] = h_from[:, j] + tenure[:, j]
    valid = h_from <= ctx.H
    hp = np.repeat(np.arange(n_pos), valid.sum(axis=1))
    hf, ht = h_from[valid], h_to[valid]
    ht = np.where(ht > ctx.H + 3 * 365, NO_DATE, ht)
    order = np.lexsort((hp, hf))
    hp, hf, ht = hp[order], hf[order], ht[order]
    n = len(hp)
    e_role = pos["role"][hp]
    in_afd = pos["afd"][hp]
    unit_ids = pl.select(
        pl.when(pl.Series(in_afd))
        .then(org.afd_units.gather(pos["muni"][hp]))
        .otherwise(org.team_units.gather(np.where(in_afd, 0, pos["unit"][hp])))
    ).to_series()
    part_time = np.array([0.81, 0.865, 0.9, 0.95])[uniform_int(rng, 0, 3, n)]  # 30, 32, 33.3, 35 hours
    fte = np.where(
        e_role == "raadgiver",
        np.where(rng.random(n) < 0.78, 1.0, part_time),
        np.where((e_role == "administration") & (rng.random(n) < 0.2), 0.8, 1.0),
    )
    names = person_names(rng, n, 0.8)
    emp_ids = _ids("M", n, 5)
    employees = pl.DataFrame(
        {
            "employee_id": emp_ids,
            "name": names,
            "email": emails(pl.Series(names), pl.Series([org.domains[m] for m in pos["muni"][hp]])),
            "unit_id": unit_ids,
            "role": pl.Series(e_role.tolist(), dtype=pl.String),
            "fte": fte,
            "employed_from": _date_col("employed_from", hf),
            "employed_to": _date_col("employed_to", ht),
        }
    )
    holders = pl.DataFrame({"position_id": hp, "employee_id": emp_ids, "from_day": hf, "to_day": ht})
    staff = {
        "from": hf,
        "to": ht,
        "unit": pos["unit"][hp],
        "afd": in_afd,
        "pos_role": pos["role"],
        "pos_unit": pos["unit"],
    }
    return employees, holders, staff


def _assign_cases(ctx: _Ctx, c: Arrays, staff: Arrays) -> tuple[I64, I64]:
    """Each case goes to a caseworker position of its team, round-robin in order of opening."""
    rng = ctx.rng(9)
    n_units = ctx.scale * ctx.T
    cw_pos = np.flatnonzero(staff["pos_role"] == "raadgiver")  # grouped by unit, units ascending
    cw_unit = staff["pos_unit"][cw_pos]
    first = np.searchsorted(cw_unit, np.arange(n_units), side="left")
    count = np.bincount(cw_unit, minlength=n_units)
    n = len(c["unit"])
    order = np.lexsort((np.arange(n), c["opened"], c["unit"]))
    sorted_unit = c["unit"][order]
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - np.searchsorted(sorted_unit, sorted_unit, side="left")
    offset = rng.integers(0, 1000, n_units)[c["unit"]]
    cnt = count[c["unit"]]
    slot = first[c["unit"]] + (rank + offset) % np.maximum(cnt, 1)
    position = np.where(cnt > 0, cw_pos[np.minimum(slot, len(cw_pos) - 1)], -1)
    # new cases in Modtagelsen wait a few days for a caseworker
    lag = np.where(c["team"] == ctx.team_index("modt"), uniform_int(rng, 0, 8, n), 0)
    return position, lag


# --- notifications -----------------------------------------------------------------------------------


def _notifications(ctx: _Ctx, org: _Org, c: Arrays, case_ids: pl.Series) -> tuple[pl.DataFrame, I64]:
    rng = ctx.rng(3)
    n = len(c["unit"])
    T, H0, H = ctx.T, ctx.H0, ctx.H
    intake_unit = np.arange(ctx.scale) * T + ctx.team_index("modt")
    # before a case opens: the notifications that led to it
    p = np.array([0.92, 0.75, 0.85])[c["ctype"]] * np.where(c["handicap"], 0.25, 1.0)
    k = np.where(rng.random(n) < p, 1 + rng.poisson(0.9, n), 0)
    a_case = np.repeat(np.arange(n), k)
    a_day = c["opened"][a_case] - uniform_int(rng, 0, 45, len(a_case))
    a_unit = intake_unit[c["muni"][a_case]]
    # while a case is open: new concerns about the same child, to the case's team
    rate = np.where(c["ctype"] == PLAC, 0.5, 0.35)
    lo = np.maximum(c["opened"] + 30, H0)
    span = np.maximum(np.minimum(c["closed"], H) - lo, 0)
    b_case = np.repeat(np.arange(n), rng.poisson(rate * span / 365.25))
    b_day = lo[b_case] + np.floor(rng.random(len(b_case)) * span[b_case]).astype(np.int64)
    b_unit = c["unit"][b_case]
    # children who never get a case: one or more notifications over a few months
    months = _month_range(H0 - 90, H)
    counts = systematic_counts(
        rng, ctx.pop[:, None] * P.NOTIFIED_ONLY_RATE / 12 * np.ones(len(months))[None, :]
    )
    o_muni = np.repeat(np.repeat(np.arange(ctx.scale), len(months)), counts.ravel())
    o_month = np.repeat(np.tile(months, ctx.scale), counts.ravel())
    n_only = len(o_muni)
    o_first = month_start(o_month) + np.floor(rng.random(n_only) * days_in_month(o_month)).astype(np.int64)
    o_idx = np.repeat(np.arange(n_only), rng.geometric(0.4, n_only))
    is_first = np.r_[True, o_idx[1:] != o_idx[:-1]]
    o_day = o_first[o_idx] + np.where(is_first, 0, uniform_int(rng, 1, 150, len(o_idx)))
    n_case_children = int(c["child"].max()) + 1 if n else 0

    nday = np.concatenate([a_day, b_day, o_day])
    ncase = np.concatenate([a_case, b_case, np.full(len(o_idx), -1)])
    nchild = np.concatenate([c["child"][a_case], c["child"][b_case], n_case_children + o_idx])
    nunit = np.concatenate([a_unit, b_unit, intake_unit[o_muni[o_idx]]])
    nn = len(nday)
    src = choice(rng, P.NOTIFICATION_SOURCE_P, nn)
    office = ~np.isin(src, [P.NOTIFICATION_SOURCES.index(s) for s in ("politi", "anonym", "andet")])
    nday = np.where(office & (weekday(nday) >= 5) & (rng.random(nn) < 0.85), next_weekday(nday), nday)
    police = src == P.NOTIFICATION_SOURCES.index("politi")
    secs = np.where(
        police,
        uniform_int(rng, 0, 86_399, nn),
        np.where(
            rng.random(nn) < 0.88,
            uniform_int(rng, 7 * 3600 + 1800, 16 * 3600, nn),
            uniform_int(rng, 16 * 3600, 23 * 3600, nn),
        ),
    )
    received = nday * US_PER_DAY + secs * 1_000_000
    # a new assessment routine (daily triage meeting) some months before the newest as_of: fewer
    # late ones, and ordinary assessments take ASSESSMENT_ROUTINE_FACTOR as long (no extra draws)
    after_routine = nday >= day(assessment_routine_from(to_date(ctx.reference)))
    late_share = np.where(
        after_routine, P.NOTIFICATION_LATE_SHARE * P.ASSESSMENT_ROUTINE_FACTOR, P.NOTIFICATION_LATE_SHARE
    )
    # the late ones are spread evenly over time, so that some are always waiting
    late = np.empty(nn, dtype=bool)
    order = np.argsort(received, kind="stable")
    late[order] = weyl(rng, nn, GOLDEN) < late_share[order]
    delay_h = np.where(
        late, rng.uniform(120, 240, nn), np.clip(np.exp(np.log(3) + rng.standard_normal(nn)), 0.1, 23.9)
    )
    delay_h = np.where(~late & after_routine, delay_h * P.ASSESSMENT_ROUTINE_FACTOR, delay_h)
    assessed = received + np.round(delay_h * 3600).astype(np.int64) * 1_000_000
    # assessments happen in office hours (08-16 on weekdays), except those the on-call team takes
    a_day, tod = np.divmod(assessed, US_PER_DAY)
    hour = 3600 * 1_000_000
    outside = (weekday(a_day) >= 5) | (tod < 8 * hour) | (tod >= 16 * hour)
    next_day = np.where((tod < 8 * hour) & (weekday(a_day) < 5), a_day, next_weekday(a_day + 1))
    morning = next_day * US_PER_DAY + uniform_int(rng, 8 * 3600, 10 * 3600, nn) * 1_000_000
    assessed = np.where(outside & (rng.random(nn) < 0.5), morning, assessed)
    # the newest extract always shows a few notifications still waiting for their assessment
    ref_end = (ctx.reference + 1) * US_PER_DAY
    before = np.flatnonzero(received < ref_end)
    newest = before[np.lexsort((received[before], nunit[before] // T))]
    muni_of = nunit[newest] // T
    last_two = newest[np.r_[muni_of[2:] != muni_of[:-2], True, True]] if len(newest) >= 2 else newest
    monday = next_weekday(np.array([ctx.reference + 1]))[0] * US_PER_DAY + 8 * hour
    assessed[last_two] = np.maximum(
        assessed[last_two], monday + uniform_int(rng, 0, 7200, len(last_two)) * 1_000_000
    )

    keep = np.flatnonzero((nday >= H0) & (nday <= H))
    sel = keep[np.lexsort((nchild[keep], received[keep]))]
    perm = rng.permutation(n_case_children + n_only) + 1_000_000  # pseudonyms that reveal nothing
    case_col = pl.Series(ncase[sel])
    return pl.DataFrame(
        {
            "notification_id": _ids("U", len(sel), 7),
            "child_id": _child_ids(perm[nchild[sel]]),
            "case_id": pl.select(pl.when(case_col >= 0).then(case_ids.gather(case_col.clip(0)))).to_series(),
            "unit_id": org.team_units.gather(nunit[sel]),
            "source": _labels(P.NOTIFICATION_SOURCES, src[sel]),
            "received_at": pl.Series(received[sel]).cast(TIMESTAMP),
            "assessed_at": pl.Series(assessed[sel]).cast(TIMESTAMP),
        }
    ), perm


def assessment_routine_from(reference: date) -> date:
    """The first day of the new assessment routine: the first of the month
    ASSESSMENT_ROUTINE_MONTHS before the newest as_of's month (so every extract of a series
    shows it inside its 365-day capability window)."""
    m = reference.year * 12 + reference.month - 1 - P.ASSESSMENT_ROUTINE_MONTHS
    return date(m // 12, m % 12 + 1, 1)


def _child_ids(numbers: I64) -> pl.Series:
    return pl.select(pl.concat_str(pl.lit("B"), pl.Series(numbers).cast(pl.String))).to_series()


# --- money -----------------------------------------------------------------------------------------------


def _payments(ctx: _Ctx, seg: Arrays, iv_ids: pl.Series) -> tuple[pl.DataFrame, Arrays]:
    """One posting per intervention and month covered, plus a few refunds and corrections."""
    rng = ctx.rng(4)
    lo = np.maximum(seg["start"], ctx.H0)
    hi = np.minimum(seg["end"], ctx.H)
    m0, m1 = month_index(lo), month_index(hi)
    nmon = np.where(hi >= lo, m1 - m0 + 1, 0)
    s = np.repeat(np.arange(len(lo)), nmon)
    month = m0[s] + (np.arange(len(s)) - np.repeat(np.cumsum(nmon) - nmon, nmon))
    first = month_start(month)
    dim = days_in_month(month)
    covered = np.minimum(seg["end"][s], first + dim - 1) - np.maximum(seg["start"][s], first) + 1
    amount = np.round(seg["cost"][s] * covered / dim, 2)
    kind = seg["kind"][s]
    n = len(s)
    institution = np.isin(kind, [P.KIND_INDEX[x] for x in ("opholdssted", "doegninstitution", "sikret")])
    family_care = np.isin(kind, [P.KIND_INDEX[x] for x in ("plejefamilie", "netvaerksplejefamilie")])
    # mostly paid in the first days of the month; some invoices are paid after the month
    arrears = rng.random(n) < np.where(institution, 0.3, np.where(family_care, 0.0, 0.12))
    posted = np.where(arrears, first + dim + uniform_int(rng, 2, 20, n), first + uniform_int(rng, 0, 5, n))
    posted = next_weekday(np.maximum(posted, seg["decided"][s] + 1))
    new_year = posted == year_start(year_of(posted))
    posted = next_weekday(posted + new_year)  # the finance office is closed on New Year's Day
    ci = np.flatnonzero(rng.random(n) < 0.004)
    share = np.where(rng.random(len(ci)) < 0.4, 1.0, rng.uniform(0.1, 0.6, len(ci)))
    p_seg = np.concatenate([s, s[ci]])
    p_month = np.concatenate([month, month[ci]])
    p_posted = np.concatenate([posted, next_weekday(posted[ci] + uniform_int(rng, 15, 120, len(ci)))])
    # Drawn last so the draws above stay as they were. Refunds keep their dates.
    advance = family_care & (rng.random(n) < P.ADVANCE_SHARE)
    ahead = month_start(month - 1) + uniform_int(rng, *P.ADVANCE_DAYS, n) - 1
    ahead = next_weekday(np.maximum(ahead, seg["decided"][s] + 1))
    p_posted[:n] = np.where(advance, np.minimum(ahead, posted), posted)
    p_amount = np.concatenate([amount, -np.round(amount[ci] * share, 2)])
    order = np.lexsort((p_month, p_seg, p_posted))
    payments = pl.DataFrame(
        {
            "payment_id": _ids("P", len(order), 8),
            "intervention_id": iv_ids.gather(p_seg[order]),
            "period": _date_col("period", month_start(p_month[order])),
            "posted_on": _date_col("posted_on", p_posted[order]),
            "amount": p_amount[order],
        }
    )
    return payments, {"seg": p_seg, "month": p_month, "posted": p_posted, "amount": p_amount}


def _expected_at(ref: int, seg: Arrays, pay: Arrays) -> F64:
    """kpis.md 'expected' for ref's year as known on day ref, per segment."""
    year = int(year_of(np.array([ref]))[0])
    in_year = (year_of(month_start(pay["month"])) == year) & (pay["posted"] <= ref)
    expected = np.bincount(
        pay["seg"][in_year], weights=pay["amount"][in_year], minlength=len(seg["case"])
    ).astype(np.float64)
    visible = seg["decided"] <= ref
    end = np.where(seg["known"] <= ref, seg["end"], NO_DATE)
    december = int(month_index(np.array([day(date(year, 12, 1))]))[0])
    known = pay["posted"] <= ref
    for m in range(int(month_index(np.array([ref]))[0]) + 1, december + 1):
        first = int(month_start(np.array([m]))[0])
        dim = int(days_in_month(np.array([m]))[0])
        cov = np.minimum(end, first + dim - 1) - np.maximum(seg["start"], first) + 1
        ahead = known & (pay["month"] == m)
        prepaid = np.bincount(pay["seg"][ahead], weights=pay["amount"][ahead], minlength=len(seg["case"]))
        month = np.clip(seg["cost"] * np.clip(cov, 0, None) / dim - np.clip(prepaid, 0, None), 0, None)
        expected += np.where(visible, month, 0.0)
    return expected


def _budgets(ctx: _Ctx, org: _Org, c: Arrays, seg: Arrays, pay: Arrays) -> pl.DataFrame:
    """Per team, account and year: spend ÷ the year's overrun; the current year matches its forecast."""
    rng = ctx.rng(5)
    years = np.arange(P.HISTORY_START.year, ctx.horizon_year + 1)
    seg_unit = c["unit"][seg["case"]]
    seg_kind = seg["kind"]
    past = pl.DataFrame(
        {
            "year": year_of(month_start(pay["month"])),
            "unit": seg_unit[pay["seg"]],
            "kind": seg_kind[pay["seg"]],
            "amount": pay["amount"],
        }
    ).filter(pl.col("year") < ctx.horizon_year)
    # The current year's budget is what the forecast says over the last three months before the
    # reference day (within its year), so that every extract of a default series is near balance.
    refs = [
        r
        for r in range(ctx.reference, ctx.reference - 85, -28)
        if int(year_of(np.array([r]))[0]) == ctx.horizon_year
    ]
    expected = np.mean([_expected_at(r, seg, pay) for r in refs], axis=0)
    now = pl.DataFrame(
        {
            "year": np.full(len(expected), ctx.horizon_year),
            "unit": seg_unit,
            "kind": seg_kind,
            "amount": expected,
        }
    )
    accounts = {i: k.account for i, k in enumerate(P.KINDS)}
    basis = (
        pl.concat([past, now])
        .group_by("year", "unit", "kind")
        .agg(pl.col("amount").sum())
        .with_columns(account=pl.col("kind").replace_strict(accounts, return_dtype=pl.String))
        .group_by("year", "unit", "account")
        .agg(pl.col("amount").sum())
        .filter(pl.col("amount") > 0)
        .sort("year", "unit", "account")
    )
    ratio = np.array([1.0 if y == ctx.horizon_year else P.OVERRUN.get(int(y), 1.0) for y in years])
    jitter = np.where(years == ctx.horizon_year, 0.004, 0.01)
    muni_ratio = (ratio[None, :] + rng.uniform(-1, 1, (ctx.scale, len(years))) * jitter[None, :]).ravel()
    unit = basis["unit"].to_numpy()
    yr = basis["year"].to_numpy()
    amount = basis["amount"].to_numpy()
    raw = amount * np.exp(0.05 * rng.standard_normal(len(amount)))  # teams over and under
    grp = (unit // ctx.T) * len(years) + (yr - years[0])
    total = np.bincount(grp, weights=amount, minlength=len(muni_ratio))
    total_raw = np.bincount(grp, weights=raw, minlength=len(muni_ratio))
    target = total / muni_ratio
    budget = np.round(raw * target[grp] / np.where(total_raw[grp] > 0, total_raw[grp], 1) / 1000) * 1000
    return pl.DataFrame(
        {
            "year": yr.astype(np.int64),
            "unit_id": org.team_units.gather(unit),
            "account": basis["account"],
            "amount": budget.astype(np.float64),
        }
    )


# --- deadlines, absences, surveys ----------------------------------------------------------------------


def _deadlines(ctx: _Ctx, c: Arrays, episodes: Arrays, case_ids: pl.Series) -> pl.DataFrame:
    rng = ctx.rng(6)
    n = len(c["opened"])

    def done_dates(started: I64, due: I64) -> I64:
        m = len(due)
        u = rng.random(m)
        done = np.where(
            u < P.DEADLINE_LATE_SHARE, due + uniform_int(rng, 1, 75, m), due - uniform_int(rng, 0, 25, m)
        )
        done = np.maximum(done, started)
        return np.where(u > 1 - P.DEADLINE_NEVER_SHARE, NO_DATE, done)

    # undersøgelse: 4 months from opening
    cases_, kinds_, starts, dues, dones = (
        [np.arange(n)],
        [np.zeros(n, np.int64)],
        [c["opened"]],
        [add_months(c["opened"], 4)],
        [c["inv_done"]],
    )
    # handleplan, on some of the cases with measures
    hp = np.flatnonzero(
        (c["ctype"] != INV) & (c["first_dec"] < NO_DATE) & (rng.random(n) < P.HANDLEPLAN_SHARE)
    )
    hp_start = c["first_dec"][hp]
    cases_.append(hp)
    kinds_.append(np.ones(len(hp), np.int64))
    starts.append(hp_start)
    dues.append(hp_start + 30)
    dones.append(done_dates(hp_start, hp_start + 30))
    # opfølgning 3 months after a measure starts, then every 6 months while it lasts
    start, lim = episodes["start"], np.minimum(episodes["end"], ctx.H + 183)
    kmax = np.maximum((month_index(lim) - month_index(start) - 3) // 6 + 2, 0)
    ep = np.repeat(np.arange(len(start)), kmax)
    k = np.arange(len(ep)) - np.repeat(np.cumsum(kmax) - kmax, kmax)
    due = add_months(start[ep], 3 + 6 * k)
    started = np.where(k == 0, start[ep], add_months(start[ep], 3 + 6 * (k - 1)))
    ok = due <= lim[ep]
    ep, due, started = ep[ok], due[ok], started[ok]
    cases_.append(episodes["case"][ep])
    kinds_.append(np.full(len(ep), 2, np.int64))
    starts.append(started)
    dues.append(due)
    dones.append(done_dates(started, due))
    dc, dk, ds, dd, dn = (np.concatenate(x) for x in (cases_, kinds_, starts, dues, dones))
    keep = np.flatnonzero(dd >= ctx.H0)
    sel = keep[np.lexsort((dk[keep], dc[keep], ds[keep]))]
    return pl.DataFrame(
        {
            "deadline_id": _ids("F", len(sel), 7),
            "case_id": case_ids.gather(dc[sel]),
            "kind": _labels(DEADLINE_KINDS, dk[sel]),
            "started_on": _date_col("started_on", ds[sel]),
            "due_on": _date_col("due_on", dd[sel]),
            "done_on": _date_col("done_on", dn[sel]),
        }
    )


def _absences(ctx: _Ctx, staff: Arrays, emp_ids: pl.Series) -> pl.DataFrame:
    rng = ctx.rng(7)
    lo = np.maximum(staff["from"], ctx.H0)
    hi = np.minimum(staff["to"], ctx.H)
    length = np.maximum(hi - lo + 1, 0)
    frailty = rng.gamma(3.0, 1 / 3, len(lo))  # some people are ill more often than others
    parts = []
    for i, (_, rate, min_d, max_d) in enumerate(P.ABSENCE_SPELLS):
        e = np.repeat(np.arange(len(lo)), rng.poisson(rate * frailty * length / 365.25))
        start = next_weekday(lo[e] + np.floor(rng.random(len(e)) * length[e]).astype(np.int64))
        end = np.minimum(start + uniform_int(rng, min_d, max_d, len(e)) - 1, hi[e])
        ok = start <= hi[e]
        parts.append((e[ok], np.full(int(ok.sum()), i), start[ok], end[ok]))
    e, k, s, t = (np.concatenate([p[j] for p in parts]) for j in range(4))
    order = np.lexsort((k, s, e))
    return pl.DataFrame(
        {
            "employee_id": emp_ids.gather(e[order]),
            "kind": _labels([sp[0] for sp in P.ABSENCE_SPELLS], k[order]),
            "start_on": _date_col("start_on", s[order]),
            "end_on": _date_col("end_on", t[order]),
        }
    )


def _measurements(ctx: _Ctx, org: _Org, staff: Arrays) -> pl.DataFrame:
    """Yearly satisfaction surveys per team; staff satisfaction dips in the overrun years."""
    rng = ctx.rng(8)
    units = np.arange(ctx.scale * ctx.T)
    has_cases = np.array([t.has_cases for t in ctx.preset.teams])[units % ctx.T]
    frames = []
    for y in range(P.HISTORY_START.year, ctx.horizon_year + 1):
        period_end = date(y, *P.SURVEY_MONTH_DAY)
        pe = day(period_end)
        employed = (staff["from"] <= pe) & (pe <= staff["to"]) & ~staff["afd"]
        headcount = np.bincount(staff["unit"][employed], minlength=len(units))
        dip = -0.25 if y in (2022, 2023) else 0.0
        for kpi, sel, base, d in (
            ("medarbejdertilfredshed", units, 4.2, dip),
            ("brugertilfredshed", units[has_cases], 4.1, dip / 2),
        ):
            value = np.clip(base + d + 0.17 * rng.standard_normal(len(sel)), 3.6, 4.7)
            if kpi == "medarbejdertilfredshed":
                resp = np.maximum(headcount[sel], 1)
            else:
                resp = np.maximum(np.round(rng.uniform(15, 90, len(sel)) * ctx.preset.population**0.5), 3)
            frames.append(
                pl.DataFrame(
                    {
                        "kpi_id": kpi,
                        "unit_id": org.team_units.gather(sel),
                        "period_end": period_end,
                        "value": np.round(value, 2),
                        "respondents": resp.astype(np.int64),
                    }
                )
            )
    return pl.concat(frames).sort("kpi_id", "unit_id", "period_end")


# --- the whole world ---------------------------------------------------------------------------------------


def build_world(
    *, seed: int, scale: int, size: str, reference: date, progress: Progress | None = None
) -> World:
    """The world for one seed, scale and size, simulated to the end of reference's year.

    Only the current year's budgets depend on the reference day itself (they are set to the expected
    spend on that day); everything else depends on its year alone.
    """
    if size not in PRESETS:
        raise ValueError(f"size must be one of {sorted(PRESETS)}, not {size!r}")
    if scale < 1:
        raise ValueError("scale must be ≥ 1")
    if reference < P.HISTORY_START:
        raise ValueError(f"as_of must be on or after {P.HISTORY_START}")
    say = progress or (lambda f, t: None)
    preset = PRESETS[size]
    key = (scale, list(PRESETS).index(size), reference.year)
    pop_rng = rng_for(seed, key, 0)
    ctx = _Ctx(
        seed=seed,
        key=key,
        scale=scale,
        size=size,
        preset=preset,
        horizon_year=reference.year,
        H=day(date(reference.year, 12, 31)),
        H0=day(P.HISTORY_START),
        reference=day(reference),
        pop=preset.population * np.where(np.arange(scale) == 0, 1.0, pop_rng.uniform(0.85, 1.15, scale)),
    )
    org = _organisation(ctx)
    say(0.05, "Simulerer sager og indsatser")
    c, seg = _simulate_cases(ctx)
    c, seg, episodes = _trim(ctx, c, seg)
    n = len(c["opened"])
    order = np.lexsort((c["muni"], c["opened"]))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    case_ids = _ids("S", n, 7).gather(rank)  # numbered in order of opening

    say(0.25, "Simulerer medarbejdere")
    employees, holders, staff = _staff(ctx, org, c)
    position, lag = _assign_cases(ctx, c, staff)

    say(0.35, "Simulerer underretninger")
    notifications, perm = _notifications(ctx, org, c, case_ids)
    cases = pl.DataFrame(
        {
            "case_id": case_ids,
            "child_id": _child_ids(perm[c["child"]]),
            "unit_id": org.team_units.gather(c["unit"]),
            "birth_year": c["birth_year"],
            "opened_on": _date_col("opened_on", c["opened"]),
            "closed_on": _date_col("closed_on", c["closed"]),
            "position_id": position,
            "assign_lag": lag,
        }
    )

    say(0.45, "Simulerer indsatser og betalinger")
    rng = ctx.rng(10)
    ns = len(seg["case"])
    u = rng.random(ns)
    provider = np.full(ns, None, dtype=object)
    for i, k in enumerate(P.KINDS):
        if k.provider_group is None:
            continue
        options = np.array(PROVIDERS[k.provider_group], dtype=object)
        sel = (seg["kind"] == i) & ~((k.provider_group == "forebyggende") & (u < 0.2))
        provider[sel] = options[(u[sel] * 997).astype(np.int64) % len(options)]
    iv_ids = _ids("I", ns, 7)
    interventions = pl.DataFrame(
        {
            "intervention_id": iv_ids,
            "case_id": case_ids.gather(seg["case"]),
            "kind_id": _labels([k.kind_id for k in P.KINDS], seg["kind"]),
            "provider": pl.Series(provider.tolist(), dtype=pl.String),
            "decided_on": _date_col("decided_on", seg["decided"]),
            "start_on": _date_col("start_on", seg["start"]),
            "end_on": _date_col("end_on", np.where(seg["end"] > ctx.H + 5 * 365, NO_DATE, seg["end"])),
            "monthly_cost": seg["cost"].astype(np.float64),
            "end_known_on": _date_col("end_known_on", seg["known"]),
        }
    )
    payments, pay = _payments(ctx, seg, iv_ids)
    say(0.7, "Simulerer budgetter, frister, fravær og målinger")
    budgets = _budgets(ctx, org, c, seg, pay)
    deadlines = _deadlines(ctx, c, episodes, case_ids)
    absences = _absences(ctx, staff, employees["employee_id"])
    measurements = _measurements(ctx, org, staff)
    contacts = build_contacts(
        ctx.rng(11),
        org.team_units,
        ctx.T,
        ctx.pop,
        cases,
        employees,
        absences,
        P.HISTORY_START,
        date(reference.year, 12, 31),
    )
    say(1.0, "Verden er simuleret")
    return World(
        horizon=date(reference.year, 12, 31),
        municipality=org.municipality,
        org_units=org.units,
        intervention_kinds=_kinds_frame(),
        employees=employees,
        holders=holders,
        cases=cases,
        interventions=interventions,
        payments=payments,
        budgets=budgets,
        notifications=notifications,
        deadlines=deadlines,
        absences=absences,
        measurements=measurements,
        contacts=contacts,
    )
