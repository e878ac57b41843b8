"""Item pictures: the type is read from the file's first bytes (never from its name), the size is
bounded, and each picture is stored under a random name of our choosing in the pictures folder.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from mall.errors import N_, Invalid
from mall.settings import get_settings

MAX_BYTES = 1024 * 1024
NAME = re.compile(r"^[A-Za-z0-9_-]{16,64}\.(jpg|png|webp)\Z")
MEDIA_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


def folder() -> Path:
    """Where pictures live: ``pictures/`` in the var folder (``MALL_VAR_DIR``)."""
    return get_settings().var_dir / "pictures"


def kind_of(data: bytes) -> str | None:
    """``"jpg"``, ``"png"`` or ``"webp"`` by the file's magic bytes, else ``None``."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def check(data: bytes) -> str:
    """The picture's extension, or ``Invalid`` with a message for the person uploading."""
    if not data:
        raise Invalid(N_("Please choose a picture to upload."))
    if len(data) > MAX_BYTES:
        raise Invalid(N_("The picture is too large: at most 1 MB, please."))
    kind = kind_of(data)
    if kind is None:
        raise Invalid(N_("Only JPEG, PNG or WebP pictures can be used."))
    return kind


def store(data: bytes, kind: str) -> str:
    """Write the picture under a new random name and return that name."""
    where = folder()
    where.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_urlsafe(18)}.{kind}"
    temporary = where / f".{name}.part"
    temporary.write_bytes(data)
    os.replace(temporary, where / name)
    return name


def path_of(name: str) -> Path | None:
    """The file of a stored picture's name, or ``None`` for any other name."""
    if not NAME.match(name or ""):
        return None
    found = folder() / name
    return found if found.is_file() else None


def remove(name: str | None) -> None:
    if name and NAME.match(name):
        (folder() / name).unlink(missing_ok=True)
