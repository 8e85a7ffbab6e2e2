"""The durable outbox: notifications written with the change that causes them, claimed
by senders under a lease, retried, coalesced, and their attempts recorded."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from feedpub.model import OutboxItem, OutboxRow
from feedpub.store.base import StoreBase
from feedpub.store.codec import _iso


class OutboxStore(StoreBase):
    # -- the outbox -------------------------------------------------------------------------

    def enqueue(self, items: Iterable[OutboxItem], now: datetime) -> int:
        """Record notifications to send; one already pending for the same target and topic
        absorbs the new one (that is the coalescing). Returns how many were added."""
        added = 0
        for row in (
            (i.kind, i.target, i.topic, i.subscription_id, _iso(now), _iso(i.not_before))
            for i in items
        ):
            added += self._db.execute(
                "INSERT INTO outbox (kind, target, topic, subscription_id, created_at,"
                " not_before) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                row,
            ).rowcount
        return added

    _OUTBOX_COLUMNS = "id, kind, target, topic, subscription_id, created_at, not_before, attempts"

    @staticmethod
    def _outbox_row(r: Sequence[Any], lease: datetime | None = None) -> OutboxRow:
        return OutboxRow(
            id=r[0],
            kind=r[1],
            target=r[2],
            topic=r[3],
            subscription_id=r[4],
            created_at=datetime.fromisoformat(r[5]),
            not_before=datetime.fromisoformat(r[6]),
            attempts=r[7],
            lease=lease,
        )

    _DUE = "(status = 'pending' AND not_before <= ?) OR (status = 'sending' AND claimed_until <= ?)"

    def due(self, now: datetime, limit: int = 500, *, everything: bool = False) -> list[OutboxRow]:
        """Notifications due by ``now`` (``everything``: all pending ones), and those whose
        sender's lease ran out (a sender that died mid-send); read only, nothing claimed."""
        where = self._DUE
        if everything:
            where = "status = 'pending' OR (status = 'sending' AND claimed_until <= ?)"
        args = ((_iso(now),) if everything else (_iso(now), _iso(now))) + (limit,)
        return [
            self._outbox_row(r)
            for r in self._db.execute(
                f"SELECT {self._OUTBOX_COLUMNS} FROM outbox WHERE {where}"
                " ORDER BY not_before, id LIMIT ?",
                args,
            )
        ]

    def claim_due(
        self, due_by: datetime, now: datetime, until: datetime, limit: int
    ) -> list[OutboxRow]:
        """Take up to ``limit`` notifications to send: pending ones due by ``due_by``, and
        those whose sender's lease ran out by ``now``, each with a lease until ``until``.

        While the lease holds no other sender (another worker) takes them, a change queued
        meanwhile gets a row of its own, and if this sender dies they are due again once it
        runs out. Call inside a :meth:`transaction`: on PostgreSQL the rows are selected
        ``FOR UPDATE SKIP LOCKED`` (concurrent senders skip each other's rows instead of
        waiting or racing for them, and the lock holds until the claim commits); SQLite
        serialises writers, so its ``BEGIN IMMEDIATE`` is just as exclusive. (No
        ``UPDATE ... RETURNING``: SQLite has it only from 3.35, and Python 3.11 may be
        linked to an older one.) Returns the rows won, oldest due first,
        each with its ``lease``: what the sender records about a row later counts only while
        the row is still claimed with that lease (a sender whose lease ran out and whose row
        another took meanwhile changes nothing: fencing)."""
        # two index range scans (outbox_due), each reading about as many rows as it returns:
        # one condition with OR would read and sort every row waiting, for every claim (a
        # fan-out of N rows claimed B at a time would cost N²/B)
        due = [
            *self._db.execute(
                "SELECT id, not_before FROM outbox WHERE status = 'pending' AND not_before <= ?"
                f" ORDER BY not_before LIMIT ?{self._db.skip_locked}",
                (_iso(due_by), limit),
            ),
            *self._db.execute(
                "SELECT id, not_before FROM outbox WHERE status = 'sending'"
                f" AND claimed_until <= ? ORDER BY not_before LIMIT ?{self._db.skip_locked}",
                (_iso(now), limit),
            ),
        ]
        ids = [i for i, _ in sorted(due, key=lambda r: (r[1], r[0]))[:limit]]
        self._db.execute_in(
            "UPDATE outbox SET status = 'sending', claimed_until = ? WHERE id IN {in}",
            ids,
            _iso(until),
        )
        rows = [
            self._outbox_row(r, until)
            for r in self._db.rows_in(
                f"SELECT {self._OUTBOX_COLUMNS} FROM outbox WHERE id IN {{in}}", ids
            )
        ]
        rows.sort(key=lambda r: (r.not_before, r.id))
        return rows

    def make_due(self, now: datetime) -> int:
        """Every pending notification is due at ``now`` (after a restart, or ``feedpub
        notify``: what waited for a retry or a coalescing window goes out at once)."""
        cur = self._db.execute(
            "UPDATE outbox SET not_before = ? WHERE status = 'pending' AND not_before > ?",
            (_iso(now), _iso(now)),
        )
        return int(cur.rowcount)

    _OWNED = " AND status = 'sending' AND claimed_until = ?"

    @classmethod
    def _owned(cls, lease: datetime | None) -> tuple[str, tuple[object, ...]]:
        """The condition (and its argument) that a row is still claimed with ``lease``."""
        if lease is None:
            return "", ()
        return cls._OWNED, (_iso(lease),)

    def requeue(
        self,
        outbox_id: int,
        not_before: datetime,
        *,
        at: datetime,
        note: str | None = None,
        lease: datetime | None = None,
    ) -> None:
        """A claimed notification goes back to the queue, due at ``not_before``: unless a
        later change queued one of its own for the same target and topic meanwhile, which
        then stands for both (at most one pending row per target and topic). With ``lease``,
        only if the row is still claimed with it. Call inside a :meth:`transaction`."""
        owned, owned_args = self._owned(lease)
        # At most one pending row per (kind, target, topic): if a later change queued one
        # (even one committed this instant by a build running beside us, on PostgreSQL), the
        # unique index refuses this one and the newer row stands for both.
        self._db.execute("SAVEPOINT requeue")
        try:
            self._db.execute(
                "UPDATE outbox SET status = 'pending', claimed_until = NULL, not_before = ?"
                f" WHERE id = ?{owned}",
                (_iso(not_before), outbox_id, *owned_args),
            )
        except self._db.integrity_errors:
            self._db.execute("ROLLBACK TO SAVEPOINT requeue")
            reason = "superseded by a newer notification" + (f" ({note})" if note else "")
            self._db.execute(
                "UPDATE outbox SET last_error = ?, status = 'done', claimed_until = NULL,"
                f" finished_at = ? WHERE id = ?{owned}",
                (reason, _iso(at), outbox_id, *owned_args),
            )
        self._db.execute("RELEASE SAVEPOINT requeue")

    def pending_count(self) -> int:
        row = self._db.execute(
            "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')"
        ).fetchone()
        return int(row[0])

    def waiting_by_target(self, limit: int = 50) -> list[dict[str, object]]:
        """The notifications waiting, per kind and target (the ``limit`` targets with the
        most): how many, the most attempts one has had, when the oldest was queued, and
        the newest error among them."""
        groups = self._db.execute(
            "SELECT kind, target, count(*), max(attempts), min(created_at) FROM outbox"
            " WHERE status IN ('pending', 'sending') GROUP BY kind, target"
            " ORDER BY count(*) DESC, kind, target LIMIT ?",
            (limit,),
        ).fetchall()
        found: list[dict[str, object]] = []
        for kind, target, count, attempts, oldest in groups:
            error = self._db.execute(
                "SELECT last_error FROM outbox WHERE status IN ('pending', 'sending')"
                " AND kind = ? AND target = ? AND last_error IS NOT NULL"
                " ORDER BY id DESC LIMIT 1",
                (kind, target),
            ).fetchone()
            found.append(
                {
                    "kind": kind,
                    "target": target,
                    "count": int(count),
                    "attempts": int(attempts or 0),
                    "oldest": oldest,
                    "last_error": error[0] if error else None,
                }
            )
        return found

    def waiting(self) -> dict[str, tuple[int, datetime]]:
        """kind → (notifications waiting to be sent, when the oldest of them was queued).
        Read from the index of waiting rows: the cost grows with the backlog (at most one
        waiting row per kind, target and topic), not with the outbox's history."""
        return {
            kind: (int(count), datetime.fromisoformat(oldest))
            for kind, count, oldest in self._db.execute(
                "SELECT kind, count(*), min(created_at) FROM outbox"
                " WHERE status IN ('pending', 'sending') GROUP BY kind"
            )
        }

    def next_due(self) -> datetime | None:
        """When something is next due: a pending row's time, or a sender's lease running out."""
        row = self._db.execute(
            "SELECT min(CASE WHEN status = 'pending' THEN not_before ELSE claimed_until END)"
            " FROM outbox WHERE status IN ('pending', 'sending')"
        ).fetchone()
        return datetime.fromisoformat(row[0]) if row[0] else None

    def last_sent(self, kind: str, target: str, topic: str | None) -> datetime | None:
        """When this target (and topic, if given) was last notified successfully."""
        sql = (
            "SELECT max(finished_at) FROM outbox WHERE status = 'done' AND kind = ? AND target = ?"
        )
        args: tuple[str, ...] = (kind, target)
        if topic is not None:
            sql += " AND topic = ?"
            args += (topic,)
        row = self._db.execute(sql, args).fetchone()
        return datetime.fromisoformat(row[0]) if row[0] else None

    _ATTEMPT_COLUMNS = (
        ("outbox_id", "int"),
        ("at", "text"),
        ("outcome", "text"),
        ("status", "int"),
        ("error", "text"),
        ("ms", "int"),
    )

    def record_successes(
        self, items: Sequence[tuple[int, int | None, int, datetime | None]], *, at: datetime
    ) -> None:
        """Record successful attempts, (outbox id, status, ms, lease) each, in a few
        statements however many there are: the attempts in one insert, the rows in one
        update per status and lease. A row no longer claimed with its lease is left as it is
        (its attempt is still written down). Call inside a :meth:`transaction`."""
        if not items:
            return
        when = _iso(at)
        self._db.insert_rows(
            "outbox_attempts",
            self._ATTEMPT_COLUMNS,
            [(i, when, "ok", status, None, ms) for i, status, ms, _ in items],
        )
        groups: dict[tuple[int | None, datetime | None], list[int]] = {}
        for i, status, _, lease in items:
            groups.setdefault((status, lease), []).append(i)
        done = (
            "UPDATE outbox SET attempts = attempts + 1, last_status = ?, last_error = NULL,"
            " status = 'done', claimed_until = NULL, finished_at = ? WHERE "
        )
        for (status, lease), ids in groups.items():
            if lease is None:
                self._db.execute_in(done + "id IN {in}", ids, status, when)
            else:
                owned = "status = 'sending' AND claimed_until = ? AND id IN {in}"
                self._db.execute_in(done + owned, ids, status, when, _iso(lease))

    def record_attempt(
        self,
        outbox_id: int,
        *,
        at: datetime,
        outcome: str,
        status: int | None,
        error: str | None,
        ms: int,
        retry_at: datetime | None = None,
        lease: datetime | None = None,
    ) -> None:
        """Record one attempt: ``ok`` and ``failed`` finish the notification; ``retry`` moves
        it to ``retry_at``. With ``lease`` (the claim's), the row changes only if it is still
        claimed with it; the attempt is written down either way. Call inside a
        :meth:`transaction`."""
        owned, owned_args = self._owned(lease)
        self._db.execute(
            "INSERT INTO outbox_attempts (outbox_id, at, outcome, status, error, ms)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (outbox_id, _iso(at), outcome, status, error, ms),
        )
        if outcome == "retry":
            assert retry_at is not None
            cur = self._db.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_status = ?, last_error = ?"
                f" WHERE id = ?{owned}",
                (status, error, outbox_id, *owned_args),
            )
            if cur.rowcount:
                self.requeue(outbox_id, retry_at, at=at, note=error, lease=lease)
        else:
            self._db.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_status = ?, last_error = ?,"
                f" status = ?, claimed_until = NULL, finished_at = ? WHERE id = ?{owned}",
                (
                    status,
                    error,
                    "done" if outcome == "ok" else "failed",
                    _iso(at),
                    outbox_id,
                    *owned_args,
                ),
            )

    def outbox_report(self, recent: int = 10) -> dict[str, object]:
        counts = dict(
            self._db.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall()
        )

        def rows(where: str) -> list[dict[str, object]]:
            return [
                {
                    "kind": r[0],
                    "target": r[1],
                    "topic": r[2],
                    "attempts": r[3],
                    "status": r[4],
                    "last_error": r[5],
                    "at": r[6],
                }
                for r in self._db.execute(
                    "SELECT kind, target, topic, attempts, last_status, last_error,"
                    f" coalesce(finished_at, not_before) FROM outbox WHERE {where}"
                    " ORDER BY id DESC LIMIT ?",
                    (recent,),
                )
            ]

        return {
            "pending": counts.get("pending", 0) + counts.get("sending", 0),
            "done": counts.get("done", 0),
            "failed": counts.get("failed", 0),
            "pending_list": rows("status = 'pending'"),
            "failed_list": rows("status = 'failed'"),
            "recent": rows("status = 'done'"),
        }
