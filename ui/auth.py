"""Who is looking, and the audit trail of what they were shown.

Identity, in this order:
1. `[auth]` configured in Streamlit secrets: the user logs in with `st.login()` (OIDC) and
   their email (`st.user.email`) is looked up in `employees.email` (case-insensitive,
   employed at the extract's as_of). Not logged in: a login page. Logged in but unknown:
   "Ingen adgang" naming the email (and the refusal is logged).
2. No `[auth]`, a synthetic extract (manifest `"synthetic": true`) and demo mode not
   switched off (env STYRING_DEMO=0): the visitor picks whom to "vis som", under a DEMO
   banner. The default is the head of the top-most unit. The choice is deliberately not
   bound to the URL: an identity must never come from a link (a copied link would
   otherwise carry the sender's persona), and links stay comparable across personas.
3. Otherwise: "Ingen adgang – login er ikke sat op", nothing else. A real extract can
   never be seen in demo mode, whatever the settings say.

Pages that show or download case-level rows call `audit_view` / `audit_download`;
refusals call `audit_denied` (or `show_denied`, which also says "Ingen adgang").
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Protocol

import polars as pl
import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from metrics.access import ROLE_LABELS, AccessDenied, Viewer, viewer_for_email, viewer_for_employee
from metrics.audit import Action, AuditEvent, append
from metrics.extract import Extract
from metrics.org import org_tree
from metrics.staff import employed_on
from metrics.storage import StorageError
from ui.export import DownloadRefused
from ui.fmt import URL_ECHO_MAX, fmt_date, md_escape


class PageContext(Protocol):
    """What the audit helpers need of ui.context.PageContext (which imports this module)."""

    @property
    def ex(self) -> Extract: ...

    @property
    def viewer(self) -> Viewer: ...


P_VIEW_AS = "vis_som"
DEMO_ENV = "STYRING_DEMO"
DEMO_VALUES = {"1": True, "0": False}  # README and docs/auth.md; unset means "1"


class SettingError(RuntimeError):
    """A setting holds a value the documentation does not allow: the app refuses to start."""


def demo_setting() -> bool:
    """STYRING_DEMO: exactly "1" (default, demo on synthetic extracts) or "0" (off)."""
    raw = os.environ.get(DEMO_ENV)
    if raw is None:
        return True
    if raw not in DEMO_VALUES:
        raise SettingError(f"{DEMO_ENV} skal være 1 eller 0, ikke {raw[:40]!r}.")
    return DEMO_VALUES[raw]


# --- settings -------------------------------------------------------------------------


def _auth_section() -> Mapping[str, object]:
    try:
        section = st.secrets.get("auth")
    except (StreamlitSecretNotFoundError, FileNotFoundError):
        return {}
    return section if isinstance(section, Mapping) else {}


def login_providers() -> list[str | None]:
    """The providers to offer: None for a default `[auth]` provider, names for `[auth.<name>]`."""
    section = _auth_section()
    if "client_id" in section:
        return [None]
    return [k for k, v in section.items() if isinstance(v, Mapping) and "client_id" in v]


def auth_configured() -> bool:
    return bool(login_providers())


def demo_enabled(ex: Extract) -> bool:
    """Demo ("vis som") only for synthetic extracts; the setting can switch it off, never on."""
    return ex.manifest.synthetic is True and demo_setting()


# --- who is looking -------------------------------------------------------------------


def login_gate() -> bool:
    """True if the page may go on to load data. With login configured and nobody logged
    in, shows the login page and returns False (call it before anything else is drawn)."""
    if auth_configured() and not st.user.get("is_logged_in"):
        _login_page()
        return False
    return True


def current_viewer(ex: Extract) -> Viewer | None:
    """The viewer for this session, or None after a clear "ingen adgang" / login page."""
    if auth_configured():
        return _login_viewer(ex)
    if demo_enabled(ex):
        return _demo_viewer(ex)
    st.error("Ingen adgang – login er ikke sat op.")
    return None


def _login_page() -> None:
    st.title("Styringsoverblik")
    st.info("Log ind med din kommunale konto for at se dashboardet.")
    providers = login_providers()
    for provider in providers:
        label = "Log ind" if provider is None or len(providers) == 1 else f"Log ind med {provider}"
        if st.button(label, type="primary", key=f"auth_login_{provider or 'default'}"):
            st.login() if provider is None else st.login(provider)


def _logout_button() -> None:
    if st.sidebar.button("Log ud", key="auth_logout"):
        st.logout()


def _login_viewer(ex: Extract) -> Viewer | None:
    if not st.user.get("is_logged_in"):
        _login_page()
        return None
    raw = st.user.get("email")
    email = str(raw).strip() if raw else ""
    if _unverified(st.user.get("email_verified")):
        st.error(
            "Ingen adgang: identitetsudbyderen har ikke bekræftet e-mailadressen "
            f"{md_escape(email) if email else ''}. Kontakt IT-support."
        )
        audit_denied(
            ex,
            None,
            current_page(),
            f"login {email or '(uden e-mail)'} (e-mail ikke bekræftet)",
            email=email or None,
        )
        _logout_button()
        return None
    viewer = viewer_for_email(ex, email) if email else None
    if viewer is None:
        who = md_escape(email) if email else "din konto (identitetsudbyderen sendte ingen e-mail)"
        st.error(
            f"Ingen adgang: {who} er ikke ansat i {md_escape(ex.manifest.municipality)} "
            f"ifølge udtrækket {fmt_date(ex.as_of)}. Kontakt din leder, hvis det er forkert."
        )
        audit_denied(ex, None, current_page(), f"login {email or '(uden e-mail)'}", email=email or None)
        _logout_button()
        return None
    st.sidebar.caption(f"Logget ind som {md_escape(viewer.name)} · {_role_unit(ex, viewer)}")
    _logout_button()
    return viewer


def _unverified(claim: object) -> bool:
    """email_verified sent and not true (some providers send the string "false")."""
    if claim is None:
        return False
    if isinstance(claim, str):
        return claim.strip().lower() != "true"
    return claim is not True


def _role_unit(ex: Extract, viewer: Viewer) -> str:
    unit = org_tree(ex).label(viewer.unit_id) if viewer.unit_id else "–"
    return f"{ROLE_LABELS[viewer.role]}, {md_escape(unit)}"


def demo_staff(ex: Extract) -> pl.DataFrame:
    """Employees to pick from in demo mode: top of the tree first, heads before staff."""
    tree = org_tree(ex)
    return (
        ex["employees"]
        .filter(employed_on(ex.as_of))
        .with_columns(
            pl.col("unit_id")
            .replace_strict({u: len(tree.path(u)) for u in tree.parent}, default=99)
            .alias("depth"),
            pl.col("role")
            .replace_strict({"leder": 0, "administration": 1, "teamleder": 2, "raadgiver": 3}, default=9)
            .alias("rank"),
        )
        .sort("depth", "rank", "name", "employee_id")
    )


def _demo_viewer(ex: Extract) -> Viewer | None:
    tree = org_tree(ex)
    staff = demo_staff(ex)
    ids = staff["employee_id"].to_list()
    if not ids:
        st.error("Ingen adgang: udtrækket har ingen ansatte at vise dashboardet som.")
        return None
    label = {
        r["employee_id"]: f"{r['name']} – {ROLE_LABELS[r['role']]}, {tree.label(r['unit_id'])}"
        for r in staff.iter_rows(named=True)
    }
    if st.session_state.get(P_VIEW_AS) not in label:  # default: the head of the top-most unit
        st.session_state[P_VIEW_AS] = ids[0]
    chosen = st.sidebar.selectbox(
        "Vis som",
        ids,
        key=P_VIEW_AS,
        persist_state="session",  # keep the chosen persona across page switches
        format_func=label.__getitem__,
        help="Kun i demo med syntetiske data: se dashboardet, som en valgt medarbejder ser det.",
    )
    found = None if chosen is None else viewer_for_employee(ex, chosen)
    viewer = None if found is None else replace(found, demo=True)
    if viewer is None:
        return None
    st.warning(
        f"**DEMO** – syntetiske data. Du ser dashboardet som {md_escape(viewer.name)} "
        f"({_role_unit(ex, viewer)}).",
        icon="🧪",
    )
    return viewer


# --- audit ----------------------------------------------------------------------------


def current_page() -> str:
    """The url path of the page being run ("sag", "raadgiver", …); "" if unknown."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None:
        return ""
    try:
        info = ctx.pages_manager.get_pages().get(ctx.page_script_hash, {})
    except Exception:  # internal API: never let the audit trail break on it
        return ""
    return str(info.get("url_pathname") or info.get("page_name") or "")


