"""A peer for the benchmark: the KPIs of kpis.md and the economy by account written directly in
DuckDB SQL over the extract's Parquet files, to time ours against and to check our values.

Not part of the app: `metrics` stays the single source of truth. Measurement KPIs take each
unit's own latest value in SQL; their roll-up over child units (a walk of the tree) is done in
Python on those rows.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb

TABLES = (
    "org_units",
    "cases",
    "interventions",
    "intervention_kinds",
    "payments",
    "budgets",
    "deadlines",
    "notifications",
    "employees",
    "absences",
    "measurements",
)


def connect(folder: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute("SET threads = 2")
    for t in TABLES:
        con.execute(f"CREATE TABLE {t} AS SELECT * FROM read_parquet('{folder / (t + '.parquet')}')")
    return con


def _year_earlier(d: date) -> date:
    return date(d.year - 1, 2, 28) if (d.month, d.day) == (2, 29) else d.replace(year=d.year - 1)


def _scope(con: duckdb.DuckDBPyConnection, unit: str) -> None:
    con.execute(
        """CREATE OR REPLACE TEMP TABLE sub AS
        WITH RECURSIVE s(unit_id) AS (
            SELECT ?::VARCHAR UNION ALL SELECT o.unit_id FROM org_units o JOIN s ON o.parent_id = s.unit_id
        ) SELECT unit_id FROM s""",
        [unit],
    )


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    return con.execute(sql).fetchone()


def _div(num: float | None, den: float | None, scale: float = 100.0) -> float | None:
    if num is None or not den:
        return None
    return num / den * scale


# weekdays in [lo, hi]: Monday 1970-01-05 as reference, 5 per full week plus the rest (max 5)
_WD = "(5 * (date_diff('day', DATE '1970-01-05', {x}) // 7) + least(date_diff('day', DATE '1970-01-05', {x}) % 7, 5))"


def _weekdays(lo: str, hi: str) -> str:
    return f"CASE WHEN {hi} >= {lo} THEN {_WD.format(x=f'({hi} + 1)')} - {_WD.format(x=lo)} ELSE 0 END"


def _udgift(con: duckdb.DuckDBPyConnection, a: date) -> float | None:
    amount, cases = _one(
        con,
        f"""SELECT sum(p.amount), count(DISTINCT i.case_id) FROM payments p
        JOIN interventions i USING (intervention_id) JOIN cases c USING (case_id)
        WHERE c.unit_id IN (SELECT unit_id FROM sub) AND p.posted_on <= DATE '{a}'
          AND year(p.period) = {a.year}""",
    )
    return _div(amount or 0.0, cases, 1.0)


def economy_by_account(
    con: duckdb.DuckDBPyConnection, unit: str, a: date, scoped: bool = True
) -> dict[str, dict]:
    """budget, actual, committed per account (kpis.md Economy) for unit's subtree at a."""
    if scoped:
        _scope(con, unit)
    y, m0 = a.year, a.month
    rows = con.execute(
        f"""
        WITH iv AS (
            SELECT i.*, k.account FROM interventions i JOIN cases c USING (case_id)
            JOIN intervention_kinds k USING (kind_id)
            WHERE c.unit_id IN (SELECT unit_id FROM sub)
        ),
        pay AS (
            SELECT p.*, iv.account FROM payments p JOIN iv USING (intervention_id)
            WHERE year(p.period) = {y} AND p.posted_on <= DATE '{a}'
        ),
        act AS (SELECT account, sum(amount) AS actual FROM pay GROUP BY account),
        months AS (
            SELECT m, make_date({y}, m, 1) AS ms, last_day(make_date({y}, m, 1)) AS me
            FROM range({m0 + 1}, 13) t(m)
        ),
        prepaid AS (
            SELECT intervention_id, period, greatest(0, sum(amount)) AS prepaid FROM pay
            WHERE period > DATE '{a}' GROUP BY intervention_id, period
        ),
        com AS (
            SELECT iv.account, sum(greatest(0,
                iv.monthly_cost * greatest(0, date_diff('day', greatest(iv.start_on, months.ms),
                    least(coalesce(iv.end_on, months.me), months.me)) + 1) / day(months.me)
                - coalesce(pp.prepaid, 0))) AS committed
            FROM iv CROSS JOIN months
            LEFT JOIN prepaid pp ON pp.intervention_id = iv.intervention_id AND pp.period = months.ms
            WHERE iv.decided_on <= DATE '{a}' AND iv.start_on <= DATE '{y}-12-31'
              AND (iv.end_on IS NULL OR iv.end_on >= DATE '{y}-01-01')
            GROUP BY iv.account
        ),
        bud AS (
            SELECT account, sum(amount) AS budget FROM budgets
            WHERE year = {y} AND unit_id IN (SELECT unit_id FROM sub) GROUP BY account
        ),
        keys AS (SELECT account FROM act UNION SELECT account FROM com UNION SELECT account FROM bud)
        SELECT keys.account, coalesce(bud.budget, 0), coalesce(act.actual, 0), coalesce(com.committed, 0)
        FROM keys LEFT JOIN act USING (account) LEFT JOIN com USING (account) LEFT JOIN bud USING (account)
        """
    ).fetchall()
    return {
        acc: {"budget": b, "actual": ac, "committed": c, "expected": ac + c, "deviation": b - ac - c}
        for acc, b, ac, c in rows
    }


