"""Run-directory files: atomic copies, metrics cut back on resume, JSON without NaN, checkpoints
that never unpickle objects."""

from __future__ import annotations

import json
import math

import pytest
import torch
from torch import nn

from designer.interop.weights import save_weights
from designer.training.rundir import RunDir, RunDirError, clean_json


def test_best_stays_when_last_is_replaced(tmp_path):
    run = RunDir(tmp_path)
    model = nn.Linear(2, 2)
    save_weights(model, run.file(RunDir.LAST))
    run.copy_file(RunDir.LAST, RunDir.BEST)
    before = run.file(RunDir.BEST).read_bytes()
    with torch.no_grad():
        model.weight.add_(1.0)
    save_weights(model, run.file(RunDir.LAST))  # what the next epoch does
    assert run.file(RunDir.BEST).read_bytes() == before != run.file(RunDir.LAST).read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        RunDir.BEST,
        RunDir.LAST,
    ]  # no temp files left


def test_metrics_are_cut_back_to_the_checkpoint(tmp_path):
    run = RunDir(tmp_path)
    writer = run.metrics(None)
    writer.write({"kind": "step", "loss": 1.0})
    keep = writer.tell()
    writer.write({"kind": "step", "loss": float("nan")})
    writer.close()
    assert run.read_metrics()[1]["loss"] is None  # JSON has no NaN
    writer = run.metrics(keep)
    writer.write({"kind": "step", "loss": 0.5})
    writer.close()
    assert [r["loss"] for r in run.read_metrics()] == [1.0, 0.5]


def test_clean_json():
    assert clean_json({"a": [math.inf, 1.5, {"b": -math.nan}], "c": "x"}) == {
        "a": [None, 1.5, {"b": None}],
        "c": "x",
    }
    json.dumps(clean_json({"v": math.nan}), allow_nan=False)


class Tampered:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_checkpoints_with_objects_are_refused(tmp_path, capsys):
    run = RunDir(tmp_path)
    torch.save({"model": Tampered()}, run.file(RunDir.CHECKPOINT))  # a pickled object
    with pytest.raises(RunDirError, match="cannot be read"):
        run.load_checkpoint()
    assert "never run" not in capsys.readouterr().out
    run.file(RunDir.CHECKPOINT).write_bytes(b"not a checkpoint")
    with pytest.raises(RunDirError, match="cannot be read"):
        run.load_checkpoint()
    run.save_checkpoint({"epoch": 3, "model": {"w": torch.ones(2)}})
    assert run.load_checkpoint()["epoch"] == 3


@pytest.mark.parametrize("where", ["afile", "afile/run"])
def test_a_file_in_the_way_is_named(tmp_path, where):
    (tmp_path / "afile").write_text("not a folder")
    with pytest.raises(RunDirError) as refused:
        RunDir(tmp_path / where).create({"epochs": 1}, "{}")
    assert str(refused.value) == (
        f"cannot write the run directory {tmp_path / where}: "
        f"{tmp_path / 'afile'} is a file, not a folder"
    )
