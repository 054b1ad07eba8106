"""The meeting pack: one Excel workbook and one PDF from a metrics.meeting.Agenda, for the
page's "Hent mødepakke" button and `python -m metrics pack` alike.

- Excel (metrics.export): one sheet per part (Dagsorden, Scorecard, Økonomi pr. konto,
  Enhed × konto, Ændringer, Dyreste sager when the agenda holds case rows, Kommentarer og
  beslutninger); title, unit, extract and as-of date above each table; numbers as numbers
  with Danish formats; frozen headers; text never becomes a formula.
- PDF (Typst, A4, Danish): title page, agenda, scorecard with status words, economy per
  account and the unit × account matrix, two charts as SVG (vector graphics, vl-convert),
  changes, the most expensive cases when allowed, comments. The data reaches Typst as a
  JSON file the template reads, so text from an extract is never Typst markup.

Comments and decisions are fed in as a frame (COMMENT_COLUMNS) by whoever stores them;
with none, both files say there are none. Case-level comments (subject_kind "case") are
left out when the agenda holds no case rows.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from metrics import registry
from metrics.access import Viewer
from metrics.audit import local_today
from metrics.export import (
    BUDGET_STATUS_TEXT,
    ColumnSpec,
    Sheet,
    budget_status_text,
    economy_columns,
    export_file_name,
    to_xlsx_sheets,
)
from metrics.extract import Extract
from metrics.fmt import fmt_date, fmt_delta, fmt_dkk, fmt_num, fmt_pct, fmt_value
from metrics.meeting import (
    JUDGEMENT_ICONS,
    JUDGEMENT_WORDS,
    STATUS_ICONS,
    STATUS_WORDS,
    Agenda,
    agenda_points,
    matrix_wide,
    scorecard_kpis,
)
from metrics.notes import STATUS_LABELS
from metrics.scorecard import Scorecard

PACK_NAME = "moedepakke"
TITLE = "Mødepakke – økonomimøde"
COMMENT_COLUMNS: dict[str, pl.DataType] = {
    "subject_kind": pl.String(),  # kpi / account / case / action
    "subject_id": pl.String(),  # kpi id, account, case id, action id
    "unit_id": pl.String(),
    "kind": pl.String(),  # e.g. explanation / decision / review_note / status
    "text": pl.String(),
    "author_name": pl.String(),
    "at_utc": pl.Datetime("us", "UTC"),
    "owner": pl.String(),  # who carries a decision out; null otherwise
    "due_on": pl.Date(),
    "status": pl.String(),  # e.g. ikke startet / i gang / gennemført; null otherwise
    "version": pl.Int64(),
    "period": pl.Date(),  # the meeting (extract as_of) a note was written for; optional
}
SUBJECT_LABELS = {"kpi": "Nøgletal", "account": "Konto", "case": "Sag", "action": "Handling", "unit": "Enhed"}
KIND_LABELS = {
    "explanation": "Afvigelsesforklaring",
    "decision": "Beslutning",
    "review_note": "Sagsgennemgang",
    "case_review": "Sagsgennemgang",
    "status": "Status",
}
NO_COMMENTS = "Der er ingen kommentarer eller beslutninger til dette møde."
NO_CASE_ROWS = "Rækker pr. sag er ikke med i denne pakke (kun samlede tal)."

_FORMAT_SPECS: dict[str, ColumnSpec] = {
    "pct": ColumnSpec("", "pct", 1),
    "dkk": ColumnSpec("", "dkk", 0),
    "count": ColumnSpec("", "int", 0),
    "ratio": ColumnSpec("", "num", 1),
    "score": ColumnSpec("", "num", 2),
}


@dataclass(frozen=True)
class Pack:
    xlsx: bytes
    pdf: bytes
    xlsx_name: str  # moedepakke_<unit>_<extract date>.xlsx
    pdf_name: str
    case_ids: tuple[str, ...]  # case rows in the files: a download of them is audited


def empty_comments() -> pl.DataFrame:
    return pl.DataFrame(schema=COMMENT_COLUMNS)


def pack_comments(a: Agenda, comments: pl.DataFrame | None) -> pl.DataFrame:
    """The comments the pack shows: COMMENT_COLUMNS, case notes only with case rows, by time."""
    if comments is None:
        return empty_comments()
    if "period" not in comments.columns:
        comments = comments.with_columns(pl.lit(None, pl.Date).alias("period"))
    missing = [c for c in COMMENT_COLUMNS if c not in comments.columns]
    if missing:
        raise KeyError(f"comments frame lacks columns: {', '.join(missing)}")
    out = comments.select(pl.col(c).cast(t) for c, t in COMMENT_COLUMNS.items())
    if not a.case_rows_shown:
        out = out.filter(pl.col("subject_kind") != "case")
    return out.sort("at_utc", "subject_kind", "subject_id", nulls_last=True)


def comments_from_notes(notes: pl.DataFrame) -> pl.DataFrame:
    """metrics.notes' frame (NOTES_SCHEMA: meeting_notes, notes_frame) as the pack's
    COMMENT_COLUMNS: who and when of the latest version, status as its Danish word."""
    return notes.select(
        "subject_kind",
        "subject_id",
        "unit_id",
        "kind",
        "text",
        pl.col("saved_by_name").alias("author_name"),
        pl.col("saved_at").alias("at_utc"),
        "owner",
        pl.col("due").alias("due_on"),
        pl.col("status").replace_strict(STATUS_LABELS, default=pl.col("status")).alias("status"),
        "version",
        "period",
    )


def file_names(a: Agenda) -> tuple[str, str]:
    return (
        export_file_name(PACK_NAME, a.unit_name, a.extract_as_of, "xlsx"),
        export_file_name(PACK_NAME, a.unit_name, a.extract_as_of, "pdf"),
    )


def header(a: Agenda) -> dict[str, str]:
    """The lines above every table: who, what and when."""
    out = {
        "Kommune": a.municipality,
        "Enhed": a.unit_name,
        "Udtræk": fmt_date(a.extract_as_of),
        "Opgørelsesdato": fmt_date(a.as_of),
        "Sammenlignet med": fmt_date(a.previous_as_of) if a.previous_as_of else "intet tidligere udtræk",
    }
    return out


# --- Excel ---------------------------------------------------------------------------------


def _scorecard_sheet_frame(a: Agenda) -> pl.DataFrame:
    return a.scorecard.with_columns(
        (
            pl.col("status").replace_strict(STATUS_ICONS)
            + " "
            + pl.col("status").replace_strict(STATUS_WORDS)
        ).alias("status_text"),
        (
            pl.col("judgement").replace_strict(JUDGEMENT_ICONS)
            + " "
            + pl.col("judgement").replace_strict(JUDGEMENT_WORDS)
        ).alias("judgement_text"),
        pl.when(pl.col("to_discuss")).then(pl.lit("Ja")).otherwise(pl.lit("Nej")).alias("discuss_text"),
        pl.col("metric")
        .map_elements(lambda m: registry.get(m).unit, return_dtype=pl.String)
        .alias("unit_text"),
    )


SCORECARD_COLUMNS = {
    "perspective": ColumnSpec("Perspektiv"),
    "name": ColumnSpec("Nøgletal"),
    "status_text": ColumnSpec("Status"),
    "value": ColumnSpec("Værdi", "num"),
    "target": ColumnSpec("Mål", "num"),
    "before": ColumnSpec("Ved sidste udtræk", "num"),
    "change": ColumnSpec("Ændring", "num"),
    "unit_text": ColumnSpec("Enhed for tallet"),
    "judgement_text": ColumnSpec("Udvikling"),
    "discuss_text": ColumnSpec("Skal drøftes"),
}
# each KPI row keeps its own format (%, kr., antal, point) in these columns
SCORECARD_ROW_FORMATS = ("value", "target", "before", "change")
POINT_COLUMNS = {
    "no": ColumnSpec("Punkt", "int"),
    "point": ColumnSpec("Emne"),
    "count": ColumnSpec("Antal", "int"),
    "amount": ColumnSpec("Beløb", "dkk"),
    "note": ColumnSpec("Bemærkning"),
}
ACCOUNT_COLUMNS = {
    "label": ColumnSpec("Konto"),
    **economy_columns("budget", "actual", "committed", "expected", "deviation", "deviation_pct"),
    "budget_text": ColumnSpec("Budgetstatus"),
}
MATRIX_COLUMNS = {
    "row_label": ColumnSpec("Enhed"),
    "account_label": ColumnSpec("Konto"),
    **economy_columns("budget", "expected", "deviation", "deviation_pct"),
    "budget_text": ColumnSpec("Budgetstatus"),
}
MOVE_COLUMNS = {
    "kind_text": ColumnSpec("Hvad"),
    "label": ColumnSpec("Navn"),
    "expected_before": ColumnSpec("Forventet ved sidste udtræk", "dkk"),
    "expected_now": ColumnSpec("Forventet nu", "dkk"),
    "expected_change": ColumnSpec("Ændring", "dkk"),
}
NEW_SUMMARY_COLUMNS = {
    "what": ColumnSpec("Nyt"),
    "count": ColumnSpec("Antal", "int"),
    "amount": ColumnSpec("Beløb", "dkk"),
}
INTERVENTION_COLUMNS = {
    "case_id": ColumnSpec("Sag"),
    "unit_name": ColumnSpec("Enhed"),
    "kind_name": ColumnSpec("Indsats"),
    "account": ColumnSpec("Konto"),
    "decided_on": ColumnSpec("Bevilget", "date"),
    "start_on": ColumnSpec("Start", "date"),
    "monthly_cost": ColumnSpec("Månedlig udgift", "dkk"),
    "yearly_cost": ColumnSpec("Årlig udgift", "dkk"),
}
CASE_COLUMNS = {
    "case_id": ColumnSpec("Sag"),
    "unit_name": ColumnSpec("Enhed"),
    "caseworker_name": ColumnSpec("Rådgiver"),
    "interventions": ColumnSpec("Indsatser"),
    **economy_columns("actual", "committed", "expected", per_case=True),
}
NOTIFICATION_COLUMNS = {
    "notification_id": ColumnSpec("Underretning"),
    "case_id": ColumnSpec("Sag"),
    "unit_name": ColumnSpec("Enhed"),
    "source_label": ColumnSpec("Kilde"),
    "received_at": ColumnSpec("Modtaget", "datetime"),
    "assessed_at": ColumnSpec("Vurderet", "datetime"),
}
DEADLINE_COLUMNS = {
    "case_id": ColumnSpec("Sag"),
    "unit_name": ColumnSpec("Enhed"),
    "kind": ColumnSpec("Frist"),
    "due_on": ColumnSpec("Forfaldt", "date"),
    "days_overdue": ColumnSpec("Dage over", "int"),
}
COMMENT_SHEET_COLUMNS = {
    "subject_text": ColumnSpec("Emne"),
    "subject_id": ColumnSpec("Id"),
    "unit_id": ColumnSpec("Enhed"),
    "kind_text": ColumnSpec("Type"),
    "text": ColumnSpec("Tekst"),
    "author_name": ColumnSpec("Skrevet af"),
    "at_local": ColumnSpec("Tidspunkt (UTC)", "datetime"),
    "owner": ColumnSpec("Ansvarlig"),
    "due_on": ColumnSpec("Frist", "date"),
    "status": ColumnSpec("Status"),
    "version": ColumnSpec("Version", "int"),
    "period": ColumnSpec("Møde (udtræk)", "date"),
}


def _with_budget_text(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns(budget_status_text(pl.col("over_budget")).alias("budget_text"))


def _moves_frame(a: Agenda) -> pl.DataFrame:
    return a.moves.with_columns(
        pl.col("kind")
        .replace_strict({"account": "Konto", "unit": "Enhed"}, return_dtype=pl.String)
        .alias("kind_text")
    )


def new_summary(a: Agenda) -> pl.DataFrame:
    """The counts of "nyt siden sidst" (whole unit), empty for a first extract."""
    schema = {"what": pl.String(), "count": pl.Int64(), "amount": pl.Float64()}
    if a.new is None:
        return pl.DataFrame(schema=schema)
    n = a.new
    rows = [
        ("Nye indsatser (årlig udgift = månedlig × 12)", n.interventions, n.interventions_yearly_cost),
        ("Underretninger ikke vurderet inden for 24 timer", n.late_notifications, None),
        ("Frister overskredet", n.overdue_deadlines, None),
    ]
    if a.case_rows_shown:
        rows.insert(1, ("Sager nye blandt de 10 dyreste", n.top_cases.height, None))
    return pl.DataFrame(rows, schema=schema, orient="row")


def _comments_frame(c: pl.DataFrame) -> pl.DataFrame:
    return c.with_columns(
        pl.col("subject_kind")
        .replace_strict(SUBJECT_LABELS, default=pl.col("subject_kind"))
        .alias("subject_text"),
        pl.col("kind").replace_strict(KIND_LABELS, default=pl.col("kind")).alias("kind_text"),
        pl.col("at_utc").dt.replace_time_zone(None).alias("at_local"),
    )


@dataclass(frozen=True)
class _Block:
    title: str
    df: pl.DataFrame | None
    columns: Mapping[str, ColumnSpec]
    empty: str = "Ingen rækker."


def _sheets(a: Agenda, comments: pl.DataFrame) -> list[Sheet]:
    h = header(a)
    points = agenda_points(a, comments.height)
    sheets = [
        Sheet("Dagsorden", f"{TITLE}: dagsorden", h, points, POINT_COLUMNS),
        Sheet(
            "Scorecard",
            f"Scorecard: {a.scorecard_title}",
            h,
            _scorecard_sheet_frame(a),
            SCORECARD_COLUMNS,
            row_formats={c: "format" for c in SCORECARD_ROW_FORMATS},
            kind_specs=_FORMAT_SPECS,
        ),
        Sheet("Økonomi pr. konto", "Økonomi pr. konto", h, _with_budget_text(a.accounts), ACCOUNT_COLUMNS),
        Sheet(
            "Enhed × konto",
            "Underenhed × konto: forventet regnskab mod budget",
            h,
            _with_budget_text(a.matrix),
            MATRIX_COLUMNS,
        ),
    ]
    blocks = [
        _Block(
            "Konti og enheder der har flyttet sig mest",
            _moves_frame(a),
            MOVE_COLUMNS,
            "Intet tidligere udtræk at sammenligne med.",
        ),
        _Block(
            "Nyt siden sidste udtræk",
            new_summary(a),
            NEW_SUMMARY_COLUMNS,
            "Intet tidligere udtræk at sammenligne med.",
        ),
    ]
    if a.new is not None and a.case_rows_shown:
        blocks += [
            _Block(
                "Nye indsatser: de 10 med størst årlig udgift", a.new.intervention_rows, INTERVENTION_COLUMNS
            ),
            _Block("Sager nye blandt de 10 dyreste", a.new.top_cases, CASE_COLUMNS),
            _Block(
                "Underretninger ikke vurderet inden for 24 timer",
                a.new.late_notification_rows,
                NOTIFICATION_COLUMNS,
            ),
            _Block("Frister overskredet siden sidst", a.new.overdue_rows, DEADLINE_COLUMNS),
        ]
    sheets.append(
        Sheet(
            "Ændringer",
            f"Ændringer siden {fmt_date(a.previous_as_of)}" if a.previous_as_of else "Ændringer",
            h,
            blocks[0].df,
            blocks[0].columns,
            empty=blocks[0].empty,
            more=tuple((b.title, b.df, b.columns, b.empty) for b in blocks[1:]),
        )
    )
    if a.top_cases is not None:
        sheets.append(Sheet("Dyreste sager", "De 10 dyreste aktive sager i år", h, a.top_cases, CASE_COLUMNS))
    sheets.append(
        Sheet(
            "Kommentarer og beslutninger",
            "Kommentarer og beslutninger",
            h,
            _comments_frame(comments) if comments.height else None,
            COMMENT_SHEET_COLUMNS,
            empty=NO_COMMENTS,
        )
    )
    return sheets


def build_xlsx(a: Agenda, comments: pl.DataFrame | None = None) -> bytes:
    return to_xlsx_sheets(_sheets(a, pack_comments(a, comments)))


def build_scorecard_xlsx(
    ex: Extract,
    card: Scorecard,
    unit_id: str,
    as_of: date,
    header_lines: Mapping[str, str],
    viewer: Viewer | None = None,
) -> bytes:
    """The scorecard page's own download: every KPI with value, target and status word,
    each value in its KPI's number format (over the units the viewer may see, when given)."""
    kpis = scorecard_kpis(ex, None, card, unit_id, as_of, viewer)
    frame = kpis.with_columns(
        (
            pl.col("status").replace_strict(STATUS_ICONS)
            + " "
            + pl.col("status").replace_strict(STATUS_WORDS)
        ).alias("status_text"),
        pl.col("metric")
        .map_elements(lambda m: registry.get(m).unit, return_dtype=pl.String)
        .alias("unit_text"),
    )
    columns = {
        k: SCORECARD_COLUMNS[k]
        for k in ("perspective", "name", "status_text", "value", "target", "unit_text")
    }
    sheet = Sheet(
        "Scorecard",
        f"Scorecard: {card.title}",
        header_lines,
        frame,
        columns,
        row_formats={"value": "format", "target": "format"},
        kind_specs=_FORMAT_SPECS,
    )
    return to_xlsx_sheets([sheet])


