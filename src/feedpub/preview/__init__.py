"""``feedpub serve``: a preview for writers, as ``hugo server`` is. Adapters only, around the
builder, the build loop and the server the daemon uses; where a change goes:

``site.py``     the preview's config: the site at the local server's address, its output and
                state in a private temporary folder, nobody to notify
``events.py``   the live reload: one server-sent event stream per open page, bounded
``app.py``      the preview's HTTP answers: the site as the server serves it, each HTML page
                with the reload script, nothing cached, and the event stream
``service.py``  the parts put together, started and stopped in order (:class:`Preview`)
"""

from __future__ import annotations

from feedpub.preview.service import Preview
from feedpub.preview.site import local_base_url, preview_config

__all__ = ["Preview", "local_base_url", "preview_config"]
