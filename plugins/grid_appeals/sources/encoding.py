"""Byte-level reading of landed files: gunzip with a precise truncation error, and text decoding.

Why so strict: a truncated gzip or a file in an unexpected encoding must fail the batch loudly,
naming file and position, instead of loading half a day or mojibake. Encodings are tried in the
contract's order: ``utf-8`` means UTF-8 with or without BOM (``utf-8-sig``, strict), ``gb18030``
covers GBK/GB2312 exports from Windows tools. A file that is valid UTF-8 (with Chinese text) up to
some line and then turns invalid is a *mixed* file — decoding it all as GB18030 would silently
produce mojibake — so its undecodable lines are replaced and flagged for quarantine instead.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

REPLACEMENT = "\ufffd"


class SourceFileError(RuntimeError):
    """A landed file cannot be read at all (truncated, undecodable, empty): the batch fails."""


@dataclass(frozen=True)
class DecodedText:
    """UTF-8 bytes ready for the CSV parser, the encoding found, and whether lines were replaced."""

    data: bytes
    encoding: str
    replaced_lines: int = 0


def read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped if it ends in .gz (multi-member aware, truncation detected)."""
    raw = path.read_bytes()
    if path.suffix != ".gz":
        return raw
    return gunzip(raw, str(path))


def gunzip(raw: bytes, name: str) -> bytes:
    """Decompress every gzip member; raise naming the compressed offset where the stream broke."""
    out: list[bytes] = []
    offset = 0
    produced = 0
    while offset < len(raw):
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            chunk = d.decompress(raw[offset:])
        except zlib.error as exc:
            raise SourceFileError(
                f"{name}: corrupt gzip data at compressed byte {offset} "
                f"(after {produced} decompressed bytes): {exc}") from exc
        out.append(chunk)
        produced += len(chunk)
        if not d.eof:
            lines = sum(c.count(b"\n") for c in out) + 1
            raise SourceFileError(
                f"{name}: truncated gzip — stream ends at compressed byte {len(raw)} without its "
                f"end-of-stream marker (after {produced} decompressed bytes, "
                f"line {lines})")
        consumed = len(raw) - offset - len(d.unused_data)
        offset += consumed
        if not d.unused_data.strip(b"\x00"):
            break
    return b"".join(out)


def _line_of(data: bytes, pos: int) -> int:
    return data.count(b"\n", 0, pos) + 1


def decode(data: bytes, encodings: tuple[str, ...], name: str) -> DecodedText:
    """Decode ``data`` with the first encoding that works strictly; return UTF-8 bytes.

    ``utf-8`` is tried as ``utf-8-sig`` (BOM stripped). If UTF-8 fails after a prefix that is
    valid, non-ASCII UTF-8, the file is treated as UTF-8 with broken lines (see module doc).
    """
    errors: list[str] = []
    for enc in encodings:
        codec = "utf-8-sig" if enc.replace("_", "-").lower() in ("utf-8", "utf8", "utf-8-sig") else enc
        try:
            text = data.decode(codec)
        except UnicodeDecodeError as exc:
            errors.append(f"{enc}: invalid byte(s) {data[exc.start:exc.start + 4]!r} at byte {exc.start} "
                          f"(line {_line_of(data, exc.start)})")
            if codec == "utf-8-sig" and _is_utf8_text_prefix(data[: exc.start]):
                return _replace_bad_utf8_lines(data)
            continue
        if codec == "utf-8-sig":
            body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
            return DecodedText(body, "utf-8-sig" if body is not data else "utf-8")
        return DecodedText(text.encode("utf-8"), enc)
    raise SourceFileError(f"{name}: undecodable with any accepted encoding {list(encodings)}: "
                          + "; ".join(errors))


def _is_utf8_text_prefix(prefix: bytes) -> bool:
    """True if the valid prefix holds multi-byte UTF-8 (real UTF-8 text, not ASCII-only GBK)."""
    return any(b >= 0x80 for b in prefix[-65536:]) or (len(prefix) > 1_000_000 and any(b >= 0x80 for b in prefix))


def _replace_bad_utf8_lines(data: bytes) -> DecodedText:
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    lines = body.split(b"\n")
    bad = 0
    for i, line in enumerate(lines):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            lines[i] = line.decode("utf-8", errors="replace").encode("utf-8")
            bad += 1
    return DecodedText(b"\n".join(lines), "utf-8 (mixed)", replaced_lines=bad)