def kpis(con: duckdb.DuckDBPyConnection, unit: str, a: date, children: dict[str, tuple[str, ...]]) -> dict:
    """Every KPI of kpis.md (and the measurement KPIs) for unit's subtree at a."""
    _scope(con, unit)
    y0, t = date(a.year, 1, 1), a + timedelta(days=1)
    sub = "(SELECT unit_id FROM sub)"
    out: dict[str, float | None] = {}
    econ = economy_by_account(con, unit, a, scoped=False)
    bud = sum(r["budget"] for r in econ.values())
    out["oekonomi_forventet_pct"] = _div(sum(r["expected"] for r in econ.values()), bud)
    now, before = _udgift(con, a), _udgift(con, _year_earlier(a))
    out["udgift_pr_sag"] = now
    out["udgift_pr_sag_aendring_pct"] = None if now is None or not before else (now / before - 1) * 100
    active = f"opened_on <= DATE '{a}' AND (closed_on IS NULL OR DATE '{a}' < closed_on)"
    n_active, assigned = _one(
        con,
        f"SELECT count(*), count(caseworker_id) FROM cases WHERE unit_id IN {sub} AND {active}",
    )
    out["aktive_sager"] = float(n_active or 0)
    (fte,) = _one(
        con,
        f"""SELECT sum(fte) FROM employees WHERE unit_id IN {sub} AND role = 'raadgiver'
        AND employed_from <= DATE '{a}' AND (employed_to IS NULL OR DATE '{a}' <= employed_to)""",
    )
    out["sager_pr_raadgiver"] = _div(float(assigned or 0), fte, 1.0)
    row = _one(
        con,
        f"""SELECT count(*), count_if(done_on <= least(due_on, DATE '{a}')),
            count_if(kind = 'undersoegelse'), count_if(kind = 'undersoegelse' AND done_on <= least(due_on, DATE '{a}')),
            count_if(kind = 'opfoelgning'), count_if(kind = 'opfoelgning' AND done_on <= least(due_on, DATE '{a}'))
        FROM deadlines d JOIN cases c USING (case_id)
        WHERE c.unit_id IN {sub} AND d.due_on BETWEEN DATE '{y0}' AND DATE '{a}'""",
    )
    row = tuple(x or 0 for x in row)
    out["frister_overholdt_pct"] = _div(float(row[1]), row[0])
    out["undersoegelser_rettidige_pct"] = _div(float(row[3]), row[2])
    out["opfoelgninger_rettidige_pct"] = _div(float(row[5]), row[4])
    (overdue,) = _one(
        con,
        f"""SELECT count(*) FROM deadlines d JOIN cases c USING (case_id) WHERE c.unit_id IN {sub}
        AND d.due_on < DATE '{a}' AND (d.done_on IS NULL OR d.done_on > DATE '{a}')""",
    )
    out["frister_overskredne"] = float(overdue or 0)
    ts = f"TIMESTAMP '{t} 00:00:00'"
    assessed = f"(assessed_at IS NOT NULL AND assessed_at < {ts})"
    row = _one(
        con,
        f"""SELECT count(*),
            count_if(NOT (NOT {assessed} AND {ts} - received_at < INTERVAL 24 HOUR)),
            count_if(NOT (NOT {assessed} AND {ts} - received_at < INTERVAL 24 HOUR)
                     AND {assessed} AND assessed_at - received_at <= INTERVAL 24 HOUR)
        FROM notifications WHERE unit_id IN {sub}
        AND received_at >= TIMESTAMP '{y0} 00:00:00' AND received_at < {ts}""",
    )
    row = tuple(x or 0 for x in row)
    out["underretninger_antal"] = float(row[0])
    out["underretninger_24t_pct"] = _div(float(row[2]), row[1])
    sick, scheduled = _one(
        con,
        f"""WITH emp AS (
            SELECT employee_id, fte, greatest(employed_from, DATE '{y0}') AS win_lo,
                   least(coalesce(employed_to, DATE '{a}'), DATE '{a}') AS win_hi
            FROM employees WHERE unit_id IN {sub}
        ),
        sp AS (
            SELECT s.employee_id, e.fte, greatest(s.start_on, e.win_lo) AS lo, least(s.end_on, e.win_hi) AS hi
            FROM absences s JOIN emp e USING (employee_id)
            WHERE s.kind = 'egen_sygdom' AND greatest(s.start_on, e.win_lo) <= least(s.end_on, e.win_hi)
        ),
        flagged AS (
            SELECT *, CASE WHEN lo > max(hi) OVER (PARTITION BY employee_id ORDER BY lo, hi
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) THEN 1
                WHEN max(hi) OVER (PARTITION BY employee_id ORDER BY lo, hi
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) IS NULL THEN 1 ELSE 0 END AS new_run
            FROM sp
        ),
        runs AS (
            SELECT employee_id, fte, sum(new_run) OVER (PARTITION BY employee_id ORDER BY lo, hi
                ROWS UNBOUNDED PRECEDING) AS run, lo, hi FROM flagged
        ),
        merged AS (SELECT employee_id, run, any_value(fte) AS fte, min(lo) AS lo, max(hi) AS hi
                   FROM runs GROUP BY employee_id, run)
        SELECT (SELECT sum({_weekdays("lo", "hi")} * fte) FROM merged),
               (SELECT sum({_weekdays("win_lo", "win_hi")} * fte) FROM emp)""",
    )
    out["sygefravaer_pct"] = _div(sick or 0.0, scheduled)
    start = a - timedelta(days=365)

    def on(d: date) -> str:
        return f"count_if(employed_from <= DATE '{d}' AND (employed_to IS NULL OR DATE '{d}' <= employed_to))"

    leavers, then, now_hc = _one(
        con,
        f"""SELECT count_if(employed_to > DATE '{start}' AND employed_to <= DATE '{a}'), {on(start)}, {on(a)}
        FROM employees WHERE unit_id IN {sub}""",
    )
    out["personaleomsaetning_pct"] = _div(float(leavers or 0), ((then or 0) + (now_hc or 0)) / 2)
    out |= _measurements(con, unit, a, children)
    return out


