"""``python -m feedpub``."""

from __future__ import annotations

from feedpub.cli import main

raise SystemExit(main())
