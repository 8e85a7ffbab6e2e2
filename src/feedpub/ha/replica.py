"""A standby's copy of what the leader publishes: on another host, its output folder is kept
in step with the output manifest from the bytes the leader put in the state store, so that it
serves (and nginx in front of it serves) what the leader publishes, and can take over with its
folder current."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from feedpub.config import Config
from feedpub.errors import OutputRefused
from feedpub.model import OutputRecord
from feedpub.store import State

log = logging.getLogger(__name__)

_EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


class Replica:
    """The output folder of this daemon, as a standby keeps it."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._replicated: set[str] | None = None  # files this host published (the ledger)

    def output_id(self) -> str:
        """This output folder's identity: the id in its marker (see
        :func:`feedpub.output_ownership.output_id`; the folder was claimed when the daemon started).
        Two daemons (or containers, or NFS clients) writing one folder read the same id."""
        from feedpub.output_ownership import output_id

        return output_id(self.config.paths.output)

    def replicate(
        self,
        state: State,
        records: Mapping[str, OutputRecord],
        published: Mapping[str, str],
        differs: Callable[[Mapping[str, str]], Iterable[str]],
    ) -> None:
        """A standby whose output folder is not the leader's (another host) keeps it in step
        with the manifest, copying the bytes the leader put in the state store: so that it
        serves, and nginx in front of it serves, what the leader publishes, and so that it
        can take over with its folder current. Files published here that the manifest no
        longer lists are removed (see :attr:`_ledger`)."""
        from feedpub.output import matches, remove_file, writing

        leader = state.leader()
        if not leader or leader.get("output") in (None, self.output_id()):
            return  # no leader this moment, or it writes this very folder
        root = self.config.paths.output
        want = [
            relpath
            for relpath in differs(published)
            if not matches(root, relpath, records[relpath].sha256, records[relpath].size)
        ]
        with writing(root):
            copied = self._copy(state, records, want)
        gone = sorted(self.published_here() - set(records))
        for relpath in gone:
            remove_file(root, relpath)
        self.note_published(set(records))
        if copied or gone:
            log.info("copied %d files the leader published; removed %d", copied, len(gone))

    def _copy(self, state: State, records: Mapping[str, OutputRecord], want: list[str]) -> int:
        """Write the leader's bytes of ``want`` into this folder; how many were copied."""
        from feedpub.output import write_file, write_stream

        root = self.config.paths.output
        copied = 0
        for relpath, (digest, data) in sorted(state.published_content(want).items()):
            if digest != records[relpath].sha256:  # it changed meanwhile: next round
                continue
            if data or digest == _EMPTY_SHA256:
                write_file(root, relpath, data)  # (a path the manifest lists)
            else:  # stored in pieces (media): copied a piece at a time, checked as a whole
                try:
                    write_stream(root, relpath, state.published_chunks(relpath), expect=digest)
                except OutputRefused:
                    continue  # (changed meanwhile: next round)
            copied += 1
        return copied

    @property
    def _ledger(self) -> Path:
        """Beside the state path (local to this host, never served): which files of this
        host's output folder feedpub published, so that a standby removes them once they
        are unpublished, and leaves alone any file put there by hand."""
        state = self.config.paths.state
        return state.with_name(state.name + ".published.json")

    def published_here(self) -> set[str]:
        if self._replicated is None:
            import json

            try:
                self._replicated = set(json.loads(self._ledger.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                self._replicated = set()
        return self._replicated

    def note_published(self, relpaths: set[str]) -> None:
        if self.published_here() != relpaths:
            import json

            from feedpub.output import write_atomic

            write_atomic(self._ledger, json.dumps(sorted(relpaths)).encode())
            self._replicated = relpaths
