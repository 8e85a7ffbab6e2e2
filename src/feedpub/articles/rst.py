"""reStructuredText articles (``.rst``, Pelican's default format), read with docutils.

As Pelican reads them: the document title (docutils' doctitle transform: a lone top-level
section title, with an overline or not) is the article's title, unless a ``:title:`` field
says otherwise; the fields of the docinfo block right after it (``:date:``, ``:modified:``,
``:category:``, ``:tags:``, ``:summary:``, ``:author:``/``:authors:``, ``:slug:``,
``:status:`` ...) are its metadata, read by the same rules as front matter; the body is what
docutils' HTML5 writer makes of the rest, sanitised like every other body.

docutils reads untrusted text here, so:

* nothing outside the text is read: no ``include``, no ``raw`` (HTML or otherwise, from
  the text, a file or a URL), no ``csv-table`` from a file or URL, no configuration file,
  no image sizes looked up, no syntax highlighter run on code;
* nothing is printed: docutils' messages go to an observer; errors (and content dropped
  because a directive is disabled) become warnings naming the file and the line;
* nothing is left behind: custom roles an article defines (``.. role::``) are forgotten
  after it, so no article changes how the next one reads;
* the cost is bounded. docutils is pure Python and costs tens of microseconds per element
  it builds (the whole file is bounded by ``feeds.max_article_bytes`` and the worker's time
  budget), and three things in it cost more than linear time, which are guarded here:
  removing its messages from the tree (``list.remove`` per message: 20,000 duplicate
  targets took 14 s; done in one pass instead), inline markup in a very long paragraph (the
  rest of the paragraph is copied after every inline element; long ones are read in
  pieces), and nesting (each level copies the lines below it, and deep nesting ends in a
  ``RecursionError``: reported as an :class:`ArticleError`). Lines longer than docutils'
  own limit (10,000 characters) and more than :data:`MAX_EXPLICIT_MARKUP` explicit markup
  blocks (whose garbage costs Python's collector quadratic time) are refused up front.
  :data:`MAX_ELEMENTS` bounds the text blocks and inline elements one article may make.
"""

from __future__ import annotations

import contextlib
import types
from typing import Any

from feedpub.articles.document import ReadDocument, capped
from feedpub.articles.headers import norm_key
from feedpub.errors import ArticleError

LINE_LENGTH_LIMIT = 10_000
"""docutils' own limit on a line (``line_length_limit``), checked first to name the line."""
MAX_ELEMENTS = 300_000
"""Weighted count of what the inline parser may build in one article: each text block
(paragraph, title, list item, table cell) counts :data:`BLOCK_WEIGHT`, each inline element
or run of text one. docutils spends 20 to 60 microseconds and about 1 KB per element, and up
to 500 microseconds per table cell of a list-table: this keeps one article to seconds and
hundreds of megabytes. A 200 KB article of ordinary prose uses about 30,000."""
BLOCK_WEIGHT = 10
MAX_EXPLICIT_MARKUP = 5_000
"""Explicit markup blocks (``.. `` lines: directives, comments, targets, substitution
definitions, footnotes) one article may have. docutils builds a nested state machine for many
of them, and the garbage they leave makes Python's collector take time that grows with the
square of their number: 5,000 substitution definitions took 3 s, 20,000 took 35 s. Real
articles have a few dozen."""
INLINE_PIECE = 16_384
"""Text blocks longer than this are read for inline markup in pieces of about this size, at
line ends (docutils copies the rest of a block after each inline element it finds: a 2 MB
paragraph took 8 s this way, in pieces 1.5 s). Markup across a piece boundary stays text."""
# warnings about content dropped on purpose ("raw" directive disabled., File and URL access
# deactivated; ignoring "csv-table" directive.), which the author should hear of
_REPORTED_WARNINGS = ("disabled", "deactivated")
MAX_MESSAGE_CHARS = 300


class _TooLarge(Exception):
    def __init__(self, line: int | None) -> None:
        super().__init__(line)
        self.line = line


def _pieces(text: str) -> list[str]:
    """``text`` cut after line ends into pieces of at most about :data:`INLINE_PIECE`."""
    out: list[str] = []
    start = 0
    while len(text) - start > INLINE_PIECE:
        cut = text.rfind("\n", start, start + INLINE_PIECE)
        if cut < start:  # one line longer than a piece (lines are under 10,000: never)
            cut = start + INLINE_PIECE - 1
        out.append(text[start : cut + 1])
        start = cut + 1
    out.append(text[start:])
    return out