# --- PDF -----------------------------------------------------------------------------------

_TEMPLATE = r"""
#let d = json("data.json")
#set document(title: d.title)
#set page(
  paper: "a4",
  margin: (x: 1.8cm, top: 2cm, bottom: 2cm),
  header: context { if counter(page).get().first() > 1 [
    #set text(8pt, fill: luma(90))
    #d.title · #d.unit · udtræk #d.extract #h(1fr) #d.municipality
  ] },
  footer: context [
    #set text(8pt, fill: luma(90))
    #h(1fr) Side #counter(page).display() af #counter(page).final().first()
  ],
)
#set text(lang: "da", size: 9.5pt)
#set table(stroke: 0.4pt + luma(180), inset: 4pt)
#show table.cell.where(y: 0): set text(weight: "bold")

#let colour = (green: rgb("#2b8a3e"), yellow: rgb("#e67700"), red: rgb("#c92a2a"), "none": luma(140))
#let dot(s) = box(circle(radius: 3.5pt, fill: colour.at(s)))
#let budget-mark(over) = if over { box(square(size: 6pt, fill: colour.red)) } else { box(square(size: 6pt, fill: colour.green)) }
#let meta = grid(columns: (auto, auto), column-gutter: 10pt, row-gutter: 5pt,
  ..d.header.map(kv => (strong(kv.at(0) + ":"), kv.at(1))).flatten())
#let section(title) = { heading(level: 1, title); text(8pt, fill: luma(90))[#d.unit · udtræk #d.extract · opgjort #d.as_of] ; v(4pt) }

// --- title page
#v(5cm)
#text(24pt, weight: "bold")[#d.title]
#v(6pt)
#text(16pt)[#d.unit]
#v(1cm)
#meta
#v(1cm)
#text(9pt, fill: luma(90))[Dannet #d.made. Alle tal er fra Styringsoverblik (metrics) og udelader rækker, som valideringen har sat til side.]
#pagebreak()

// --- agenda
#section[Dagsorden]
#table(columns: (auto, 1fr, auto, auto), align: (right, left, right, right),
  [Punkt], [Emne], [Antal], [Beløb],
  ..d.points.map(p => (p.no, p.point, p.count, p.amount)).flatten())

#section[Nøgletal der skal drøftes]
#if d.kpis.len() == 0 [Ingen nøgletal er røde, gule eller forværret.] else {
  table(columns: (1fr, auto, auto, auto, auto, auto), align: (left, left, right, right, right, left),
    [Nøgletal], [Status], [Værdi], [Mål], [Ændring], [Udvikling],
    ..d.kpis.map(k => (k.name, [#dot(k.status) #k.status_word], k.value, k.target, k.change, k.judgement)).flatten())
}

// --- scorecard
#pagebreak()
#section[Scorecard]
#table(columns: (auto, 1fr, auto, auto, auto, auto), align: (left, left, left, right, right, right),
  [Perspektiv], [Nøgletal], [Status], [Værdi], [Mål], [Ændring],
  ..d.scorecard.map(k => (k.perspective, k.name, [#dot(k.status) #k.status_word], k.value, k.target, k.change)).flatten())

// --- economy
#pagebreak()
#section[Økonomi pr. konto]
#table(columns: (1fr, auto, auto, auto, auto, auto), align: (left, right, right, right, right, left),
  [Konto], [Budget], [Forventet], [Afvigelse], [Afv. %], [Budgetstatus],
  ..d.accounts.map(r => (
    if r.total { strong(r.label) } else { r.label }, r.budget, r.expected, r.deviation, r.pct,
    [#budget-mark(r.over) #r.status])).flatten())

#section[Underenhed × konto: afvigelse (budget − forventet)]
#text(8pt)[Hver celle: afvigelse i kr. og i % af budget; "over" = forventet regnskab over budget.]
#table(columns: (auto, ..d.matrix_accounts.map(_ => 1fr)), align: (left, ..d.matrix_accounts.map(_ => right)),
  [Enhed], ..d.matrix_accounts.map(a => text(7.5pt, a)),
  ..d.matrix.map(r => (if r.total { strong(r.label) } else { r.label }, ..r.cells.map(c =>
    text(8pt)[#c.deviation \ #c.pct#if c.over [ · *over*]]))).flatten())

#section[Grafer]
#figure(image("deviation.svg", width: 100%), caption: [Afvigelse pr. konto (budget − forventet regnskab)])
#figure(image("path.svg", width: 90%), caption: [Forventet regnskab akkumuleret mod budgettet])

// --- changes
#pagebreak()
#section[Ændringer siden sidste udtræk]
#if d.previous == none [Intet tidligere udtræk at sammenligne med.] else [
  Sammenlignet med udtrækket #d.previous.
  #table(columns: (auto, 1fr, auto, auto, auto), align: (left, left, right, right, right),
    [Hvad], [Navn], [Før], [Nu], [Ændring],
    ..d.moves.map(m => (m.kind, m.label, m.before, m.now, m.change)).flatten())
  #table(columns: (1fr, auto, auto), align: (left, right, right),
    [Nyt siden sidste udtræk], [Antal], [Beløb],
    ..d.new_summary.map(r => (r.what, r.count, r.amount)).flatten())
]
#if d.new_interventions.len() > 0 [
  === Nye indsatser med størst årlig udgift
  #table(columns: (auto, 1fr, auto, auto), align: (left, left, right, right),
    [Sag], [Indsats], [Bevilget], [Årlig udgift],
    ..d.new_interventions.map(r => (r.case_id, r.kind_name, r.decided_on, r.yearly_cost)).flatten())
]

// --- most expensive cases
#if d.top_cases != none [
  #section[De dyreste sager: fælles gennemgang]
  #table(columns: (auto, auto, auto, 1fr, auto), align: (left, left, left, left, right),
    [Sag], [Enhed], [Rådgiver], [Indsatser], [Forventet i år],
    ..d.top_cases.map(r => (r.case_id, r.unit_name, r.caseworker_name, r.interventions, r.expected)).flatten())
] else [
  #text(8pt, fill: luma(90))[#d.no_case_rows]
]

// --- comments
#pagebreak()
#section[Kommentarer og beslutninger]
#if d.comments.len() == 0 [#d.no_comments] else {
  table(columns: (auto, auto, 1fr, auto, auto, auto), align: left,
    [Emne], [Type], [Tekst], [Skrevet af], [Ansvarlig / frist], [Status],
    ..d.comments.map(c => (c.subject, c.kind, c.text, c.author, c.owner, c.status)).flatten())
}
"""


