"""nnsym's mark in the SVG and PNG drawings of `nnsym graph`.

A drawing has no room for the `//` header of a DOT file, so it carries the same
facts in its own syntax: an XML comment after the SVG's XML declaration, a
tEXt chunk after the PNG's IHDR. Both record a sha256 of the drawing without
the mark, so that drawing again replaces nnsym's own file without --force, and
a drawing edited since, or any other file, is still refused.
"""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from pathlib import Path

from nnsym import __version__
from nnsym.errors import NnsymError
from nnsym.pipeline.header import HEADER_MARK
from nnsym.pipeline.write import Existing, read_head

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The signature and the IHDR chunk (length, type, 13 bytes of data, CRC).
_PNG_IHDR_END = len(_PNG_SIGNATURE) + 4 + 4 + 13 + 4
_PNG_KEYWORD = b"Comment"
_MARK = re.compile(
    rf"{HEADER_MARK} \S+ \(nnsym graph\); sha256: ([0-9a-f]{{64}})".encode("ascii")
)


def _mark_text(digest: str) -> str:
    return f"{HEADER_MARK} {__version__} (nnsym graph); sha256: {digest}"


def mark_drawing(data: str | bytes, suffix: str) -> bytes:
    """The drawing's bytes with nnsym's mark: `data` is SVG text or PNG bytes."""
    if suffix == ".svg":
        text = data if isinstance(data, str) else data.decode("utf-8")
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        line = f"<!-- {_mark_text(digest)} -->\n"
        declaration, newline, rest = text.partition("\n")
        if declaration.startswith("<?xml") and newline:
            return (declaration + newline + line + rest).encode("utf-8")
        return (line + text).encode("utf-8")
    raw = data if isinstance(data, bytes) else data.encode("latin-1")
    if not raw.startswith(_PNG_SIGNATURE):
        raise ValueError("not a PNG image")
    digest = hashlib.sha256(raw).hexdigest()
    payload = _PNG_KEYWORD + b"\0" + _mark_text(digest).encode("ascii")
    chunk = b"tEXt" + payload
    chunk = (
        struct.pack(">I", len(payload)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    )
    return raw[:_PNG_IHDR_END] + chunk + raw[_PNG_IHDR_END:]


def _unmarked(data: bytes) -> tuple[str, bytes] | None:
    # (recorded digest, the drawing without its mark), or None if unmarked.
    if data.startswith(_PNG_SIGNATURE):
        start = _PNG_IHDR_END
        if len(data) < start + 8 or data[start + 4 : start + 8] != b"tEXt":
            return None
        (length,) = struct.unpack(">I", data[start : start + 4])
        end = start + 12 + length
        found = _MARK.search(data[start + 8 : end - 4])
        return None if found is None else (found[1].decode(), data[:start] + data[end:])
    declaration, newline, rest = data.partition(b"\n")
    if not declaration.startswith(b"<?xml"):
        declaration, newline, rest = b"", b"", data
    line, _, body = rest.partition(b"\n")
    found = _MARK.fullmatch(line.strip().removeprefix(b"<!-- ").removesuffix(b" -->"))
    return None if found is None else (found[1].decode(), declaration + newline + body)


def inspect_drawing(path: Path) -> Existing:
    """Classify the file at `path`: missing, nnsym's drawing, edited, or foreign."""
    try:
        head = read_head(path)
    except (FileNotFoundError, NotADirectoryError):
        return Existing.MISSING
    except IsADirectoryError:
        return Existing.FOREIGN
    except OSError as error:
        raise NnsymError(f"cannot read {path}: {error.strerror or error}") from error
    if _MARK.search(head) is None:
        return Existing.FOREIGN  # a large file that is not nnsym's is not read
    try:
        found = _unmarked(path.read_bytes())
    except OSError as error:
        raise NnsymError(f"cannot read {path}: {error.strerror or error}") from error
    if found is None:
        return Existing.FOREIGN
    digest, body = found
    unchanged = hashlib.sha256(body).hexdigest() == digest
    return Existing.GENERATED if unchanged else Existing.EDITED
