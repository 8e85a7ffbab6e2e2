"""The admin listener (``[admin]``, off by default): what the daemon owes its operator, on
an address of its own that no reverse proxy routes (loopback by default).

``metrics.py``  ``/metrics``: the Prometheus exposition (the only module that imports
                ``prometheus_client``): counters fed by the hooks of
                :class:`feedpub.metrics.Metrics`, and what the state store holds, read
                at scrape time
``page.py``     ``/status``: :func:`feedpub.status.read_status` as a plain HTML page
``app.py``      the ASGI application: GET and HEAD of those two, 404 elsewhere
"""

from __future__ import annotations

from feedpub.admin.app import AdminApp

__all__ = ["AdminApp"]
