"""Contacts ("henvendelser") of the demo world: why families and partners contact the
department (data-contract.md 1.1, optional table `contacts`; see data/README.md).

A family department of Gladsaxe's size registers a few thousand contacts a year. About a
third is failure demand, more in months when caseworkers leave or are off sick for longer
spells (families who have not heard from their caseworker call). Everything is drawn from
one random stream of its own, so adding this table leaves every other table unchanged.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import polars as pl

from data._random import choice

CONTACTS_PER_YEAR = 3_000.0  # per municipality of Gladsaxe's size
FAILURE_BASE = 0.27  # failure share in a month without leavers or long sick spells
FAILURE_PER_LEAVER = 0.035  # per caseworker who left this month or the month before
FAILURE_PER_LONG_SPELL = 0.02  # per caseworker off sick ≥ 5 days in the month
FAILURE_MAX = 0.65
SEASON = {7: 0.6, 12: 0.85}  # July holidays, December
CHANNELS = ("telefon", "mail", "digital_post", "personligt", "andet")
CHANNEL_P = (0.46, 0.18, 0.20, 0.11, 0.05)
LINKED_SHARE = 0.75  # contacts about a known case
RECENT_CASES = 40  # a linked contact is about one of the team's 40 most recently opened cases
VALUE_REASONS = (
    ("Ny oplysning i sagen", 0.34),
    ("Ønsker møde", 0.24),
    ("Søger om hjælp", 0.18),
    ("Spørger til bevilling", 0.14),
    ("Vil tale med rådgiver om barnet", 0.10),
)
FAILURE_REASONS = (
    ("Har ikke hørt fra rådgiver", 0.36),
    ("Rykker for svar på ansøgning", 0.18),
    ("Spørger til bevilling", 0.16),
    ("Klage over afgørelse", 0.12),
    ("Betaling er ikke kommet", 0.10),
    ("Har fået forkert brev", 0.08),
)


def _months(first: date, last: date) -> list[date]:
    out, m = [], date(first.year, first.month, 1)
    while m <= last:
        out.append(m)
        m = (m + timedelta(days=32)).replace(day=1)
    return out


def failure_share(
    muni_of_unit: dict[str, int], employees: pl.DataFrame, absences: pl.DataFrame
) -> pl.DataFrame:
    """muni, month, share: the failure share per municipality and month."""
    cw = employees.filter(pl.col("role") == "raadgiver").select(
        "employee_id",
        pl.col("unit_id").replace_strict(muni_of_unit, default=None).alias("muni"),
        "employed_to",
    )
    left = cw.filter(pl.col("employed_to").is_not_null()).select(
        "muni", pl.col("employed_to").dt.truncate("1mo").alias("month")
    )
    # a leaver weighs on this month and the next (cases wait for a new caseworker)
    leavers = (
        pl.concat([left, left.with_columns(pl.col("month").dt.offset_by("1mo"))])
        .group_by("muni", "month")
        .len("leavers")
    )
    long = (
        absences.filter(
            (pl.col("kind") == "egen_sygdom") & ((pl.col("end_on") - pl.col("start_on")).dt.total_days() >= 4)
        )
        .join(cw.select("employee_id", "muni"), on="employee_id", how="inner")
        .select("muni", pl.col("start_on").dt.truncate("1mo").alias("month"))
        .group_by("muni", "month")
        .len("long_spells")
    )
    return (
        leavers.join(long, on=["muni", "month"], how="full", coalesce=True)
        .fill_null(0)
        .select(
            "muni",
            "month",
            pl.min_horizontal(
                pl.lit(FAILURE_BASE)
                + FAILURE_PER_LEAVER * pl.col("leavers")
                + FAILURE_PER_LONG_SPELL * pl.col("long_spells"),
                pl.lit(FAILURE_MAX),
            ).alias("share"),
        )
    )


def build_contacts(
    rng: np.random.Generator,
    team_units: pl.Series,
    teams_per_muni: int,
    pop: np.ndarray,
    cases: pl.DataFrame,
    employees: pl.DataFrame,
    absences: pl.DataFrame,
    first: date,
    last: date,
) -> pl.DataFrame:
    """The contacts from `first` through `last` (true dates; a snapshot cuts them at as_of)."""
    units = team_units.to_list()
    muni_of_unit = {u: i // teams_per_muni for i, u in enumerate(units)}
    n_muni = len(pop)
    # contacts go to the teams in proportion to their cases (Modtagelsen gets its share too)
    per_unit = dict(cases.group_by("unit_id").len().iter_rows())
    weights = np.array([per_unit.get(u, 0) + 1.0 for u in units])
    shares = failure_share(muni_of_unit, employees, absences)
    share_of = {(m, mo): s for m, mo, s in shares.iter_rows()}
    months = _months(first, last)

    rows_unit: list[np.ndarray] = []
    rows_day: list[np.ndarray] = []
    rows_fail: list[np.ndarray] = []
    for mo in months:
        nxt = (mo + timedelta(days=32)).replace(day=1)
        n_days = (nxt - mo).days
        for m in range(n_muni):
            lam = pop[m] * CONTACTS_PER_YEAR / 12 * SEASON.get(mo.month, 1.0)
            k = int(rng.poisson(lam))
            if k == 0:
                continue
            idx = np.arange(m * teams_per_muni, (m + 1) * teams_per_muni)
            w = weights[idx] / weights[idx].sum()
            rows_unit.append(idx[choice(rng, w, k)])
            # weekdays: redraw a weekend day up to three times
            d = rng.integers(0, n_days, k)
            first_day = (mo - date(1970, 1, 1)).days
            for _ in range(3):
                weekend = ((first_day + d + 3) % 7 >= 5) & (rng.random(k) < 0.9)  # 1970-01-01 was a Thursday
                d = np.where(weekend, rng.integers(0, n_days, k), d)
            rows_day.append((np.datetime64(mo, "D") + d).astype("datetime64[D]"))
            rows_fail.append(rng.random(k) < share_of.get((m, mo), FAILURE_BASE))
    if not rows_unit:
        return pl.DataFrame(schema={"contact_id": pl.String})
    unit_idx = np.concatenate(rows_unit)
    days = np.concatenate(rows_day)
    fail = np.concatenate(rows_fail)
    n = len(unit_idx)
    channel = choice(rng, CHANNEL_P, n)
    written = np.isin(channel, [CHANNELS.index("mail"), CHANNELS.index("digital_post")])
    secs = np.where(written, rng.integers(0, 86_400, n), rng.integers(8 * 3600, 15 * 3600 + 1800, n))
    received = days.astype("datetime64[us]") + (secs * 1_000_000).astype("timedelta64[us]")
    v_names, v_p = zip(*VALUE_REASONS, strict=True)
    f_names, f_p = zip(*FAILURE_REASONS, strict=True)
    v_pick, f_pick = choice(rng, v_p, n), choice(rng, f_p, n)
    reason = np.where(fail, np.array(f_names, dtype=object)[f_pick], np.array(v_names, dtype=object)[v_pick])

    out = pl.DataFrame(
        {
            "unit_id": team_units.gather(unit_idx),
            "received_at": pl.Series(received).cast(pl.Datetime("us")),
            "channel": pl.Series([CHANNELS[c] for c in channel], dtype=pl.String),
            "demand_type": pl.Series(np.where(fail, "fejl", "vaerdi").tolist(), dtype=pl.String),
            "reason": pl.Series(reason.tolist(), dtype=pl.String),
            "_u": rng.random(n),
            "_linked": rng.random(n) < LINKED_SHARE,
        }
    ).sort("received_at", "unit_id", "_u")
    # a linked contact is about one of the unit's most recently opened cases (the last
    # RECENT_CASES opened on or before the day), unless that case closed over 60 days before
    unit_code = {u: i for i, u in enumerate(units)}
    cs = (
        cases.select(
            pl.col("unit_id").replace_strict(unit_code, default=None).cast(pl.Int64).alias("code"),
            (pl.col("opened_on") - date(1970, 1, 1)).dt.total_days().alias("opened"),
            (pl.col("closed_on").fill_null(date(2100, 12, 31)) - date(1970, 1, 1))
            .dt.total_days()
            .alias("closed"),
            "case_id",
        )
        .drop_nulls("code")
        .sort("code", "opened", "case_id")
    )
    keys = (cs["code"] * 100_000 + cs["opened"]).to_numpy()
    unit_first = np.searchsorted(keys, np.arange(len(units)) * 100_000, side="left")
    c_code = out["unit_id"].replace_strict(unit_code, default=None).cast(pl.Int64).to_numpy()
    c_day = (out["received_at"].dt.date() - date(1970, 1, 1)).dt.total_days().to_numpy()
    pos = np.searchsorted(keys, c_code * 100_000 + c_day, side="right")
    count = pos - unit_first[c_code]
    pick = pos - 1 - np.floor(out["_u"].to_numpy() * np.minimum(count, RECENT_CASES)).astype(np.int64)
    ok = out["_linked"].to_numpy() & (count > 0)
    pick = np.where(ok, pick, 0)
    ok &= cs["closed"].to_numpy()[pick] >= c_day - 60 if cs.height else ok
    case_col = cs["case_id"].gather(pick) if cs.height else pl.Series([None] * out.height, dtype=pl.String)
    out = out.with_columns(pl.when(pl.Series(ok)).then(case_col).otherwise(None).alias("case_id"))
    width = max(7, len(str(out.height)))
    return out.select(
        pl.format("H{}", pl.int_range(1, out.height + 1).cast(pl.String).str.zfill(width)).alias(
            "contact_id"
        ),
        "unit_id",
        "case_id",
        "received_at",
        "channel",
        "demand_type",
        "reason",
    )


def cut(contacts: pl.DataFrame, as_of: date, case_ids: pl.DataFrame) -> pl.DataFrame:
    """The contacts known on as_of: received before as_of + 1 day; case_id null when the case
    is not in the extract."""
    cutoff = datetime.combine(as_of + timedelta(days=1), datetime.min.time())
    return contacts.filter(pl.col("received_at") < cutoff).with_columns(
        pl.when(pl.col("case_id").is_in(case_ids["case_id"].implode()))
        .then(pl.col("case_id"))
        .otherwise(None)
        .alias("case_id")
    )
