"""The model's two halves: derived at install, recorded, verified, and joined
they are the one-pass model."""

import json
import shutil
import subprocess

import numpy as np
import onnx
import pytest
from conftest import command
from onnx import TensorProto, helper

from kokoro_pipe.errors import ModelMissingError
from kokoro_pipe.voice import files as models
from kokoro_pipe.voice import split_model


def test_installed_halves_join_into_the_one_pass_model():
    paths = models.resolve()
    assert paths.front and paths.vocoder
    error = split_model.join_error(paths.model, paths.front, paths.vocoder, paths.voices)
    assert error <= split_model.JOIN_TOLERANCE


def test_a_model_given_by_path_runs_in_one_pass(tmp_path):
    copy = tmp_path / "kokoro.onnx"
    shutil.copy(models.resolve().model, copy)
    assert models.resolve(model=str(copy)).front is None


def test_another_graph_is_not_split(tmp_path):
    node = helper.make_node("Identity", ["tokens"], ["audio"])
    graph = helper.make_graph([node], "other",
                              [helper.make_tensor_value_info("tokens", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("audio", TensorProto.FLOAT, [1])])
    other = tmp_path / "other.onnx"
    onnx.save(helper.make_model(graph), str(other))
    with pytest.raises(split_model.SplitError, match=r"not the Kokoro v1\.0 export"):
        split_model.derive(other, tmp_path, models.resolve().voices)
    assert not list(tmp_path.glob("other.*.onnx"))


def test_verify_finds_a_corrupt_half(tmp_path):
    installed = models.data_dir()
    record = json.loads((installed / "installed.json").read_text())
    vocoder = record["split"]["vocoder"]["file"]
    (tmp_path / vocoder).write_bytes(b"not the vocoder")
    (tmp_path / "installed.json").write_text(json.dumps({"split": record["split"]}))
    shutil.copy(installed / record["split"]["front"]["file"], tmp_path)
    result = subprocess.run([command("kk-models"), "verify"], capture_output=True, text=True,
                            env={"KOKORO_PIPE_DATA": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 78
    assert f"CORRUPT  {tmp_path / vocoder}" in result.stdout
    assert f"OK       {tmp_path / record['split']['front']['file']}" in result.stdout


def test_durations_cover_the_frames():
    from kokoro_pipe.voice.engine import Engine

    engine = Engine(models.resolve())
    front = engine.front("ðə bˈɪld fˈɪnɪʃt.", engine.style("af_heart"))
    assert len(front.durations) == len("ðə bˈɪld fˈɪnɪʃt.") + 2  # a pad token at each end
    assert np.all(front.durations >= 1)
    assert front.features.shape[2] == 2 * front.frames
    assert front.source.shape[1] == split_model.FRAME * front.frames


def test_halves_of_another_model_are_refused(tmp_path, monkeypatch):
    installed = models.data_dir()
    record = json.loads((installed / "installed.json").read_text())
    for name in (record["model"]["file"], record["voices"]["file"],
                 record["split"]["front"]["file"], record["split"]["vocoder"]["file"]):
        (tmp_path / name).symlink_to(installed / name)
    record["split"]["model_sha256"] = "0" * 64  # derived from some other model file
    (tmp_path / "installed.json").write_text(json.dumps(record))
    monkeypatch.setenv("KOKORO_PIPE_DATA", str(tmp_path))
    monkeypatch.delenv("KOKORO_PIPE_MODEL", raising=False)
    with pytest.raises(ModelMissingError, match="derive it again with: kk-models install"):
        models.resolve()
