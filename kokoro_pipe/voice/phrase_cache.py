"""A size-bounded on-disk cache of whole short utterances.

Notifications repeat ("Build finished.", "Tests passed."): a hit replays the
audio with no G2P and no model run. Keys cover everything that changes the
sound: text, voice style, speed, language, model identity and the package
version (front-end rules change pronunciations). Least recently used entries
go first when the cache outgrows its budget.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

MAX_BYTES = 64 << 20  # about 11 minutes of 24 kHz float32 audio
MAX_CHARS = 200  # longer texts are rarely repeated word for word


def default_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "kokoro-pipe" / "phrases"


def model_identity(path: Path) -> str:
    """Cheap and sufficient: a replaced model file has another size or mtime."""
    st = path.stat()
    return f"{path.resolve()}:{st.st_size}:{st.st_mtime_ns}"


def _package_version() -> str:
    try:
        return version("kokoro-pipe")
    except PackageNotFoundError:
        return "dev"


class PhraseCache:
    def __init__(self, directory: Path | None = None, max_bytes: int = MAX_BYTES,
                 max_chars: int = MAX_CHARS):
        self.directory = directory or default_dir()
        self.max_bytes, self.max_chars = max_bytes, max_chars
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    def key(self, text: str, style: np.ndarray, speed: float, lang: str, model: str) -> str | None:
        """The entry name for these inputs, or None if the text is too long to cache."""
        if len(text) > self.max_chars:
            return None
        h = hashlib.sha256()
        for part in (_package_version(), model, lang, repr(float(speed)), text):
            h.update(part.encode() + b"\0")
        h.update(np.ascontiguousarray(style, dtype="<f4").tobytes())
        return h.hexdigest()

    def get(self, key: str) -> np.ndarray | None:
        path = self.directory / f"{key}.f32"
        try:
            data = path.read_bytes()
        except OSError:
            return None
        if not data or len(data) % 4:
            path.unlink(missing_ok=True)  # a torn or foreign file: drop it
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used
        return np.frombuffer(data, dtype="<f4").copy()

    def get_words(self, key: str) -> list | None:
        """What was put with the entry's audio as `words`, if anything."""
        try:
            return json.loads((self.directory / f"{key}.words").read_text())
        except (OSError, ValueError):
            return None

    def put(self, key: str, audio: np.ndarray, words: list | None = None) -> None:
        """Store `audio`, and with it `words` (any JSON list: the word times)."""
        data = np.ascontiguousarray(audio, dtype="<f4").tobytes()
        if len(data) > self.max_bytes:
            return
        if words is not None:  # before the audio: an entry never has another's words
            self._write(f"{key}.words", json.dumps(words).encode())
        self._write(f"{key}.f32", data)
        self._evict()

    def _write(self, name: str, data: bytes) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, self.directory / name)

    def _evict(self) -> None:
        entries = []
        for path in self.directory.glob("*.f32"):
            with contextlib.suppress(OSError):
                st = path.stat()
                entries.append((st.st_mtime_ns, st.st_size, path))
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries):
            if total <= self.max_bytes:
                break
            path.unlink(missing_ok=True)
            path.with_suffix(".words").unlink(missing_ok=True)
            total -= size
