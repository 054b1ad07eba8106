"""server.py: content-hashed component files get a year's lifetime; nothing else changes."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from server import IMMUTABLE, ImmutableComponentAssets


def _as_streamlit_serves(request: Request) -> Response:
    """What Streamlit's component route answers: no-cache for HTML, `public` for the rest."""
    path = request.url.path
    if path.endswith("/missing.1234abcd.js"):
        return Response("not found", status_code=404, headers={"Cache-Control": "public"})
    return Response("x", headers={"Cache-Control": "no-cache" if path.endswith(".html") else "public"})


def client() -> TestClient:
    app = Starlette(
        routes=[Route("/{path:path}", _as_streamlit_serves)],
        middleware=[Middleware(ImmutableComponentAssets)],
    )
    return TestClient(app)


def test_hashed_component_bundle_is_cached_for_a_year() -> None:
    c = client()
    r = c.get("/component/st_aggrid.agstyler.AgGrid/static/js/main.f4bb7ae6.js")
    assert r.headers.get_list("cache-control") == [IMMUTABLE.decode()]
    r = c.get("/component/st_aggrid.agstyler.AgGrid/static/css/main.0a1b2c3d.chunk.css")
    assert r.headers["cache-control"] == IMMUTABLE.decode()


def test_html_unhashed_files_other_paths_and_errors_keep_their_header() -> None:
    c = client()
    # the iframe's page must be asked for again: it names the bundle of the installed version
    assert c.get("/component/st_aggrid.agstyler.AgGrid/index.html").headers["cache-control"] == "no-cache"
    # no content hash in the name: a new version would have the same name
    assert c.get("/component/st_aggrid.agstyler.AgGrid/bootstrap.min.css").headers["cache-control"] == "public"
    # not a component file
    assert c.get("/static/js/main.f4bb7ae6.js").headers["cache-control"] == "public"
    # an error is not kept
    assert c.get("/component/x/missing.1234abcd.js").headers["cache-control"] == "public"
