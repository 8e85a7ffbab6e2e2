"""feedpub: a folder of articles in, Atom, RSS and JSON feeds out."""

from __future__ import annotations

__version__ = "0.1.0.dev0"

__all__ = ["__version__"]
