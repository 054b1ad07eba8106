"""Styringsoverblik's server: `streamlit run server.py` serves the app (app.py, the router) with
one addition to Streamlit's own server, so that a page switch does not re-download its tables.

Each AgGrid table is a component in an iframe of its own, and Streamlit serves component files
with `Cache-Control: public` but neither a lifetime nor a validator, so every iframe on every page
downloaded the grid's 1.3 MB (gzipped) bundle again and compiled it from scratch. The bundle's
file names carry a content hash (`main.f4bb7ae6.js`): a new version is a new name. Those files
are marked immutable here, so the browser keeps them (and its compiled code) between grids and
pages; HTML files stay `no-cache`, as Streamlit sets them.

At start (the app's lifespan, once the server is built and about to listen) a thread does what
every session's first page needs whoever is looking: `ui.warm` imports the pages' modules and
loads the newest extract while the first browser loads the frontend. (Started earlier, when
this file is imported, the same thread held the GIL while Streamlit built its server: the server
answered a second later and the first page came 1.2 s later, not sooner.)
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import streamlit as st
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# /component/<name>/…/<file>.<8+ hex digits>.(js|css|…): a content-hashed component asset
HASHED_COMPONENT_ASSET = re.compile(r"/component/.+\.[0-9a-f]{8,}\.(?:chunk\.)?(?:js|css|woff2?|svg|png)$")
IMMUTABLE = b"public, max-age=31536000, immutable"


class ImmutableComponentAssets:
    """ASGI middleware: a year's lifetime for content-hashed component assets."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not HASHED_COMPONENT_ASSET.search(scope["path"]):
            await self.app(scope, receive, send)
            return

        async def send_cached(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"]
                message = {**message, "headers": [*headers, (b"cache-control", IMMUTABLE)]}
            await send(message)

        await self.app(scope, receive, send_cached)


@asynccontextmanager
async def warm_at_start(_app: st.App) -> AsyncIterator[None]:
    from ui import warm

    warm.start()
    yield None


app = st.App("app.py", middleware=[Middleware(ImmutableComponentAssets)], lifespan=warm_at_start)
