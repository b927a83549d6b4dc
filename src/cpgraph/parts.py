"""Temporary ``.part`` files and folders beside their target, created exclusively.

A file written in place and then renamed over its target must be new: opening an existing
name (left by a crash, or a link planted by someone else) would write through it. So each part
gets a random name and is created with ``O_EXCL`` (and ``O_NOFOLLOW``), or ``mkdir``, which
fail rather than reuse anything.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import BinaryIO

_ATTEMPTS = 16


def _part_name(target: Path) -> Path:
    return target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(6)}.part")


def open_part(target: Path) -> tuple[Path, BinaryIO]:
    """A new, empty file beside ``target`` opened for writing, and its path.

    Raises:
        OSError: if it cannot be created.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    for _ in range(_ATTEMPTS):
        part = _part_name(target)
        try:
            descriptor = os.open(part, flags, 0o666)
        except FileExistsError:
            continue
        return part, os.fdopen(descriptor, "wb")
    raise FileExistsError(f"no free temporary name beside {target}")


def make_part_folder(target: Path) -> Path:
    """A new, empty folder beside ``target``.

    Raises:
        OSError: if it cannot be created.
    """
    for _ in range(_ATTEMPTS):
        part = _part_name(target)
        try:
            part.mkdir()
        except FileExistsError:
            continue
        return part
    raise FileExistsError(f"no free temporary name beside {target}")
