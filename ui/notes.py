"""Comments, decisions, case review notes and action status where the figure is: one set of
components for Scorecard, Økonomimøde and Sammenlign (issue 8 §2).

Everything is read and written through metrics.notes, which decides who may read and write
and refuses a save based on a version someone else has replaced (EditConflict). Saves run in
widget callbacks, so a form can be emptied after a save and keeps the user's text after a
refusal: nothing typed is lost. What users wrote is data: shown with st.text or md_escape.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import streamlit as st

from metrics import notes as N
from metrics.access import AccessDenied, Viewer
from metrics.audit import LOCAL_TZ, local_today
from metrics.extract import Extract
from metrics.notes import KIND_LABELS, STATUS_LABELS, STATUSES, EditConflict, NoteError, NoteVersion, Subject
from metrics.org import org_tree
from metrics.scorecard import Action, Scorecard
from metrics.storage import StorageError
from ui.fmt import fmt_date, md_escape

PREVIOUS = "Fra sidste møde"
NO_NOTES = "Ingen forklaring eller beslutning til dette udtræk."
STATUS_ICONS = {"ikke_startet": "⚪", "i_gang": "🔵", "gennemfoert": "✅"}
_REFUSALS = (NoteError, AccessDenied, StorageError, N.NoteNotFound)


def when(at: datetime) -> str:
    """A saved-at time (UTC) in Danish local time: 14. jun. 2024 kl. 09:05."""
    local = at.astimezone(ZoneInfo(LOCAL_TZ))
    return f"{fmt_date(local)} kl. {local:%H:%M}"


def byline(n: NoteVersion) -> str:
    """Kind, who and when (escaped), and a decision's owner, due date and status."""
    line = f"**{KIND_LABELS[n.kind]}** · {md_escape(n.saved_by_name)} · {when(n.saved_at)}"
    if n.version > 1:
        line += f" · version {n.version}"
    if n.kind == "decision":
        status = n.status or "ikke_startet"
        line += (
            f"  \nAnsvarlig: {md_escape(n.owner or '–')} · frist {fmt_date(n.due)} · "
            f"{STATUS_ICONS[status]} {STATUS_LABELS[status]}"
        )
    return line


def show_note(n: NoteVersion, prefix: str = "") -> None:
    st.caption((f"{prefix} " if prefix else "") + byline(n))
    st.text(n.text)


def _message(key: str) -> None:
    """The outcome of the last save through this form (set by the callback)."""
    msg = st.session_state.get(f"{key}__msg")
    if msg is None:
        return
    kind, text = msg
    if kind == "error":  # stays until the next save through this form
        st.error(md_escape(text), icon="⚠️")
    else:
        del st.session_state[f"{key}__msg"]  # shown once
        st.success(md_escape(text), icon="✅")


def _set_message(key: str, kind: str, text: str) -> None:
    st.session_state[f"{key}__msg"] = (kind, text)


def _forget(*keys: str) -> None:
    for k in keys:
        st.session_state.pop(k, None)


# --- saving (callbacks) ------------------------------------------------------------------------


def _decision_fields(key: str, kind: str) -> dict[str, Any]:
    if kind != "decision":
        return {}
    status = st.session_state.get(f"{key}_status")
    return {
        "owner": st.session_state.get(f"{key}_ansvarlig") or None,
        "due": st.session_state.get(f"{key}_frist"),
        "status": status or "ikke_startet",
    }


def _add(ex: Extract, viewer: Viewer, subject: Subject, period: date, key: str, page: str) -> None:
    kind = st.session_state.get(f"{key}_type") or "explanation"
    try:
        N.add_note(
            ex,
            viewer,
            subject,
            period,
            kind,
            st.session_state.get(f"{key}_tekst") or "",
            page=page,
            **_decision_fields(key, kind),
        )
    except _REFUSALS as e:
        _set_message(key, "error", f"Ikke gemt: {e}")
        return
    _set_open(key, False)
    _set_message(key, "ok", f"{KIND_LABELS[kind]} gemt.")


def _edit(ex: Extract, viewer: Viewer, n: NoteVersion, key: str, page: str) -> None:
    base = int(st.session_state.get(f"{key}_base", n.version))
    try:
        N.edit_note(
            ex,
            viewer,
            n.note_id,
            base,
            st.session_state.get(f"{key}_tekst") or "",
            page=page,
            **_decision_fields(key, n.kind),
        )
    except EditConflict as e:
        # The newer version is shown above the form; the user's text stays in it, and the
        # next save is based on the version they have now been shown.
        st.session_state[f"{key}_base"] = e.version
        _set_message(key, "error", f"Ikke gemt: {e}")
        return
    except _REFUSALS as e:
        _set_message(key, "error", f"Ikke gemt: {e}")
        return
    _close_edit(key)
    _set_message(key, "ok", "Ny version gemt.")