def _s(x: object) -> str:
    return "" if x is None else str(x)


def _kpi_json(row: dict[str, Any]) -> dict[str, str]:
    fmt = row["format"]
    return {
        "perspective": _s(row["perspective"]),
        "name": _s(row["name"]),
        "status": row["status"],
        "status_word": STATUS_WORDS[row["status"]],
        "value": fmt_value(row["value"], fmt),
        "target": fmt_value(row["target"], fmt),
        "change": fmt_delta(row["change"], fmt),
        "judgement": JUDGEMENT_WORDS[row["judgement"]],
    }


def pdf_data(a: Agenda, comments: pl.DataFrame, made: datetime | None = None) -> dict[str, Any]:
    """Everything the PDF shows, as text already in Danish format."""
    wide_dev = matrix_wide(a.matrix, "deviation")
    wide_pct = matrix_wide(a.matrix, "deviation_pct")
    wide_over = matrix_wide(a.matrix, "over_budget")
    accounts = [c for c in wide_dev.columns if c not in ("row_id", "row_label", "row_kind")]
    matrix = [
        {
            "label": dev["row_label"],
            "total": dev["row_kind"] == "total",
            "cells": [
                {"deviation": fmt_dkk(dev[c]), "pct": fmt_pct(pct[c]), "over": bool(over[c])}
                for c in accounts
            ],
        }
        for dev, pct, over in zip(
            wide_dev.iter_rows(named=True),
            wide_pct.iter_rows(named=True),
            wide_over.iter_rows(named=True),
            strict=True,
        )
    ]
    pts = agenda_points(a, comments.height)
    return {
        "title": TITLE,
        "unit": a.unit_name,
        "municipality": a.municipality,
        "extract": fmt_date(a.extract_as_of),
        "as_of": fmt_date(a.as_of),
        "previous": fmt_date(a.previous_as_of) if a.previous_as_of else None,
        "made": fmt_date(made or local_today()),
        "header": [[k, v] for k, v in header(a).items()],
        "points": [
            {
                "no": str(r["no"]),
                "point": r["point"],
                "count": fmt_num(r["count"]) if r["count"] is not None else "",
                "amount": fmt_dkk(r["amount"]) if r["amount"] is not None else "",
            }
            for r in pts.iter_rows(named=True)
        ],
        "kpis": [_kpi_json(r) for r in a.kpis.iter_rows(named=True)],
        "scorecard": [_kpi_json(r) for r in a.scorecard.iter_rows(named=True)],
        "accounts": [
            {
                "label": r["label"],
                "total": bool(r["is_total"]),
                "budget": fmt_dkk(r["budget"]),
                "expected": fmt_dkk(r["expected"]),
                "deviation": fmt_dkk(r["deviation"]),
                "pct": fmt_pct(r["deviation_pct"]),
                "over": bool(r["over_budget"]),
                "status": BUDGET_STATUS_TEXT[bool(r["over_budget"])].split(" ", 1)[1],
            }
            for r in a.accounts.iter_rows(named=True)
        ],
        "matrix_accounts": accounts,
        "matrix": matrix,
        "moves": [
            {
                "kind": "Konto" if r["kind"] == "account" else "Enhed",
                "label": r["label"],
                "before": fmt_dkk(r["expected_before"]),
                "now": fmt_dkk(r["expected_now"]),
                "change": fmt_delta(r["expected_change"], "dkk"),
            }
            for r in a.moves.iter_rows(named=True)
        ],
        "new_summary": [
            {
                "what": r["what"],
                "count": fmt_num(r["count"]),
                "amount": "" if r["amount"] is None else fmt_dkk(r["amount"]),
            }
            for r in new_summary(a).iter_rows(named=True)
        ],
        "new_interventions": []
        if a.new is None or not a.case_rows_shown
        else [
            {
                "case_id": r["case_id"],
                "kind_name": _s(r["kind_name"]),
                "decided_on": fmt_date(r["decided_on"]),
                "yearly_cost": fmt_dkk(r["yearly_cost"]),
            }
            for r in a.new.intervention_rows.iter_rows(named=True)
        ],
        "top_cases": None
        if a.top_cases is None
        else [
            {
                "case_id": r["case_id"],
                "unit_name": _s(r["unit_name"]),
                "caseworker_name": _s(r["caseworker_name"]),
                "interventions": _s(r["interventions"]),
                "expected": fmt_dkk(r["expected"]),
            }
            for r in a.top_cases.iter_rows(named=True)
        ],
        "no_case_rows": NO_CASE_ROWS,
        "comments": [
            {
                "subject": f"{SUBJECT_LABELS.get(r['subject_kind'], _s(r['subject_kind']))} {_s(r['subject_id'])}",
                "kind": KIND_LABELS.get(r["kind"], _s(r["kind"]))
                + (
                    f" fra mødet {fmt_date(r['period'])}"
                    if r["period"] is not None and r["period"] != a.extract_as_of
                    else ""
                ),
                "text": _s(r["text"]),
                "author": f"{_s(r['author_name'])}, {fmt_date(r['at_utc'])}",
                "owner": " · ".join(
                    x for x in (_s(r["owner"]), fmt_date(r["due_on"]) if r["due_on"] else "") if x
                ),
                "status": _s(r["status"]),
            }
            for r in comments.iter_rows(named=True)
        ],
        "no_comments": NO_COMMENTS,
    }