def _components() -> tuple[Any, Any, Any, Any]:
    """The parser, reader and writer classes, built on first use (docutils loads slowly)."""
    from docutils import nodes
    from docutils.parsers.rst import Parser
    from docutils.parsers.rst.states import Inliner
    from docutils.readers.standalone import Reader
    from docutils.transforms import Transform, universal
    from docutils.writers.html5_polyglot import HTMLTranslator, Writer

    def bounded_inliner() -> Any:
        """docutils' inliner, counting what it builds and reading long blocks in pieces (an
        instance attribute: a subclass would break its pattern set-up, which reads the
        class's own attributes)."""
        inliner = Inliner()
        parse = inliner.parse
        used = [0]

        def bounded_parse(text: str, lineno: int, memo: Any, parent: Any) -> Any:
            used[0] += BLOCK_WEIGHT
            if len(text) <= INLINE_PIECE:
                processed, messages = parse(text, lineno, memo, parent)
            else:
                processed, messages = [], []
                line = lineno
                for piece in _pieces(text):
                    p, m = parse(piece, line, memo, parent)
                    processed += p
                    messages += m
                    line += piece.count("\n")
                    used[0] += len(p)
                    if used[0] > MAX_ELEMENTS:
                        raise _TooLarge(line)
            used[0] += len(processed)
            if used[0] > MAX_ELEMENTS:
                raise _TooLarge(lineno)
            return processed, messages

        inliner.parse = bounded_parse
        return inliner

    class DropMessages(Transform):  # type: ignore[misc]
        """docutils' FilterMessages in one pass: every system message out of the tree (they
        are reported apart), the marks referring to them back to text."""

        default_priority = 870

        def apply(self) -> None:
            document = self.document
            stack = [document]
            while stack:
                node = stack.pop()
                if not any(
                    isinstance(c, nodes.system_message | nodes.problematic) for c in node.children
                ):
                    stack.extend(c for c in node.children if isinstance(c, nodes.Element))
                    continue
                kept = []
                for child in node.children:
                    if isinstance(child, nodes.system_message):
                        for ident in child["ids"]:
                            document.ids.pop(ident, None)
                        continue
                    if isinstance(child, nodes.problematic):
                        text = nodes.Text(child.astext())
                        text.parent = node
                        kept.append(text)
                        continue
                    kept.append(child)
                    if isinstance(child, nodes.Element):
                        stack.append(child)
                node.children = kept
            for section in list(document.findall(nodes.section)):
                if "system-messages" in section["classes"] and len(section) <= 1:
                    section.parent.remove(section)

    class Translator(HTMLTranslator):  # type: ignore[misc]
        def visit_literal(self, node: Any) -> None:
            """Inline literals (````x````) as ``<code>`` (docutils writes a ``<span>``, which
            sanitising would leave as plain text)."""
            if "code" not in node["classes"]:
                node["classes"].append("code")
            super().visit_literal(node)

    class BoundedWriter(Writer):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.translator_class = Translator

        def get_transforms(self) -> list[Any]:
            return [
                DropMessages if t is universal.FilterMessages else t
                for t in super().get_transforms()
            ]

    return Parser, bounded_inliner, Reader, BoundedWriter


_SETTINGS: dict[str, Any] = {
    "file_insertion_enabled": False,  # include, raw :file:/:url:, csv-table :file:/:url:
    "raw_enabled": False,  # the raw directive and role
    "report_level": 5,  # nothing is written to a stream...
    "halt_level": 5,  # ...and no message stops the parse
    "warning_stream": False,
    "_disable_config": True,  # no docutils.conf from the working folder or the environment
    "traceback": True,
    "syntax_highlight": "none",  # Pygments' lexers are not run on untrusted code
    "embed_stylesheet": False,
    "stylesheet_path": "",
    "image_loading": "link",
    "language_code": "en",
    "line_length_limit": LINE_LENGTH_LIMIT,
    "pep_references": False,
    "rfc_references": False,
    "smart_quotes": False,
    "sectsubtitle_xform": False,
    "doctitle_xform": True,
    "docinfo_xform": True,
    "id_prefix": "",
}


def _check_lines(text: str, path: str) -> None:
    """Refuse, before docutils sees it, a line over :data:`LINE_LENGTH_LIMIT` and more than
    :data:`MAX_EXPLICIT_MARKUP` explicit markup blocks, naming the line."""
    explicit = 0
    for number, line in enumerate(text.split("\n"), start=1):
        if len(line) > LINE_LENGTH_LIMIT:
            raise ArticleError(
                f"a line of {len(line):,} characters; reStructuredText lines may have at "
                f"most {LINE_LENGTH_LIMIT:,}",
                path=path,
                line=number,
            )
        if line[:1] == "." or line[:1].isspace():
            stripped = line.lstrip()
            if stripped.startswith("..") and stripped[2:3] in ("", " ", "\t"):
                explicit += 1
                if explicit > MAX_EXPLICIT_MARKUP:
                    raise ArticleError(
                        f"more than {MAX_EXPLICIT_MARKUP:,} explicit markup blocks (directives, "
                        "comments, targets, substitution definitions, footnotes); split the "
                        "article",
                        path=path,
                        line=number,
                    )