def page_titles() -> dict[str, str]:
    """The router's page titles by url path ("sag" → "Sag"), for showing logged page names."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None:
        return {}
    try:
        pages = ctx.pages_manager.get_pages().values()
    except Exception:  # internal API, as in current_page(): fall back to the url paths
        return {}
    return {str(p.get("url_pathname")): str(p.get("page_name")) for p in pages if p.get("url_pathname")}


def _append(event: AuditEvent) -> None:
    """Log, or stop the page: case-level data is never shown without its audit row."""
    try:
        append(event)
    except (StorageError, OSError) as e:
        st.error(f"Revisionsloggen kan ikke skrives ({type(e).__name__}). Sagsdata vises ikke.")
        st.stop()


def _log(ex: Extract, viewer: Viewer | None, page: str, action: Action, case_ids: Sequence[str]) -> None:
    _append(AuditEvent.by(viewer, page, action, [str(c) for c in case_ids], extract_as_of=ex.as_of))


def audit_view(ctx: PageContext, page: str, case_ids: Sequence[str], target: str | None = None) -> None:
    """Call BEFORE rendering case-level rows, with the case ids of every row shown, and in
    `target` the other ids of rows that have no case (e.g. unlinked notifications and their
    children). Writes one audit row per call (each script run that shows rows is a display)."""
    if len(case_ids) or target:
        _append(
            AuditEvent.by(
                ctx.viewer,
                page,
                "view",
                [str(c) for c in case_ids],
                target=target,
                extract_as_of=ctx.ex.as_of,
            )
        )


def audit_download(ctx: PageContext, page: str, case_ids: Sequence[str]) -> None:
    """The on_click of a download button whose file holds case-level rows."""
    if len(case_ids):
        _log(ctx.ex, ctx.viewer, page, "download", case_ids)


def audited_download_data(
    ctx: PageContext,
    page: str,
    case_ids: Sequence[str],
    make: Callable[[], bytes | str],
    target: str | None = None,
) -> Callable[[], bytes | str]:
    """For `st.download_button(data=...)` with deferred generation (a callable, which
    Streamlit calls when the user actually downloads, outside the script run): log the
    download, then build the file. If the log cannot be written, DownloadRefused is raised
    (ui.export.or_refusal turns it into a file that says so) and no case data leaves."""
    ex, viewer, ids = ctx.ex, ctx.viewer, [str(c) for c in case_ids]

    def data() -> bytes | str:
        if ids or target:
            try:
                append(AuditEvent.by(viewer, page, "download", ids, target=target, extract_as_of=ex.as_of))
            except Exception as e:  # whatever the storage raises: no audit row, no file
                raise DownloadRefused(f"audit log not written: {type(e).__name__}") from e
        return make()

    return data


def audit_log_read(ctx: PageContext, page: str, query: str, case_ids: Sequence[str] = ()) -> None:
    """Reading the audit log is itself logged: who searched for what."""
    _append(
        AuditEvent.by(
            ctx.viewer, page, "view", [str(c) for c in case_ids], target=query, extract_as_of=ctx.ex.as_of
        )
    )


def audit_denied(
    ex: Extract,
    viewer: Viewer | None,
    page: str,
    target: str | AccessDenied,
    *,
    case_ids: Sequence[str] = (),
    email: str | None = None,
) -> None:
    """Log a refused attempt. `target` says what was asked for ("sag C-17", "enhed T3", or
    the AccessDenied raised by metrics: a refused case is then also logged by its case id)."""
    ids = [str(c)[:URL_ECHO_MAX] for c in case_ids]
    if isinstance(target, AccessDenied):
        if target.what == "sagen":
            ids.append(target.target[:URL_ECHO_MAX])
        target = f"{target.what} {target.target}"
    target = target[
        : 2 * URL_ECHO_MAX
    ]  # a refusal names what was asked for, but a link can be 60,000 characters
    _append(AuditEvent.by(viewer, page, "denied", ids, target=target, extract_as_of=ex.as_of, email=email))


def show_denied(ex: Extract, viewer: Viewer | None, page: str, target: str | AccessDenied) -> None:
    """Say "Ingen adgang" and log the refusal. The page should st.stop() after it."""
    what = str(target) if isinstance(target, AccessDenied) else f"ingen adgang til {target}"
    st.error(md_escape(what[0].upper() + what[1:] + "."))
    audit_denied(ex, viewer, page, target)


def log_denied_unit(ex: Extract, viewer: Viewer, unit: str) -> None:
    """A URL named a unit the viewer may not see (or that does not exist)."""
    audit_denied(ex, viewer, current_page(), f"enhed {unit}")


def download_audit(
    ctx: PageContext, page: str, case_ids: Sequence[str], target: str | None = None
) -> Callable[[Callable[[], bytes]], Callable[[], bytes]]:
    """For ui.tables.show_table(audit=...): log each download of these case rows when it happens."""

    def wrap(make: Callable[[], bytes]) -> Callable[[], bytes]:
        return audited_download_data(ctx, page, case_ids, make, target)  # type: ignore[return-value]

    return wrap
