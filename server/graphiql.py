"""GraphiQL, in development only, from assets that ship inside the package.

Nothing on the page comes from anywhere but this server: React, ReactDOM and GraphiQL are
vendored under ``server/static/graphiql`` (versions and digests in :data:`VENDORED`), each
script and stylesheet carries its Subresource Integrity digest, and the page's content
policy allows scripts, styles, fonts, images and requests from this origin only."""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

ASSETS = Path(__file__).resolve().parent / "static" / "graphiql"

VENDORED = {
    "react.production.min.js": (
        "react@18.2.0 umd/react.production.min.js",
        "sha384-tMH8h3BGESGckSAVGZ82T9n90ztNXxvdwvdM6UoR56cYcf+0iGXBliJ29D+wZ/x8",
    ),
    "react-dom.production.min.js": (
        "react-dom@18.2.0 umd/react-dom.production.min.js",
        "sha384-bm7MnzvK++ykSwVJ2tynSE5TRdN+xL418osEVF2DE/L/gfWHj91J2Sphe582B1Bh",
    ),
    "graphiql.min.js": (
        "graphiql@3.8.3 graphiql.min.js",
        "sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie",
    ),
    "graphiql.min.css": (
        "graphiql@3.8.3 graphiql.min.css",
        "sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM",
    ),
}
"""Each vendored file: the npm package file it is a byte-for-byte copy of (licences beside
them), and that file's published integrity digest. To upgrade, ``npm pack`` the new
versions, copy the same files, and record their digests here."""

_OWN = ("leadvault.js", "leadvault.css")

_MEDIA = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}

PAGE_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    )
)
"""The page's content policy: this origin only, no inline script or style, no eval."""


def integrity(name: str) -> str:
    """The Subresource Integrity value of an asset (sha384, as browsers check it)."""
    digest = hashlib.sha384(_read(name)).digest()
    return "sha384-" + base64.b64encode(digest).decode()


@cache
def _read(name: str) -> bytes:
    return (ASSETS / name).read_bytes()


@cache
def _page() -> str:
    html = (ASSETS / "index.html").read_text(encoding="utf-8")
    for name in (*VENDORED, *_OWN):
        html = html.replace("{" + name + "}", integrity(name))
    return html


def page() -> HTMLResponse:
    return HTMLResponse(_page(), headers={"Content-Security-Policy": PAGE_POLICY})


async def asset(request: Request) -> Response:
    """``/graphiql/{name}``: one of the page's files, or 404 for anything else."""
    name = request.path_params["name"]
    if name not in VENDORED and name not in _OWN:
        return Response(status_code=404)
    return Response(_read(name), media_type=_MEDIA[Path(name).suffix])