def _measurements(
    con: duckdb.DuckDBPyConnection, unit: str, a: date, children: dict[str, tuple[str, ...]]
) -> dict[str, float | None]:
    rows = con.execute(
        f"""WITH m AS (SELECT * FROM measurements WHERE unit_id IN (SELECT unit_id FROM sub)
                       AND period_end <= DATE '{a}'),
        latest AS (SELECT *, max(period_end) OVER (PARTITION BY kpi_id, unit_id) AS last FROM m)
        SELECT kpi_id, unit_id, count(*), any_value(value),
               sum(value * coalesce(respondents, 1)), sum(coalesce(respondents, 1)::DOUBLE)
        FROM latest WHERE period_end = last GROUP BY kpi_id, unit_id"""
    ).fetchall()
    ids = [r[0] for r in con.execute("SELECT DISTINCT kpi_id FROM measurements ORDER BY 1").fetchall()]
    own: dict[str, dict[str, tuple[int, float, float, float]]] = {k: {} for k in ids}
    for kpi, u, n, first, vw, w in rows:
        own[kpi][u] = (n, first, vw, w)

    def value(kpi: str, u: str) -> tuple[float | None, float]:
        if u in own[kpi]:
            n, first, vw, w = own[kpi][u]
            if n == 1:
                return first, w
            return (vw / w if w else None), w
        vw = weight = 0.0
        for c in children.get(u, ()):
            v, w = value(kpi, c)
            if v is None or not w:
                continue
            vw += v * w
            weight += w
        return (vw / weight if weight else None), weight

    return {k: value(k, unit)[0] for k in ids}
