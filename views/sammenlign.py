"""Sammenlign udtræk: what changed since the last meeting. The extract chosen in the sidebar
against an earlier one (default: the one just before it), each at its own as-of date:
the biggest movements, every KPI, the economy per account and the data-quality counts.

Thin: every figure comes from metrics.compare; this file formats and lays out.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import streamlit as st

from metrics.access import AccessDenied, Viewer
from metrics.compare import (
    CompareError,
    Comparison,
    biggest_account,
    biggest_kpi_moves,
    compare,
    judgement_counts,
)
from metrics.extract import Extract
from metrics.loader import ExtractRefused
from metrics.scorecard import ScorecardError, default_scorecard_path, load_scorecard
from ui.context import PageContext, load_cached, note_left_out, page_context, pick_earlier, refusal_text
from ui.fmt import fmt_date, fmt_delta, fmt_dkk, fmt_mio, fmt_num, fmt_value, md_escape
from ui.notes import kpi_comments
from ui.tables import ColumnSpec, Figure, show_figures, show_table

# judgement → icon + word: never colour alone
JUDGEMENT_TEXT = {
    "improved": "✅ Forbedret",
    "worsened": "🔻 Forværret",
    "unchanged": "➖ Uændret",
    "no_direction": "🔄 Ændret (ingen retning)",
    "no_data": "⚪ Mangler data",
}
JUDGEMENT_WORD = {k: v.split(" ", 1)[1] for k, v in JUDGEMENT_TEXT.items()}  # the export's word, no icon
UNIT_TEXT = {"pct": "%", "dkk": "kr.", "count": "antal", "ratio": "forhold", "score": "score"}
DIRECTION_TEXT = {"higher": "Højere er bedre", "lower": "Lavere er bedre"}


@st.cache_data(max_entries=32, show_spinner="Sammenligner udtræk …")
def _cached(
    now: tuple[str, float], before: tuple[str, float], unit_id: str, viewer_key: str, _viewer: Viewer
) -> Comparison:
    """Cached on plain values: the viewer is keyed by its repr (identity, role and today's scope)."""
    return compare(load_cached(Path(now[0])), load_cached(Path(before[0])), unit_id, _viewer)


def _comparison(now: Extract, before: Extract, unit_id: str, viewer: Viewer) -> Comparison:
    if now.path is None or before.path is None:  # not loaded from files: no cache key
        return compare(now, before, unit_id, viewer)
    now_key = (str(now.path), (now.path / "manifest.json").stat().st_mtime)
    before_key = (str(before.path), (before.path / "manifest.json").stat().st_mtime)
    return _cached(now_key, before_key, unit_id, repr(viewer), viewer)


def _amount(x: float) -> str:
    """Signed, in millions from one million up (as said in the meeting), else in kroner."""
    if abs(x) >= 1_000_000:
        return ("+" if x > 0 else "") + fmt_mio(x)
    return fmt_delta(x, "dkk")


def _economy_sentence(c: Comparison) -> str:
    change = c.expected_change
    if change == 0:
        return "Forventet regnskab er uændret siden sidst."
    verb = "steg" if change > 0 else "faldt"
    text = f"Forventet regnskab {verb} **{_amount(abs(change)).lstrip('+')}** siden sidst"
    top = biggest_account(c)
    if top is not None:
        top_change = float(top["expected_change"])  # type: ignore[arg-type]
        lead = "især på" if (top_change > 0) == (change > 0) else "størst bevægelse på"
        text += f", {lead} {md_escape(str(top['label']))} ({_amount(top_change)})"
    return text + "."


def _headline(c: Comparison) -> None:
    st.subheader(f"Siden udtrækket {fmt_date(c.before_as_of)}")
    counts = judgement_counts(c)
    show_figures(
        [
            Figure(
                "Forventet regnskab",
                fmt_delta(c.expected_change, "dkk"),
                f"Ændring fra {fmt_dkk(c.economy_before.expected)} til {fmt_dkk(c.economy_now.expected)}.",
            ),
            Figure(
                "Afvigelse",
                fmt_delta(c.deviation_change, "dkk"),
                f"Budget − forventet regnskab: fra {fmt_dkk(c.economy_before.deviation)} "
                f"til {fmt_dkk(c.economy_now.deviation)}. Negativ ændring: tættere på eller længere over budget.",
            ),
            Figure("Nøgletal forbedret", fmt_num(counts["improved"]), "Ændret i den bedre retning."),
            Figure("Nøgletal forværret", fmt_num(counts["worsened"]), "Ændret i den dårligere retning."),
            Figure(
                "Rækker sat til side",
                fmt_delta(c.set_aside_change, "count"),
                "Ændring i antal rækker, valideringen har sat til side, i hele udtrækket.",
            ),
        ]
    )
    st.markdown(_economy_sentence(c))
    moves = biggest_kpi_moves(c)
    if moves.height:
        lines = [
            f"- {JUDGEMENT_TEXT[r['judgement']]}: **{md_escape(r['label'])}** "
            f"{fmt_value(r['before'], r['format'])} → {fmt_value(r['now'], r['format'])} "
            f"({fmt_delta(r['change'], r['format'])})"
            for r in moves.iter_rows(named=True)
        ]
        st.markdown("**Største bevægelser i nøgletallene**\n\n" + "\n".join(lines))


def _kpi_frame(c: Comparison) -> pl.DataFrame:
    """Display text per KPI (formats differ row by row, so the values are shown as text)."""
    k = c.kpis
    rows = list(k.iter_rows(named=True))
    return k.with_columns(
        pl.Series("before_text", [fmt_value(r["before"], r["format"]) for r in rows], pl.String),
        pl.Series("now_text", [fmt_value(r["now"], r["format"]) for r in rows], pl.String),
        pl.Series("change_text", [fmt_delta(r["change"], r["format"]) for r in rows], pl.String),
        pl.Series("judgement_text", [JUDGEMENT_TEXT[r["judgement"]] for r in rows], pl.String),
        pl.Series("direction_text", [DIRECTION_TEXT.get(r["direction"] or "", "–") for r in rows], pl.String),
    )


def _comments(ctx: PageContext, c: Comparison) -> None:
    """The scorecard KPIs' notes for the newer extract (read-only; written on Scorecard)."""
    try:
        card = load_scorecard(default_scorecard_path())
    except ScorecardError:
        return
    shown = set(c.kpis["metric_id"].to_list())
    st.markdown(f"**Forklaringer og beslutninger på nøgletallene** (mødet {fmt_date(c.now_as_of)})")
    kpi_comments(
        ctx.ex,
        ctx.viewer,
        ctx.unit_id,
        c.now_as_of,
        [(k.id, k.name) for k in card.kpis if k.metric in shown],
        page="sammenlign",
    )


def _kpi_export(c: Comparison) -> tuple[pl.DataFrame, dict[str, ColumnSpec]]:
    """The KPI table for Excel and CSV: numbers as numbers (a unit column says what they count),
    the development as a word."""
    frame = c.kpis.with_columns(
        pl.col("format").replace_strict(UNIT_TEXT, default=pl.col("format")).alias("unit_text"),
        pl.col("judgement")
        .replace_strict(JUDGEMENT_WORD, default=pl.col("judgement"))
        .alias("judgement_word"),
        pl.col("direction").replace_strict(DIRECTION_TEXT, default=None).alias("direction_text"),
    )
    columns = {
        "label": ColumnSpec("Nøgletal"),
        "unit_text": ColumnSpec("Enhed"),
        "before": ColumnSpec(f"Før ({fmt_date(c.before_as_of)})", "num", 2),
        "now": ColumnSpec(f"Nu ({fmt_date(c.now_as_of)})", "num", 2),
        "change": ColumnSpec("Ændring (for % i procentpoint)", "num", 2),
        "judgement_word": ColumnSpec("Udvikling"),
        "direction_text": ColumnSpec("Retning"),
    }
    return frame, columns


def main() -> None:
    ctx = page_context()
    if ctx is None:
        return
    st.title("Sammenlign udtræk")
    path = pick_earlier(
        ctx,
        "Sammenlign med udtrækket",
        "Et tidligere udtræk af samme kommune. Standard: udtrækket lige før det valgte.",
    )
    if path is None:
        st.info(
            f"Der er intet tidligere udtræk end {fmt_date(ctx.ex.as_of)} at sammenligne med. "
            "Vælg et nyere udtræk i menuen, eller vent på næste udtræk.",
            icon="ℹ️",
        )
        return
    try:
        before = load_cached(path)
    except ExtractRefused as e:
        st.error(refusal_text(date.fromisoformat(path.name), e))
        return
    try:
        c = _comparison(ctx.ex, before, ctx.unit_id, ctx.viewer)
    except CompareError as e:
        st.error(md_escape(str(e)), icon="🛑")
        return
    except AccessDenied:
        st.error(
            f"Du har ikke adgang til tallene for {md_escape(ctx.unit_name)} i udtrækket "
            f"{fmt_date(before.as_of)}.",
            icon="🔒",
        )
        return
    st.caption(
        f"{md_escape(c.unit_name)} · udtrækket {fmt_date(c.now_as_of)} mod {fmt_date(c.before_as_of)}. "
        "Hvert udtræk er opgjort på sin egen dato, som det kendte tallene; opgørelsesdatoen i menuen "
        "bruges ikke på denne side. Ændring = nu − før; for procenttal i procentpoint."
    )
    note_left_out(before, ctx.viewer, ctx.unit_id)
    if not c.same_budget_year:
        st.warning(
            f"Udtrækkene ligger i hvert sit budgetår ({c.before_as_of.year} og {c.now_as_of.year}): "
            "økonomitallene og årets nøgletal sammenligner to forskellige år.",
            icon="⚠️",
        )
    filters = {
        "Kommune": c.municipality,
        "Enhed": c.unit_name,
        "Udtræk": fmt_date(c.now_as_of),
        "Sammenlignet med": fmt_date(c.before_as_of),
    }
    _headline(c)

    show_table(
        _kpi_frame(c),
        {
            "label": ColumnSpec("Nøgletal"),
            "before_text": ColumnSpec(f"Før ({fmt_date(c.before_as_of)})"),
            "now_text": ColumnSpec(f"Nu ({fmt_date(c.now_as_of)})"),
            "change_text": ColumnSpec("Ændring"),
            "judgement_text": ColumnSpec("Udvikling"),
            "direction_text": ColumnSpec("Retning"),
        },
        key="cmp_kpis",
        summary=True,
        export_as=(ctx.unit_name, ctx.ex.as_of),
        title="Nøgletal før og nu",
        filters=filters,
        export=_kpi_export(c),
    )
    _comments(ctx, c)
    show_table(
        c.accounts,
        {
            "label": ColumnSpec("Konto"),
            "budget_before": ColumnSpec("Budget før", "dkk"),
            "budget_now": ColumnSpec("Budget nu", "dkk"),
            "expected_before": ColumnSpec("Forventet før", "dkk"),
            "expected_now": ColumnSpec("Forventet nu", "dkk"),
            "expected_change": ColumnSpec("Ændring i forventet", "dkk"),
            "deviation_before": ColumnSpec("Afvigelse før", "dkk"),
            "deviation_now": ColumnSpec("Afvigelse nu", "dkk"),
            "deviation_change": ColumnSpec("Ændring i afvigelse", "dkk"),
        },
        key="cmp_accounts",
        summary=True,
        export_as=(ctx.unit_name, ctx.ex.as_of),
        title="Økonomi pr. konto før og nu",
        filters=filters,
    )
    show_table(
        c.quality,
        {
            "label": ColumnSpec("Tabel"),
            "rows_before": ColumnSpec("Rækker før", "int"),
            "rows_now": ColumnSpec("Rækker nu", "int"),
            "rows_change": ColumnSpec("Ændring i rækker", "int"),
            "set_aside_before": ColumnSpec("Sat til side før", "int"),
            "set_aside_now": ColumnSpec("Sat til side nu", "int"),
            "set_aside_change": ColumnSpec("Ændring sat til side", "int"),
        },
        key="cmp_quality",
        summary=True,
        export_as=(ctx.unit_name, ctx.ex.as_of),
        title="Datakvalitet: rækker pr. tabel før og nu",
        filters=filters,
    )
    st.caption("Rækkerne tælles for hele udtrækket (alle enheder): rækker i filen og rækker sat til side.")


main()
