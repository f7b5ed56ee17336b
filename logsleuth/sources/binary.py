"""Is the head of a (decompressed) file text worth scanning, or binary?"""

from __future__ import annotations

SNIFF_BYTES = 8192
CONTROL_RATIO = 0.10  # above this share of NUL/control bytes, a file is binary

# Known formats that turn up in evidence bundles next to the logs.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x7fELF", "ELF executable or core dump"),
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"\xca\xfe\xba\xbe", "Java class file"),
    (b"JAVA PROFILE ", "hprof heap dump"),
    (b"FLR\x00", "Java Flight Recorder file"),
    (b"\xac\xed\x00\x05", "Java serialized object"),
    (b"SQLite format 3\x00", "SQLite database"),
    (b"%PDF-", "PDF document"),
    (b"Rar!\x1a\x07", "RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "7z archive"),
)
_UTF16 = (b"\xff\xfe", b"\xfe\xff")
# C0 controls except TAB LF VT FF CR and ESC (ANSI colours are common in logs).
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 11, 12, 13, 27)) + b"\x7f"


def binary_reason(head: bytes) -> str | None:
    """Why ``head`` (the first ~8 KiB) is not a text log; None when it is text.

    A text log with a few NUL bytes (a crashed writer, a preallocated tail) is
    still text: only a share above ``CONTROL_RATIO`` makes it binary.
    """
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return f"binary: {what}"
    if head.startswith(_UTF16):
        return "UTF-16 text is not supported"
    if not head:
        return None
    controls = len(head) - len(head.translate(None, _CONTROL))
    if controls > CONTROL_RATIO * len(head):
        share = 100 * controls / len(head)
        return f"binary: {share:.0f}% NUL or control bytes in the first {len(head)} bytes"
    return None
