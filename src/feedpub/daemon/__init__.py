"""``feedpub run``: keeps the feeds true to the articles folder and serves them. Adapters
only, around the builder; where a change goes:

``service.py``    the parts put together, started and stopped in order (:class:`Daemon`)
``buildloop.py``  the build thread: builds when asked, one at a time, retried on failure
``leading.py``    who builds: one daemon per SQLite store; leader and standbys on PostgreSQL
``health.py``     what ``/healthz`` says
"""

from __future__ import annotations

from feedpub.daemon.service import Daemon

__all__ = ["Daemon"]