def _line_in_traceback(tb: types.TracebackType | None) -> int | None:
    """Where the block docutils was reading when it failed starts: the first line of the
    innermost state machine's input (nested blocks each have their own machine)."""
    from docutils.statemachine import StateMachine

    line = None
    while tb is not None:
        machine = tb.tb_frame.f_locals.get("self")
        if isinstance(machine, StateMachine) and machine.input_lines is not None:
            with contextlib.suppress(TypeError, ValueError, AttributeError):
                line = int(machine.input_offset) + 1
        tb = tb.tb_next
    return line


def _field_lines(text: str, names: set[str]) -> dict[str, int]:
    """The first line on which each field (``:name: value``) appears."""
    found: dict[str, int] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.lstrip()
        if not stripped.startswith(":"):
            continue
        end = stripped.find(":", 1)
        if end > 1:
            key = norm_key(stripped[1:end])
            if key in names and key not in found:
                found[key] = number
                if len(found) == len(names):
                    break
    return found


def _docinfo(document: Any) -> dict[str, Any]:
    """Pelican's reading of the docinfo block: a field's body as text, an author list as a
    list of names, a bibliographic field (date, author, status...) as text."""
    from docutils import nodes

    fields: dict[str, Any] = {}
    for docinfo in document.findall(nodes.docinfo):
        for element in docinfo.children:
            if isinstance(element, nodes.field) and len(element) == 2:
                name, value = element[0].astext(), element[1].astext()
            elif isinstance(element, nodes.authors):
                name, value = "authors", [a.astext() for a in element.children]
            else:
                name, value = element.tagname, element.astext()
            fields.setdefault(norm_key(name), value)
    return fields


def read_rst(text: str, path: str) -> ReadDocument:
    """A reStructuredText document → its fields, title and body HTML (not yet sanitised).

    Raises :class:`ArticleError` when docutils cannot read it within the bounds above."""
    _check_lines(text, path)
    from docutils import frontend, io, nodes, utils
    from docutils.parsers.rst import roles

    parser_class, make_inliner, reader_class, writer_class = _components()
    settings = frontend.get_default_settings(parser_class, reader_class, writer_class)
    for key, value in _SETTINGS.items():
        setattr(settings, key, value)
    messages: list[Any] = []
    saved_roles = dict(roles._roles)
    try:
        document = utils.new_document(path, settings)
        document.reporter.attach_observer(messages.append)
        parser = parser_class(inliner=make_inliner())
        writer = writer_class()
        parser.parse(text, document)
        document.transformer.populate_from_components((reader_class(parser=parser), parser, writer))
        document.transformer.apply_transforms()
        writer.write(document, io.StringOutput(encoding="unicode"))
        writer.assemble_parts()
        parts = writer.parts
    except _TooLarge as e:
        raise ArticleError(
            f"more reStructuredText than one article may hold: over {MAX_ELEMENTS:,} "
            "paragraphs, table cells and inline elements (weighted); split the article",
            path=path,
            line=e.line,
        ) from None
    except RecursionError as e:
        raise ArticleError(
            "reStructuredText nested too deeply (block quotes, lists or directives inside "
            "each other, about a hundred levels); not published",
            path=path,
            line=_line_in_traceback(e.__traceback__),
        ) from None
    except ArticleError:
        raise
    except Exception as e:  # a docutils failure on odd input: this file's problem only
        raise ArticleError(
            f"reStructuredText could not be read: {type(e).__name__}: {e}",
            path=path,
            line=_line_in_traceback(e.__traceback__),
        ) from e
    finally:
        roles._roles.clear()
        roles._roles.update(saved_roles)

    fields = _docinfo(document)
    lines = _field_lines(text, set(fields))
    title_node = next(iter(document.findall(nodes.title)), None)
    if "title" not in fields and title_node is not None and title_node.parent is document:
        fields["title"] = title_node.astext()
        if title_node.line:
            lines["title"] = max(1, int(title_node.line) - 1)  # (docutils: its underline)
    notes: list[tuple[int | None, str]] = []
    for message in messages:
        level = message.get("level", 0)
        text_of = " ".join((message.children[0] if message.children else message).astext().split())[
            :MAX_MESSAGE_CHARS
        ]
        if level >= 3 or (level == 2 and any(w in text_of for w in _REPORTED_WARNINGS)):
            line = message.get("line")
            notes.append((int(line) if line else None, f"reStructuredText: {text_of}"))
    body = str(parts.get("html_subtitle") or "") + str(parts.get("body") or "")
    return ReadDocument(
        fields=fields,
        lines=lines,
        body_html=body,
        body_line=1,
        body_is_source=False,
        notes=capped(notes),
    )
