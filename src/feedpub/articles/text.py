"""Bytes → clean text: encodings, BOMs, binary detection, XML-illegal characters, and the bidi
controls that can disguise a label."""

from __future__ import annotations

import codecs
import re

from feedpub.errors import ArticleError

# Characters XML 1.0 forbids (C0 controls other than tab/LF/CR, surrogates, U+FFFE/U+FFFF),
# plus C1 controls and DEL, which are legal but never intended in prose.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """``text`` without the characters that cannot appear in an XML document."""
    return _XML_ILLEGAL.sub("", text)


# Bidirectional embedding, override and isolate controls: LRE RLE PDF LRO RLO (U+202A-U+202E)
# and LRI RLI FSI PDI (U+2066-U+2069). They reorder how the text after them is shown, so a title
# can read differently from what it is ("Invoice\u202efdp.exe" shows as "Invoiceexe.pdf"). The
# marks LRM, RLM and ALM and the joiners ZWJ and ZWNJ are not matched: emoji sequences, Persian
# and right-to-left titles need them, and they cannot reorder anything.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def without_bidi_controls(text: str) -> str:
    """``text`` without bidi embedding, override and isolate controls (:data:`BIDI_CONTROLS`),
    for short labels a reader shows on their own: titles, category and tag names, author names."""
    return BIDI_CONTROLS.sub("", text)


def line_of(text: str, index: int) -> int:
    """The 1-based line number of character ``index`` in ``text``."""
    return text.count("\n", 0, index) + 1


def decode(data: bytes, path: str) -> tuple[str, list[tuple[int, str]]]:
    """Decode an article file's bytes into text with ``\\n`` line ends and no illegal characters.

    Returns the text and warnings as (line, message). Raises :class:`ArticleError` for files that
    are empty, binary or not in a Unicode encoding.
    """
    warnings: list[tuple[int, str]] = []
    if not data.strip():
        raise ArticleError("empty file", path=path)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as e:
            raise ArticleError(f"invalid UTF-16 (byte {e.start})", path=path) from e
        warnings.append((1, "file is UTF-16; read it, but please save it as UTF-8"))
    else:
        if data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8) :]
        head = data[:8192]
        if b"\x00" in head:
            half = len(head) // 2
            if half >= 4 and max(head[0::2].count(0), head[1::2].count(0)) >= half * 0.6:
                raise ArticleError(
                    "looks like UTF-16 without a byte-order mark; save the file as UTF-8",
                    path=path,
                )
            raise ArticleError("binary file (contains NUL bytes), not an article", path=path)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            line = data.count(b"\n", 0, e.start) + 1
            raise ArticleError(
                f"not valid UTF-8 (byte 0x{data[e.start]:02x} at offset {e.start}); "
                "save the file as UTF-8",
                path=path,
                line=line,
            ) from e
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    match = _XML_ILLEGAL.search(text)
    if match is not None:
        count = len(_XML_ILLEGAL.findall(text))
        warnings.append(
            (
                line_of(text, match.start()),
                f"removed {count} control character(s) that feeds cannot carry "
                f"(first: U+{ord(match.group()):04X})",
            )
        )
        text = _XML_ILLEGAL.sub("", text)
    if not text.strip():
        raise ArticleError("empty file", path=path)
    return text, warnings
