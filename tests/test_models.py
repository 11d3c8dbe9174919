"""The installed model and voices are the pinned ones; bad files are refused."""

import hashlib
import json
import subprocess

import numpy as np
import pytest
from conftest import command

from kokoro_pipe.errors import KokoroPipeError, ModelMissingError
from kokoro_pipe.voice import files as models


def test_installed_files_verify():
    result = subprocess.run([command("kk-models"), "verify"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("OK") == 4  # model, voices, and the model's two halves


def test_installed_voices_are_the_pinned_npm_voices():
    pinned = models.pins()["voices_npm"]["sha256"]
    with np.load(models.resolve().voices) as archive:
        assert sorted(archive.files) == sorted(pinned)
        for name in ("af_heart", "bm_george", "zf_xiaobei"):
            data = archive[name].astype("<f4").tobytes()
            assert archive[name].shape == (510, 1, 256)
            assert hashlib.sha256(data).hexdigest() == pinned[name]


def test_reinstall_keeps_intact_files():
    said = []
    models.install(log=said.append)
    assert any("model already installed" in s for s in said)
    assert any("voices already installed" in s for s in said)
    assert any("split model already derived" in s for s in said)


def test_missing_model_names_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setenv("KOKORO_PIPE_DATA", str(tmp_path))
    monkeypatch.delenv("KOKORO_PIPE_MODEL", raising=False)
    with pytest.raises(ModelMissingError, match="kk-models install"):
        models.resolve()


def test_a_file_with_the_wrong_hash_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("KOKORO_PIPE_DATA", str(tmp_path / "data"))
    fake = tmp_path / "kokoro-v1.0.int8.onnx"
    fake.write_bytes(b"not a model")
    with pytest.raises(KokoroPipeError, match="does not match the pinned"):
        models.install(model_from=str(fake), log=lambda s: None)
    assert not (tmp_path / "data" / "kokoro-v1.0.int8.onnx").exists()


def test_verify_reports_corruption(tmp_path):
    (tmp_path / "m.onnx").write_bytes(b"abd")
    record = {"model": {"file": "m.onnx", "sha256": hashlib.sha256(b"abc").hexdigest()}}
    (tmp_path / "installed.json").write_text(json.dumps(record))
    result = subprocess.run([command("kk-models"), "verify"], capture_output=True, text=True,
                            env={"KOKORO_PIPE_DATA": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 78
    assert "CORRUPT" in result.stdout
