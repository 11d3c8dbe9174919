"""What libsndfile does not tell: whether a WAV's audio ends inside a sample frame.

libsndfile drops a last partial frame without a word, so kk-play counts the
bytes it feeds it and reads the RIFF chunk headers itself.
"""

from __future__ import annotations

import struct

HEAD = 4096  # bytes kept from the start: the chunks before "data" fit in it
PLACEHOLDER_SIZES = (0, 0xFFFFFFFF)  # a streaming writer's "to the end of the file"


def stray_bytes(head: bytes, total: int) -> int:
    """Bytes of a last, partial sample frame in a WAV of `total` bytes whose
    first bytes are `head`; 0 when the frames are whole or it is no WAV."""
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return 0
    at, frame = 12, 0
    while at + 8 <= len(head):
        chunk, size = head[at : at + 4], struct.unpack_from("<I", head, at + 4)[0]
        if chunk == b"fmt " and at + 22 <= len(head):
            frame = struct.unpack_from("<H", head, at + 20)[0]  # block align
        if chunk == b"data":
            audio = total - (at + 8)
            if size not in PLACEHOLDER_SIZES:
                audio = min(audio, size)  # chunks may follow the audio
            return audio % frame if frame else 0
        at += 8 + size + (size & 1)
    return 0