def _withdraw(ex: Extract, viewer: Viewer, n: NoteVersion, key: str, page: str) -> None:
    try:
        N.withdraw_note(ex, viewer, n.note_id, n.version, page=page)
    except (EditConflict, *_REFUSALS) as e:
        _set_message(key, "error", f"Ikke trukket tilbage: {e}")
        return
    _set_message(key, "ok", "Trukket tilbage (den findes stadig i historikken).")


def _set_open(key: str, open_: bool) -> None:
    """Open the new-note form, or close it and forget what it held."""
    if open_:
        st.session_state[f"{key}__open"] = True
    else:
        _forget(
            f"{key}__open",
            f"{key}_tekst",
            f"{key}_ansvarlig",
            f"{key}_frist",
            f"{key}_status",
            f"{key}_type",
            f"{key}__msg",
        )


# --- forms -------------------------------------------------------------------------------------


def _decision_inputs(key: str, *, status: bool = True) -> None:
    st.text_input("Ansvarlig (beslutning)", key=f"{key}_ansvarlig", max_chars=200)
    if f"{key}_frist" not in st.session_state:  # no date until one is chosen
        st.session_state[f"{key}_frist"] = None
    st.date_input("Frist (beslutning)", key=f"{key}_frist", format="DD.MM.YYYY")
    if status:  # a new decision starts "ikke startet"
        st.selectbox(
            "Status (beslutning)", STATUSES, format_func=STATUS_LABELS.__getitem__, key=f"{key}_status"
        )


def _new_form(
    ex: Extract,
    viewer: Viewer,
    subject: Subject,
    period: date,
    kinds: Sequence[N.NoteKind],
    key: str,
    page: str,
) -> None:
    label = " eller ".join(KIND_LABELS[k].lower() for k in kinds)
    if not st.session_state.get(f"{key}__open"):  # the form only once asked for: a light page
        st.button(f"Skriv {label}", key=f"{key}_skriv", icon="✏️", on_click=_set_open, args=(key, True))
        return
    with st.form(key=f"{key}_form"):
        if len(kinds) > 1:
            st.radio("Type", kinds, format_func=KIND_LABELS.__getitem__, key=f"{key}_type", horizontal=True)
        else:
            st.session_state[f"{key}_type"] = kinds[0]
        st.text_area("Tekst", key=f"{key}_tekst", max_chars=N.MAX_TEXT)
        if "decision" in kinds:
            st.caption("En beslutning skal have en ansvarlig og en frist.")
            _decision_inputs(key, status=False)
        st.form_submit_button(
            "Gem", key=f"{key}_gem", on_click=_add, args=(ex, viewer, subject, period, key, page)
        )
    st.button("Luk uden at gemme", key=f"{key}_luk", on_click=_set_open, args=(key, False))


_EDIT_FIELDS = ("_base", "_tekst", "_ansvarlig", "_frist", "_status", "__open")


def _open_edit(n: NoteVersion, key: str) -> None:
    """Begin an edit from the version shown now (the version a save is based on)."""
    state = st.session_state
    state[f"{key}__open"] = True
    state[f"{key}_base"] = n.version
    state[f"{key}_tekst"] = n.text
    if n.kind == "decision":
        state[f"{key}_ansvarlig"] = n.owner or ""
        state[f"{key}_frist"] = n.due
        state[f"{key}_status"] = n.status or "ikke_startet"


def _close_edit(key: str) -> None:
    _forget(*(key + f for f in _EDIT_FIELDS), f"{key}__msg")


def _edit_form(ex: Extract, viewer: Viewer, n: NoteVersion, key: str, page: str, label: str = "Ret") -> None:
    """A "Ret" button; the form only once it is pressed (a page with many notes stays light).
    It stays open, with the typed text, until saved or closed."""
    if not st.session_state.get(f"{key}__open"):
        st.button(label, key=f"{key}_ret", icon="📝", on_click=_open_edit, args=(n, key))
        return
    with st.form(key=f"{key}_form"):
        st.text_area("Tekst", key=f"{key}_tekst", max_chars=N.MAX_TEXT)
        if n.kind == "decision":
            _decision_inputs(key)
        st.form_submit_button(
            "Gem ny version", key=f"{key}_gem", on_click=_edit, args=(ex, viewer, n, key, page)
        )
    st.button("Luk uden at gemme", key=f"{key}_luk", on_click=_close_edit, args=(key,))


