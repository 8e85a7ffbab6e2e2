"""The built-in WebSub hub's subscriptions: topic, callback, secret, lease."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from feedpub.model import Subscription
from feedpub.store.base import StoreBase
from feedpub.store.codec import _iso

SUBSCRIPTIONS_LOCK_KEY = 0x66656564737562  # "feedsub": one subscription change at a time


def _subscription(row: Sequence[Any]) -> Subscription:
    return Subscription(
        id=row[0],
        topic=row[1],
        callback=row[2],
        secret=row[3],
        lease_seconds=row[4],
        expires_at=datetime.fromisoformat(row[5]),
    )


class SubscriptionsStore(StoreBase):
    # -- hub subscriptions ------------------------------------------------------------------

    def subscribers(self, topics: Sequence[str], now: datetime) -> dict[str, list[int]]:
        """topic → ids of its active (unexpired) subscriptions."""
        out: dict[str, list[int]] = {}
        for sid, topic in self._db.rows_in(
            "SELECT id, topic FROM subscriptions WHERE expires_at > ? AND topic IN {in}",
            topics,
            _iso(now),
        ):
            out.setdefault(topic, []).append(sid)
        return out

    def subscriptions_by_id(self, ids: Iterable[int]) -> dict[int, Subscription]:
        """id → subscription, for those of ``ids`` that still exist."""
        return {
            row[0]: _subscription(row)
            for row in self._db.rows_in(
                "SELECT id, topic, callback, secret, lease_seconds, expires_at FROM subscriptions"
                " WHERE id IN {in}",
                sorted(set(ids)),
            )
        }

    def find_subscription(self, topic: str, callback: str) -> Subscription | None:
        row = self._db.execute(
            "SELECT id, topic, callback, secret, lease_seconds, expires_at FROM subscriptions"
            " WHERE topic = ? AND callback = ?",
            (topic, callback),
        ).fetchone()
        return None if row is None else _subscription(row)

    def lock_subscriptions(self) -> None:
        """Inside a transaction: no other one changes subscriptions until it ends, so a check
        of the limits and the insert it allows are one step. (SQLite's ``BEGIN IMMEDIATE``
        does that already; PostgreSQL's READ COMMITTED would let two verifications both see
        room for one more.)"""
        self._db.lock(SUBSCRIPTIONS_LOCK_KEY)

    def subscribe(
        self, topic: str, callback: str, secret: str | None, lease_seconds: int, now: datetime
    ) -> None:
        self._db.execute(
            "INSERT INTO subscriptions (topic, callback, secret, lease_seconds, expires_at,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (topic, callback) DO UPDATE SET"
            " secret = excluded.secret, lease_seconds = excluded.lease_seconds,"
            " expires_at = excluded.expires_at",
            (
                topic,
                callback,
                secret,
                lease_seconds,
                _iso(now + timedelta(seconds=lease_seconds)),
                _iso(now),
            ),
        )

    def unsubscribe(self, topic: str, callback: str) -> None:
        self._db.execute(
            "DELETE FROM subscriptions WHERE topic = ? AND callback = ?", (topic, callback)
        )

    def drop_subscription(self, sid: int) -> None:
        self._db.execute("DELETE FROM subscriptions WHERE id = ?", (sid,))

    def count_subscriptions(self, now: datetime, topic: str | None = None) -> int:
        sql = "SELECT count(*) FROM subscriptions WHERE expires_at > ?"
        args: tuple[str, ...] = (_iso(now),)
        if topic is not None:
            sql += " AND topic = ?"
            args += (topic,)
        return int(self._db.execute(sql, args).fetchone()[0])

    def purge_expired(self, now: datetime) -> int:
        cur = self._db.execute("DELETE FROM subscriptions WHERE expires_at <= ?", (_iso(now),))
        return int(cur.rowcount)

    def subscription_tally(self, now: datetime) -> tuple[int, int, int]:
        """(active, expired, topics with an active one): one pass over the table, which
        ``hub.max_subscriptions`` bounds."""
        row = self._db.execute(
            "SELECT sum(CASE WHEN expires_at > ? THEN 1 ELSE 0 END),"
            " sum(CASE WHEN expires_at <= ? THEN 1 ELSE 0 END),"
            " count(DISTINCT CASE WHEN expires_at > ? THEN topic END) FROM subscriptions",
            (_iso(now), _iso(now), _iso(now)),
        ).fetchone()
        return int(row[0] or 0), int(row[1] or 0), int(row[2] or 0)

    def subscriptions_by_topic(self, now: datetime, limit: int) -> list[tuple[str, int]]:
        """(topic, active subscriptions) of the ``limit`` topics with the most."""
        return [
            (topic, int(count))
            for topic, count in self._db.execute(
                "SELECT topic, count(*) FROM subscriptions WHERE expires_at > ?"
                " GROUP BY topic ORDER BY count(*) DESC, topic LIMIT ?",
                (_iso(now), limit),
            )
        ]
