"""Byte-level reading of landed files: gunzip with a precise truncation error, and text decoding.

Why so strict: a truncated gzip or a file in an unexpected encoding must fail the batch loudly,
naming file and position, instead of loading half a day or mojibake. Encodings are tried in the
contract's order: ``utf-8`` means UTF-8 with or without BOM (``utf-8-sig``, strict), ``gb18030``
covers GBK/GB2312 exports from Windows tools. A file that is valid UTF-8 (with Chinese text) up to
some line and then turns invalid is a *mixed* file — decoding it all as GB18030 would silently
produce mojibake — so its undecodable lines are replaced and flagged for quarantine instead.
Likewise a legacy GBK export with a few corrupt bytes: when no encoding decodes the whole file,
the encoding that got furthest is used line by line (corrupt lines replaced and quarantined); the
contract's bad-row threshold then decides whether the file as a whole is acceptable, and a file
in a wrong encoding altogether still fails the batch because nearly every line is bad.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

try:  # Intel ISA-L: the same inflate, ~2x faster than zlib on this hardware (bench_ingest)
    from isal import isal_zlib as _inflate

    _INFLATE_ERRORS: tuple[type[Exception], ...] = (zlib.error, _inflate.error)
except ImportError:  # pragma: no cover - isal is a dependency; zlib is the portable fallback
    _inflate = zlib  # type: ignore[assignment]
    _INFLATE_ERRORS = (zlib.error,)

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
        d = _inflate.decompressobj(16 + zlib.MAX_WBITS)
        try:
            chunk = d.decompress(raw[offset:] if offset else raw)
        except _INFLATE_ERRORS as exc:
            raise SourceFileError(
                f"{name}: corrupt gzip data at compressed byte {offset} "
                f"(after {produced} decompressed bytes): {exc}"
            ) from exc
        out.append(chunk)
        produced += len(chunk)
        if not d.eof:
            lines = sum(c.count(b"\n") for c in out) + 1
            raise SourceFileError(
                f"{name}: truncated gzip — stream ends at compressed byte {len(raw)} without its "
                f"end-of-stream marker (after {produced} decompressed bytes, "
                f"line {lines})"
            )
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
    furthest: tuple[int, str] | None = None
    if data.isascii() and any(_is_utf8(e) for e in encodings):
        return DecodedText(data, "utf-8")  # ASCII is valid UTF-8: no need to decode 60 MB to check
    for enc in encodings:
        codec = "utf-8-sig" if _is_utf8(enc) else enc
        try:
            text = data.decode(codec)
        except UnicodeDecodeError as exc:
            errors.append(
                f"{enc}: invalid byte(s) {data[exc.start : exc.start + 4]!r} at byte {exc.start} "
                f"(line {_line_of(data, exc.start)})"
            )
            if codec == "utf-8-sig" and _is_utf8_text_prefix(data[: exc.start]):
                return _replace_bad_lines(data, "utf-8")
            if furthest is None or exc.start > furthest[0]:
                furthest = (exc.start, codec)
            continue
        if codec == "utf-8-sig":
            body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
            return DecodedText(body, "utf-8-sig" if body is not data else "utf-8")
        return DecodedText(text.encode("utf-8"), enc)
    if furthest is not None and furthest[0] > 0 and furthest[1] != "utf-8-sig":
        decoded = _replace_bad_lines(data, furthest[1])
        if decoded.replaced_lines <= max(1, data.count(b"\n") // 2):
            return decoded
    raise SourceFileError(
        f"{name}: undecodable with any accepted encoding {list(encodings)}: " + "; ".join(errors)
    )


def _is_utf8(encoding: str) -> bool:
    return encoding.replace("_", "-").lower() in ("utf-8", "utf8", "utf-8-sig")


def _is_utf8_text_prefix(prefix: bytes) -> bool:
    """True if complete lines before the failure hold multi-byte UTF-8 (real UTF-8 text).

    Only whole lines count: a GBK header such as 票号 starts with a byte pair that happens to be
    valid UTF-8 (C6 B1), which must not make a GBK file look like broken UTF-8.
    """
    head = prefix[: prefix.rfind(b"\n") + 1]
    return any(b >= 0x80 for b in head[-65536:]) or (len(head) > 1_000_000 and any(b >= 0x80 for b in head))


def _replace_bad_lines(data: bytes, codec: str) -> DecodedText:
    """Decode line by line; lines invalid in ``codec`` keep U+FFFD marks (quarantined later)."""
    utf8 = codec in ("utf-8", "utf-8-sig")
    body = data[3:] if utf8 and data.startswith(b"\xef\xbb\xbf") else data
    lines = body.split(b"\n")
    bad = 0
    for i, line in enumerate(lines):
        try:
            text = line.decode(codec)
        except UnicodeDecodeError:
            text = line.decode(codec, errors="replace")
            if REPLACEMENT not in text:  # the codec substituted something else: mark the line anyway
                text += REPLACEMENT
            bad += 1
        if not utf8 or text is not None:
            lines[i] = text.encode("utf-8") if not utf8 or REPLACEMENT in text else line
    label = "utf-8 (mixed)" if utf8 else f"{codec} (with undecodable lines)"
    return DecodedText(b"\n".join(lines), label, replaced_lines=bad)
