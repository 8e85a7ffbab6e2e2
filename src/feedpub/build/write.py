"""Writing: what differs on disk is written (atomically, only over feedpub's own files),
files beside the articles are copied, the manifest records are made, and on PostgreSQL the
bytes are kept for standbys."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterator, Sequence
from urllib.parse import quote

from feedpub import __version__
from feedpub.articles.discover import file_beside
from feedpub.articles.media import is_media
from feedpub.build.base import BuilderBase
from feedpub.build.sources import source_chunks
from feedpub.build.values import (
    CLAIMS,
    PROGRESS_EVERY,
    Progress,
    Rendered,
    Wrote,
)
from feedpub.errors import (
    ArticleError,
    OutputError,
    OutputRefused,
)
from feedpub.model import (
    Article,
    OutputRecord,
    Problem,
)
from feedpub.output import (
    matches,
    open_file,
    read_chunks,
    read_file,
    servable,
    sha256,
    stat_file,
    write_file,
    write_stream,
)
from feedpub.output_ownership import may_write
from feedpub.store import State

log = logging.getLogger(__name__)


class WritePhase(BuilderBase):
    def _intact(self, rec: OutputRecord) -> bool:
        """Whether the file of an output record is on disk as recorded."""
        try:
            st = stat_file(self.config.paths.output, rec.relpath)
        except (OSError, OutputError):
            return False
        return st is not None and st.st_size == rec.size and st.st_mtime_ns == rec.mtime_ns

    def _outputs_intact(self, outputs: dict[str, OutputRecord]) -> bool:
        root = self.config.paths.output
        for rec in outputs.values():
            try:
                st = stat_file(root, rec.relpath)
            except (OSError, OutputError):
                return False
            if st is None or st.st_size != rec.size or st.st_mtime_ns != rec.mtime_ns:
                return False
        return bool(outputs)

    def _media_unchanged(
        self, outputs: dict[str, OutputRecord], config_fp: str, wanted: set[str]
    ) -> bool:
        """Whether every published file beside the articles is as it was copied, and every
        file articles link to that is not published is still not there (one added since, or
        back, is published now)."""
        root = str(self.config.paths.articles)
        from feedpub.articles.refs import MAX_MEDIA_BYTES

        for rel in wanted:
            st = publishable(root, rel) if rel not in outputs else None
            if st is not None and st.st_size <= MAX_MEDIA_BYTES:
                return False
        for rec in outputs.values():
            if rec.kind != "media":
                continue
            try:
                st = os.stat(os.path.join(root, rec.relpath))
            except (OSError, ValueError):
                return False
            if rec.fingerprint != self._media_fingerprint(config_fp, rec.relpath, st):
                return False
        return True

    def _fingerprint(
        self, config_fp: str, what: str, articles: Sequence[Article], extra: object = None
    ) -> str:
        blob = json.dumps(
            [
                __version__,
                config_fp,
                what,
                extra,
                [
                    (
                        a.path,
                        a.meta.content_hash,
                        a.id,
                        a.atom_id,
                        a.url,
                        a.slug,
                        a.date.isoformat(),
                    )
                    for a in articles
                ],
            ],
            ensure_ascii=False,
            default=str,
        )
        return hashlib.sha256(blob.encode()).hexdigest()

    def _media_fingerprint(self, config_fp: str, relpath: str, st: os.stat_result) -> str:
        return self._fingerprint(config_fp, "media", [], [relpath, st.st_size, st.st_mtime_ns])

    def _media(
        self,
        wanted: set[str],
        outputs: dict[str, OutputRecord],
        config_fp: str,
        problems: list[Problem],
    ) -> list[Rendered]:
        """The files beside the articles that pages link to, copied to the same path in the
        output folder: read and written again only when the file changed (its size or time)
        or the published copy did. Copied, not linked: editing the file in the articles
        folder never changes a published file in place. Nothing is read here: a file to copy
        is marked ``copy``, and :meth:`_write` streams it, one file and one chunk at a time."""
        src_root = str(self.config.paths.articles)
        out_root = self.config.paths.output
        out: list[Rendered] = []
        for rel in sorted(wanted):
            if not servable(rel) or (rel in outputs and outputs[rel].kind != "media"):
                continue  # (a dotfile; or a path the site itself publishes)
            st = publishable(src_root, rel)
            if st is None:
                continue  # gone (the article's warning says so), hidden, too large...
            fp = self._media_fingerprint(config_fp, rel, st)
            rec = outputs.get(rel)
            if rec is not None and rec.fingerprint == fp:
                try:
                    now_st = stat_file(out_root, rel)
                except (OSError, OutputError):
                    now_st = None
                if (
                    now_st is not None
                    and now_st.st_size == rec.size
                    and now_st.st_mtime_ns == rec.mtime_ns
                ):
                    out.append(
                        Rendered(relpath=rel, data=b"", fingerprint=fp, kind="media", feed_key=None)
                    )
                    continue
            out.append(
                Rendered(
                    relpath=rel, data=b"", fingerprint=fp, kind="media", feed_key=None, copy=True
                )
            )
        return out

    def _publish_bytes(
        self, state: State, changed: list[tuple[str, str, bytes | None]], stale: list[str]
    ) -> None:
        """Keep ``published`` (the bytes behind the manifest) in step with it: what changed,
        what went, and anything the manifest lists without bytes (files published before
        the table existed, or by a build that stopped) read back from the output folder.
        Files beside the articles (``bytes`` None; media, up to 64 MiB) are read back from
        the output folder and stored in pieces, never whole in memory."""
        state.put_published([(p, d, b) for p, d, b in changed if b is not None])
        complete = all(self._publish_chunks(state, p, d) for p, d, b in changed if b is None)
        state.delete_published(stale)
        if state.get("published_complete") is not None and complete:
            return  # every build since the backfill kept it complete (same transaction)
        missing = state.unpublished()
        backfill: list[tuple[str, str, bytes]] = []
        done = 0
        for relpath, digest in sorted(missing.items()):
            if is_media(relpath):
                done += self._publish_chunks(state, relpath, digest)
                continue
            found = read_file(self.config.paths.output, relpath)
            if found is not None and sha256(found[0]) == digest:
                backfill.append((relpath, digest, found[0]))
        state.put_published(backfill)
        done += len(backfill)
        if done:
            log.info("stored the bytes of %d earlier files in the state store", done)
        if done == len(missing):
            state.put("published_complete", "1")
        else:
            state.put("published_complete", None)

    def _publish_chunks(self, state: State, relpath: str, digest: str) -> bool:
        """Store a published file in ``published_chunks``, read back from the output folder
        a chunk at a time. False (nothing stored) when its bytes are not ``digest`` now."""
        with open_file(self.config.paths.output, relpath) as opened:
            if opened is None:
                return False
            hashed = hashlib.sha256()

            def chunks() -> Iterator[bytes]:
                for chunk in read_chunks(opened[0]):
                    hashed.update(chunk)
                    yield chunk

            try:
                state.put_published_chunks(relpath, digest, chunks())
            except OSError:
                hashed.update(b"\0")  # (unreadable: not these bytes)
            if hashed.hexdigest() == digest:
                return True
        state.delete_published([relpath])
        return False

    def _write(
        self,
        state: State,
        rendered: list[Rendered],
        outputs: dict[str, OutputRecord],
        claims: set[str],
        problems: list[Problem],
        *,
        adopt: bool = False,
        progress: Progress | None = None,
    ) -> Wrote:
        """Write what differs on disk. A feed counts as changed (for notifications) when its
        bytes differ from what the manifest says was published: so a crash after writing a
        file but before recording it still notifies on the next build. Also returns
        (relpath, sha256, bytes) of every file whose published bytes changed (bytes None: a
        file beside the articles, copied a chunk at a time and never held whole).

        Only paths the manifest lists (or ``claims``: a build that stopped was writing them,
        or, with ``adopt``, every path) are replaced, and new paths written; a file that is
        there and is not feedpub's is left alone and reported as a problem
        (:func:`feedpub.output_ownership.may_write`). Paths about to be written that the
        manifest does not list are claimed in the state first. A file the folder cannot take (full,
        read-only) stops the build: :class:`OutputError`."""
        root = self.config.paths.output
        written: list[str] = []
        feed_urls: list[str] = []
        records: list[OutputRecord] = []
        changed: list[tuple[str, str, bytes | None]] = []
        todo: list[tuple[Rendered, str, bool, bool]] = []  # (file, sha256, on disk, owned)
        for r in rendered:
            if not r.data and not r.copy:  # fresh: nothing rendered, nothing to write
                continue
            digest = "" if r.copy else sha256(r.data)  # (a copy's: known once copied)
            if not r.copy and matches(root, r.relpath, digest, len(r.data)):
                todo.append((r, digest, True, True))  # (these very bytes are ours too)
                continue
            owned = adopt or r.relpath in outputs or r.relpath in claims
            refusal = may_write(root, r.relpath, owned=owned)
            if refusal is not None:
                path = root / r.relpath
                log.error("%s: not written: %s", path, refusal)
                problems.append(Problem(path=str(path), message=f"not written: {refusal}"))
                continue
            todo.append((r, digest, False, owned))
        new_claims = {r.relpath for r, _, _, _ in todo if r.relpath not in outputs} - claims
        if new_claims:
            claims |= new_claims
            with state.transaction():
                state.put(CLAIMS, json.dumps(sorted(claims), ensure_ascii=False))
        if progress and todo:
            progress("write", 0, len(todo))
        for i, (r, known, on_disk, owned) in enumerate(todo):
            if progress and i and i % PROGRESS_EVERY == 0:
                progress("write", i, len(todo))
            old = outputs.get(r.relpath)
            digest = known
            if not on_disk:
                try:  # a path nobody owned must still be free as the file is put in place
                    if r.copy:
                        digest = self._copy(r.relpath, new=not owned)
                    else:
                        write_file(root, r.relpath, r.data, new=not owned)
                except OutputRefused as e:
                    log.error("%s", e)
                    problems.append(Problem(path=str(e.path), message=f"not written: {e.message}"))
                    continue
                except ArticleError as e:  # (the file beside the articles: unreadable, ...)
                    # (its path in the articles folder, as every article's)
                    problems.append(Problem(path=r.relpath, message=f"not published: {e.message}"))
                    continue
                written.append(r.relpath)
            elif old is None or old.sha256 != digest:
                written.append(r.relpath)  # on disk already, but never recorded
            st = stat_file(root, r.relpath)
            if st is None:  # removed this very moment: absent, so written again next time
                log.warning("%s: vanished as it was written", root / r.relpath)
                continue
            if old is None or old.sha256 != digest:
                changed.append((r.relpath, digest, None if r.copy else r.data))
                if r.kind == "feed":
                    feed_urls.append(self.config.site.base_url + quote(r.relpath))
            records.append(
                OutputRecord(
                    relpath=r.relpath,
                    sha256=digest,
                    fingerprint=r.fingerprint,
                    size=st.st_size,
                    mtime_ns=st.st_mtime_ns,
                    feed_key=r.feed_key,
                    kind=r.kind,
                )
            )
        if progress and todo:
            progress("write", len(todo), len(todo))
        return written, feed_urls, records, changed

    def _copy(self, relpath: str, *, new: bool) -> str:
        """Copy a file beside the articles to the same path in the output folder, streaming
        (by :func:`feedpub.output.write_stream`'s rules); returns its sha256."""
        from feedpub.articles.refs import MAX_MEDIA_BYTES

        chunks = source_chunks(
            str(self.config.paths.articles),
            relpath,
            MAX_MEDIA_BYTES,
            "for a file beside the articles",
        )
        return write_stream(self.config.paths.output, relpath, chunks, new=new)[0]


def publishable(root: str, relpath: str) -> os.stat_result | None:
    """The status of a file beside the articles if it may be published (see
    :func:`~feedpub.articles.discover.file_beside`; its size is checked as it is read)."""
    return file_beside(root, relpath) if servable(relpath) else None


def output_manifest(state: State) -> dict[str, tuple[str, int]]:
    """The output manifest as :func:`feedpub.output_ownership.claim_output` reads it."""
    return {r.relpath: (r.sha256, r.size) for r in state.outputs().values()}