def build_pdf(a: Agenda, comments: pl.DataFrame | None = None, made: datetime | None = None) -> bytes:
    import typst

    # Altair only when a PDF is made: metrics.pack is imported by the first page (its Excel
    # download), which otherwise draws no Altair chart
    from metrics.charts import cumulative_path, deviation_bars, to_svg

    c = pack_comments(a, comments)
    with tempfile.TemporaryDirectory(prefix="moedepakke_") as tmp:
        root = Path(tmp)
        (root / "data.json").write_text(
            json.dumps(pdf_data(a, c, made), ensure_ascii=False), encoding="utf-8"
        )
        (root / "deviation.svg").write_text(to_svg(deviation_bars(a.accounts)), encoding="utf-8")
        (root / "path.svg").write_text(to_svg(cumulative_path(a.monthly)), encoding="utf-8")
        (root / "main.typ").write_text(_TEMPLATE, encoding="utf-8")
        return typst.compile(str(root / "main.typ"), root=str(root))


def build_pack(a: Agenda, comments: pl.DataFrame | None = None, made: datetime | None = None) -> Pack:
    """Both files of the meeting pack for the agenda, with the comments frame (COMMENT_COLUMNS) or none."""
    xlsx_name, pdf_name = file_names(a)
    c = pack_comments(a, comments)
    case_ids = list(a.case_ids())
    if a.case_rows_shown:
        case_ids += [i for i in c.filter(pl.col("subject_kind") == "case")["subject_id"].to_list() if i]
    return Pack(
        xlsx=to_xlsx_sheets(_sheets(a, c)),
        pdf=build_pdf(a, c, made),
        xlsx_name=xlsx_name,
        pdf_name=pdf_name,
        case_ids=tuple(dict.fromkeys(case_ids)),
    )
