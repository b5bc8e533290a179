"""visualize and export with --run RUN_DIR: the run's design, its kept (or --which) weights and
its preprocessing together; visualize says plainly when a network is untrained."""

from __future__ import annotations

import ast
import json

from safetensors.torch import load_file

from designer.cli import main
from designer.core.serialization import save_design
from designer.training.rundir import RunDir
from tests.training.conftest import tiny_design


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_visualize_a_runs_weights_on_its_data(capsys, finished_run, tmp_path):
    tests = RunDir(finished_run).read_json(RunDir.RESULT)["test"]
    for which in ("best", "last"):
        out_png = tmp_path / f"{which}.png"
        code, out, err = run(
            capsys,
            "visualize",
            "--run",
            finished_run,
            "--which",
            which,
            "--confusion",
            out_png,
            "--filters",
            tmp_path / "filters.png",
        )
        assert code == 0, err
        assert f"the {which} weights of the run" in out and "untrained" not in out
        assert f"accuracy {tests[which]['accuracy']:.1%} on 180 images of the test split" in out
        assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_visualize_says_when_the_network_is_untrained(capsys, tmp_path):
    save_design(tiny_design(), tmp_path / "tiny.json")
    code, out, err = run(
        capsys,
        "visualize",
        tmp_path / "tiny.json",
        "--data",
        "digits",
        "--filters",
        tmp_path / "f.png",
    )
    assert code == 0, err
    assert "note: this network is untrained" in out and "chance accuracy (about 1 in 10)" in out
    code, _, err = run(capsys, "visualize", "--filters", tmp_path / "f.png")
    assert code == 2 and "--run RUN_DIR" in err


def test_export_a_runs_weights_and_settings(capsys, finished_run, tmp_path):
    code, out, err = run(
        capsys,
        "export",
        "--run",
        finished_run,
        "--which",
        "last",
        "--state-dict",
        tmp_path / "w.safetensors",
        "--train-script",
        tmp_path / "t.py",
    )
    assert code == 0, err
    assert "the last weights of the run" in out and "times 1/255" in out
    exported, last = load_file(tmp_path / "w.safetensors"), load_file(finished_run / RunDir.LAST)
    assert exported.keys() == last.keys() and all((exported[k] == last[k]).all() for k in last)
    tree = ast.parse((tmp_path / "t.py").read_text())
    settings = next(
        ast.literal_eval(n.value)
        for n in tree.body
        if isinstance(n, ast.Assign) and n.targets[0].id == "SETTINGS"
    )
    config = json.loads((finished_run / RunDir.CONFIG).read_text())
    assert settings == {**config, "loss": "cross_entropy"}  # the run's settings, e.g. its warm-up


def test_export_without_design_or_run_is_bad_usage(capsys, tmp_path):
    code, _, err = run(capsys, "export", "--code", tmp_path / "m.py")
    assert code == 2 and "--run RUN_DIR" in err
