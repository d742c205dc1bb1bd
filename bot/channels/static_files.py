"""Serving a folder of plain files (the widget, the staff console) from a channel's blueprint.

Only flat names with known extensions are served, so a request can never leave the folder.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, Optional

from sanic import response
from sanic.response import HTTPResponse

SERVED_FILE = re.compile(r"^[A-Za-z0-9_-]+\.(js|css|html|svg|png)$")
CONTENT_TYPES = {
    "js": "application/javascript; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "svg": "image/svg+xml",
    "png": "image/png",
}
BASE_HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}


async def serve_file(folder: Path, filename: str, headers: Optional[Dict[str, str]] = None) -> HTTPResponse:
    """`folder/filename` with its content type, or a JSON 404 for anything else."""
    path = folder / filename
    if not SERVED_FILE.match(filename) or not path.is_file():
        return response.json({"error": "not found"}, status=404)
    return await response.file(path, headers={
        **BASE_HEADERS, **(headers or {}), "Content-Type": CONTENT_TYPES[path.suffix[1:]]})
