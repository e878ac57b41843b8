"""QR codes as inline SVG, drawn by ``qrcode``'s ``SvgPathImage`` (no Pillow, no image request).

Drawing one is pure Python and slow for a web request (measured on the 2-core dev machine: about
4-9 ms for a 20-digit pay code, 12-25 ms for an activation URL), so it never runs on the event
loop: ``render`` hands it to a worker thread, and codes that are shown more than once (activation,
printed card) are cached. No page that must be fast (the counter's checkout) draws one.
"""

from __future__ import annotations

import asyncio
import functools
import re

import qrcode
from markupsafe import Markup
from qrcode.image.svg import SvgPathImage

_SIZE_AND_ID = re.compile(r'\s(?:width|height|id)="[^"]*"')


def draw(data: str) -> Markup:
    """``data`` as an ``<svg>`` that scales to its box (no fixed size), error correction M."""
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, image_factory=SvgPathImage
    )
    code.add_data(data)
    code.make(fit=True)
    text = code.make_image().to_string(encoding="unicode")
    text = _SIZE_AND_ID.sub("", text)
    text = text.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1)
    return Markup(text)


@functools.lru_cache(maxsize=256)
def _cached(data: str) -> Markup:
    return draw(data)


async def render(data: str, *, cache: bool = False) -> Markup:
    """Draw in a worker thread, so other requests are not held up meanwhile."""
    return await asyncio.to_thread(_cached if cache else draw, data)
