"""Input discovery and opening: files, directories, globs, archives, compression.

``discover`` turns ``logsleuth scan`` arguments into ``Source`` objects (one per
text file or archive member) plus what it skipped and why; ``Source.open``
gives the decompressed bytes; ``read_chunks`` cuts them into whole-line chunks
in a reused buffer; ``order_family`` puts rolled files in writing order.
"""

from logsleuth.sources.chunks import read_chunks
from logsleuth.sources.discovery import discover
from logsleuth.sources.family import family_of, order_family
from logsleuth.sources.values import Chunk, Discovery, Skipped, Source

__all__ = [
    "Chunk",
    "Discovery",
    "Skipped",
    "Source",
    "discover",
    "family_of",
    "order_family",
    "read_chunks",
]
