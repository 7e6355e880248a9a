"""``GET /dsr/exports/{id}?expires=…&signature=…``: the download behind the link a person
receives for their access or portability export. The signed link is the credential; a bad,
expired or used-up link gets one and the same 404 whatever the reason."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from identity import clock
from rights.export import DownloadRefused, download


async def export_download(request: Request) -> Response:
    try:
        found = await download(
            request.path_params["export_id"],
            request.query_params.get("expires", ""),
            request.query_params.get("signature", ""),
            clock.now(),
        )
    except DownloadRefused as refused:
        return JSONResponse({"error": str(refused)}, status_code=404)
    return Response(
        found.data,
        media_type=found.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{found.filename}"',
            "Cache-Control": "no-store",
        },
    )