def _history(ex: Extract, viewer: Viewer, n: NoteVersion, page: str) -> None:
    if n.version == 1:
        return
    with st.expander(f"Historik ({n.version} versioner)", icon="🕘"):
        for v in reversed(N.note_history(ex, viewer, n.note_id, page=page)):
            withdrawn = " · trukket tilbage" if v.withdrawn else ""
            st.caption(f"Version {v.version} · {md_escape(v.saved_by_name)} · {when(v.saved_at)}{withdrawn}")
            st.text(v.text)


# --- the components ----------------------------------------------------------------------------


def notes_panel(
    ex: Extract,
    viewer: Viewer,
    subject: Subject,
    period: date,
    *,
    key: str,
    page: str,
    kinds: Sequence[N.NoteKind] = ("explanation", "decision"),
    previous: Sequence[N.NoteKind] | None = None,
    writable: bool = True,
) -> None:
    """The notes on one subject for one period (the extract's as_of), the latest earlier ones
    as "fra sidste møde" (of the kinds in `previous`, default all `kinds`), and for writers a
    form to write, edit (history kept) or withdraw. `key`: a prefix unique on the page
    (letters, digits, _)."""
    try:
        current = N.notes_for(ex, viewer, subject, period, page=page)
        earlier = [
            N.previous_note(ex, viewer, subject, period, k, page=page)
            for k in (kinds if previous is None else previous)
        ]
    except AccessDenied:
        return  # nothing to show: the figure itself is not shown either
    except StorageError as e:
        st.warning(f"Kommentarerne kan ikke hentes: {md_escape(e)}", icon="⚠️")
        return
    write = writable and N.can_write(ex, viewer, subject)
    with st.container(key=f"{key}_noter"):
        for n in current:
            note_key = f"{key}_{n.note_id}"
            show_note(n)
            _history(ex, viewer, n, page)
            if write:
                _message(note_key)
                if st.session_state.get(f"{note_key}__open"):
                    _edit_form(ex, viewer, n, note_key, page)
                else:
                    with st.container(horizontal=True, gap="small"):
                        _edit_form(ex, viewer, n, note_key, page)
                        st.button(
                            "Træk tilbage",
                            key=f"{note_key}_traek",
                            icon="↩️",
                            on_click=_withdraw,
                            args=(ex, viewer, n, note_key, page),
                            help="Noten skjules her; alle versioner bevares i historikken.",
                        )
        if not current:
            st.caption(NO_NOTES)
        for p in earlier:
            if p is not None:
                show_note(p, f"{PREVIOUS} ({fmt_date(p.period)}):")
        if write:
            _message(key)
            _new_form(ex, viewer, subject, period, kinds, key, page)


def open_decisions_panel(
    ex: Extract, viewer: Viewer, unit_id: str, before: date, *, key: str, page: str, labels: dict[str, str]
) -> None:
    """The decisions of earlier meetings that are not done, with a status update (a new
    version of the decision) for writers. `labels`: subject id → its name, where known."""
    try:
        found = N.open_decisions(ex, viewer, unit_id, before)
    except AccessDenied:
        return
    except StorageError as e:
        st.warning(f"Beslutningerne kan ikke hentes: {md_escape(e)}", icon="⚠️")
        return
    if not found:
        st.caption("Ingen åbne beslutninger fra tidligere møder.")
        return
    for n in found:
        what = labels.get(n.subject_id, n.subject_id)
        st.markdown(f"**{md_escape(what)}** · mødet {fmt_date(n.period)}")
        show_note(n)
        if N.can_write(ex, viewer, n.subject):
            note_key = f"{key}_{n.note_id}"
            _message(note_key)
            _edit_form(ex, viewer, n, note_key, page, "Opdatér status eller ret")


# --- action status ----------------------------------------------------------------------------


def _set_status(
    ex: Extract, viewer: Viewer, action_id: str, unit_id: str, current: int | None, card: Scorecard, key: str
) -> None:
    state = st.session_state
    base = state.get(f"{key}_base", current)
    try:
        N.set_action_status(
            ex,
            viewer,
            action_id,
            unit_id,
            state.get(f"{key}_status") or "ikke_startet",
            base,
            on=state.get(f"{key}_dato"),
            note=state.get(f"{key}_note") or "",
            scorecard=card,
        )
    except EditConflict as e:
        state[f"{key}_base"] = e.version
        _set_message(key, "error", f"Ikke gemt: {e}")
        return
    except _REFUSALS as e:
        _set_message(key, "error", f"Ikke gemt: {e}")
        return
    _forget(f"{key}_base", f"{key}_note")
    _set_message(key, "ok", "Status gemt.")


