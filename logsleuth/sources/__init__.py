"""Input discovery and opening: files, directories, globs, archives, compression.

``discover`` turns ``logsleuth scan`` arguments into ``Source`` objects (one per
text file or archive member) plus what it skipped and why; ``Source.open``
gives the decompressed bytes (the scan engine's reader cuts them into whole-record
chunks); ``order_family`` puts rolled files in writing order.
"""

from logsleuth.sources.discovery import discover
from logsleuth.sources.family import family_of, order_family
from logsleuth.sources.values import Discovery, Skipped, Source

__all__ = [
    "Discovery",
    "Skipped",
    "Source",
    "discover",
    "family_of",
    "order_family",
]
