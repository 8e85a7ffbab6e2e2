"""Bytes → clean text: encodings, BOMs, binary detection, XML-illegal characters, and the bidi
controls that can disguise a label."""

from __future__ import annotations

import codecs
import re

from feedpub.errors import ArticleError

# Characters XML 1.0 forbids (C0 controls other than tab/LF/CR, surrogates, U+FFFE/U+FFFF),
# plus C1 controls and DEL, which are legal but never intended in prose.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")


# In UTF-8, every character _XML_ILLEGAL matches is or holds one of these bytes: C0 controls
# and DEL are themselves; C1 controls (U+0080-U+009F) start with 0xC2 (as U+00A0-U+00BF do);
# U+FFFE and U+FFFF start with 0xEF (as U+F000-U+FFFD do). (Surrogates cannot be encoded.)
_SUSPECT_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, 0xC2, 0xEF])
_OTHER_BYTES = bytes(b for b in range(256) if b not in _SUSPECT_BYTES)


def may_be_xml_illegal(utf8: bytes) -> bool:
    """Whether UTF-8 text may hold a character :func:`xml_safe` removes: False when it holds
    none of the bytes such a character is or starts with, found in one pass in C (a regular
    expression takes ten times as long to say so)."""
    return bool(utf8.translate(None, _OTHER_BYTES))


def xml_safe(text: str) -> str:
    """``text`` without the characters that cannot appear in an XML document."""
    if len(text) > 200:  # (shorter text: the regular expression is as quick)
        try:
            if not may_be_xml_illegal(text.encode("utf-8")):
                return text
        except UnicodeEncodeError:  # a lone surrogate
            pass
    return _XML_ILLEGAL.sub("", text)


def collapse_spaces(text: str) -> str:
    """``text`` with each run of whitespace as one space and none at either end (the
    whitespace of ``str.split``, which is that of ``\\s`` in regular expressions)."""
    return " ".join(text.split())


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
    suspect = True  # whether the text may hold characters XML cannot carry
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
        suspect = may_be_xml_illegal(data)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    match = _XML_ILLEGAL.search(text) if suspect else None
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