def action_status_panel(
    ex: Extract, viewer: Viewer, action: Action, unit_id: str, card: Scorecard, *, key: str
) -> None:
    """An action's status in the unit (ikke startet / i gang / gennemført) with its dated
    updates, and for writers a form for a new update."""
    try:
        history = N.action_history(ex, viewer, action.id, unit_id)
    except AccessDenied:
        return
    except StorageError as e:
        st.warning(f"Status kan ikke hentes: {md_escape(e)}", icon="⚠️")
        return
    latest = history[-1] if history else None
    if latest is None:
        st.caption(
            f"{STATUS_ICONS['ikke_startet']} Status: {STATUS_LABELS['ikke_startet']} (ingen opdatering endnu)"
        )
    else:
        for s in reversed(history):
            prefix = "Status" if s is latest else "Tidligere"
            st.caption(
                f"{STATUS_ICONS[s.status]} {prefix}: **{STATUS_LABELS[s.status]}** pr. {fmt_date(s.status_on)} · "
                f"{md_escape(s.saved_by_name)} · {when(s.saved_at)}"
            )
            if s.note:
                st.text(s.note)
    if not action.id or not N.can_write_unit(ex, viewer, unit_id):
        return
    _message(key)
    with st.popover("Opdatér status", icon="🔄"), st.form(key=f"{key}_form", border=False):
        st.selectbox(
            "Status",
            STATUSES,
            index=STATUSES.index(latest.status) if latest else 0,
            format_func=STATUS_LABELS.__getitem__,
            key=f"{key}_status",
        )
        st.date_input("Dato", value=local_today(), key=f"{key}_dato", format="DD.MM.YYYY")
        st.text_input("Note (valgfri)", key=f"{key}_note", max_chars=2000)
        st.form_submit_button(
            "Gem status",
            key=f"{key}_gem",
            on_click=_set_status,
            args=(ex, viewer, action.id, unit_id, None if latest is None else latest.version, card, key),
        )


SUBJECT_WORDS = {"kpi": "Nøgletal", "account": "Konto", "case": "Sag"}


def meeting_overview(
    ex: Extract, viewer: Viewer, unit_id: str, period: date, *, page: str, labels: dict[str, str]
) -> None:
    """Every note of this meeting on the unit and its child units, read-only: what the
    meeting pack carries (case notes only where the viewer may see the case)."""
    try:
        found = N.meeting_notes(ex, viewer, unit_id, period, page=page)
    except AccessDenied:
        return
    except StorageError as e:
        st.warning(f"Kommentarerne kan ikke hentes: {md_escape(e)}", icon="⚠️")
        return
    if found.height == 0:
        st.caption("Der er ingen kommentarer eller beslutninger til dette møde endnu.")
        return
    tree = org_tree(ex)
    for r in found.iter_rows(named=True):
        what = labels.get(r["subject_id"], r["subject_id"])
        st.markdown(
            f"{SUBJECT_WORDS[r['subject_kind']]} **{md_escape(what)}** · {md_escape(tree.label(r['unit_id']))}"
        )
        show_note(NoteVersion(**r))


def kpi_comments(
    ex: Extract, viewer: Viewer, unit_id: str, period: date, kpis: Sequence[tuple[str, str]], *, page: str
) -> None:
    """Read-only: the notes of this period on the given KPIs (id, name) of the unit, and for a
    KPI without one the latest from an earlier meeting."""
    shown = 0
    try:
        for kpi_id, name in kpis:
            subject = Subject.kpi(kpi_id, unit_id)
            current = N.notes_for(ex, viewer, subject, period, page=page)
            earlier = None if current else N.previous_note(ex, viewer, subject, period, page=page)
            if not current and earlier is None:
                continue
            shown += 1
            st.markdown(f"**{md_escape(name)}**")
            for n in current:
                show_note(n)
            if earlier is not None:
                show_note(earlier, f"{PREVIOUS} ({fmt_date(earlier.period)}):")
    except AccessDenied:
        return
    except StorageError as e:
        st.warning(f"Kommentarerne kan ikke hentes: {md_escape(e)}", icon="⚠️")
        return
    if not shown:
        st.caption("Ingen forklaringer eller beslutninger på nøgletallene til dette udtræk.")
