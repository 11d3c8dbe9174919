"""Which onnxruntime execution provider runs the model: one named, or `auto`.

`auto` is the CPU unless another provider this onnxruntime offers synthesized a
probe faster on this machine. Each provider is timed once per model file (and
onnxruntime version); the times are kept in providers.json in the data directory.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from kokoro_pipe.errors import UnavailableError
from kokoro_pipe.voice.files import data_dir

PROVIDERS = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider",
             "coreml": "CoreMLExecutionProvider"}
CHOICES = ("auto", *PROVIDERS)
CACHE_FILE = "providers.json"

log = logging.getLogger(__name__)


def available() -> list[str]:
    """Our names of the providers this onnxruntime build offers, the CPU first."""
    import onnxruntime as ort

    offered = set(ort.get_available_providers())
    return [name for name, ort_name in PROVIDERS.items() if ort_name in offered]


def check(choice: str) -> None:
    """Fail early, before any loading, on a provider this onnxruntime lacks."""
    if choice != "auto" and choice not in available():
        import onnxruntime as ort

        raise UnavailableError(
            f"execution provider {choice} is not in this onnxruntime {ort.__version__} "
            f"(available: {', '.join(available())}); --provider auto or cpu runs anywhere")


def open_session(model: Path, name: str, options):
    """An InferenceSession on provider `name`, the CPU taking the operators it lacks."""
    import onnxruntime as ort

    check(name)
    wanted = PROVIDERS[name]
    session = ort.InferenceSession(str(model), options,
                                   providers=list(dict.fromkeys([wanted, PROVIDERS["cpu"]])))
    if session.get_providers()[0] != wanted:  # onnxruntime fell back: no device, no driver
        raise UnavailableError(f"execution provider {name} could not start on this machine")
    return session


def session_for(model: Path, choice: str, options, probe: Callable[[object], float]):
    """(session, provider name) for `choice`; `probe(session)` times a synthesis."""
    name, sessions = _choose(model, choice, options, probe)
    return sessions.get(name) or open_session(model, name, options), name


def choose(model: Path, choice: str, options, probe: Callable[[object], float]) -> str:
    """The provider `choice` means for `model`, without keeping a session of it."""
    return _choose(model, choice, options, probe)[0]


def _choose(model: Path, choice: str, options, probe) -> tuple[str, dict]:
    if choice != "auto":
        check(choice)
        return choice, {}
    key, stamp = str(model.resolve()), _stamp(model)
    cache = _read_cache()
    entry = cache.get(key) if cache.get(key, {}).get("stamp") == stamp else None
    seconds = dict(entry["seconds"]) if entry else {}
    sessions = {}
    for name in available():
        if name in seconds:
            continue
        try:
            sessions[name] = open_session(model, name, options)
        except UnavailableError:
            seconds[name] = None  # offered by the build, unusable here
            continue
        seconds[name] = round(probe(sessions[name]), 4)
    if not entry or seconds != entry["seconds"]:
        cache[key] = {"stamp": stamp, "seconds": seconds}
        _write_cache(cache)
    usable = {n: s for n, s in seconds.items() if s is not None and n in available()}
    best = min(usable, key=lambda n: (usable[n], n != "cpu"))  # a tie goes to the CPU
    log.info(json.dumps({"event": "provider", "provider": best, "seconds": seconds,
                         "from": "cache" if not sessions else "measured"}))
    return best, sessions


def cache_path() -> Path:
    return data_dir() / CACHE_FILE


def _stamp(model: Path) -> list:
    import onnxruntime as ort

    st = model.stat()
    return [st.st_size, st.st_mtime_ns, ort.__version__]


def _read_cache() -> dict:
    try:
        cache = json.loads(cache_path().read_text())
    except (OSError, ValueError):
        return {}
    return cache if isinstance(cache, dict) else {}


def _write_cache(cache: dict) -> None:
    """Atomically; a read-only data directory only costs a measurement next time."""
    path = cache_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "w") as f:
            json.dump(cache, f, indent=1)
        os.replace(tmp, path)
    except OSError as e:
        log.warning("cannot keep the provider timings in %s: %s", path, e)
