"""The CLI contract: verbs, output formats and exit codes (0 ok, 1 invalid/failed, 2 usage)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from designer import __version__
from designer.cli import main
from designer.core.serialization import load_design


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_version_via_module_and_script():
    out = subprocess.run(
        [sys.executable, "-m", "designer", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0 and out.stdout.strip() == f"netdesigner {__version__}"


def test_templates_lists_name_params_description(capsys):
    code, out, _ = run(capsys, "templates")
    assert code == 0
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert {"lenet5", "mnist_mlp", "cifar10_cnn"} <= set(lines)
    assert "932k" in lines["mnist_mlp"] and "1.35M" in lines["cifar10_cnn"]


def test_new_check_summary_export(capsys, tmp_path):
    path = tmp_path / "m.json"
    assert run(capsys, "new", "--template", "cifar10_cnn", str(path))[0] == 0
    assert load_design(path).name == "CIFAR-10 CNN"
    code, out, _ = run(capsys, "check", str(path))
    assert code == 0 and "no problems" in out
    code, out, _ = run(capsys, "summary", str(path), "--json")
    s = json.loads(out)
    assert code == 0
    assert (s["total_params"], s["trainable_params"], s["non_trainable_params"]) == (
        1345066,
        1343146,
        1920,
    )
    assert s["input_shape"] == [3, 32, 32] and s["output_shape"] == [10] and s["macs"] > 0
    assert {"name", "type", "output_shape", "params", "trainable"} <= set(s["layers"][0])
    code, out, _ = run(capsys, "summary", str(path))
    assert "Total params: 1,345,066" in out and "Non-trainable params: 1,920" in out
    code, out, _ = run(capsys, "export", str(path), "--code", str(tmp_path / "m.py"))
    assert code == 0 and "class CIFAR10CNN(nn.Module)" in (tmp_path / "m.py").read_text()


def test_mlp_summary_matches_the_seed(capsys, tmp_path):
    path = tmp_path / "mlp.json"
    run(capsys, "new", "--template", "mnist_mlp", str(path))
    code, out, _ = run(capsys, "summary", str(path), "--json")
    assert code == 0 and json.loads(out)["total_params"] == 932362


def test_check_lists_problems_and_exits_1(capsys, tmp_path):
    path = tmp_path / "m.json"
    run(capsys, "new", "--template", "lenet5", str(path))
    data = json.loads(path.read_text())
    fc1 = next(n for n in data["nodes"] if n["name"] == "fc1")
    data["edges"] = [e for e in data["edges"] if e["to"] != fc1["id"]]
    path.write_text(json.dumps(data))
    code, out, _ = run(capsys, "check", str(path))
    assert code == 1
    assert "node fc1: its input is not connected; connect a layer to it" in out.splitlines()
    code, _, err = run(capsys, "summary", str(path))
    assert code == 1 and "problem" in err
    code, _, err = run(capsys, "export", str(path), "--code", str(tmp_path / "x.py"))
    assert code == 1 and not (tmp_path / "x.py").exists()


def test_check_reports_a_head_that_does_not_suit_the_task(capsys, tmp_path):
    path = tmp_path / "m.json"
    run(capsys, "new", "--template", "lenet5", str(path))
    data = json.loads(path.read_text())
    data["task"] = "regression"
    path.write_text(json.dumps(data))
    code, out, _ = run(capsys, "check", str(path))
    assert code == 1
    assert "is a classification head but the design's task is regression" in out


def test_bad_files_and_usage(capsys, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    not_json = (
        f"netdesigner: error: {bad}: not valid JSON at line 1, column 2: Expecting "
        "property name enclosed in double quotes (the file looks truncated)\n"
    )
    assert run(capsys, "check", str(bad)) == (1, "", not_json)  # one message, nothing else
    code, _, err = run(capsys, "new", "--template", "nope", str(tmp_path / "x.json"))
    assert code == 2 and "unknown template 'nope'" in err and "lenet5" in err
    with pytest.raises(SystemExit) as exit_:
        main(["summary"])
    assert exit_.value.code == 2
    assert "the following arguments are required: DESIGN" in capsys.readouterr().err
    assert run(capsys, "export", str(bad), "--code", str(tmp_path / "x.py")) == (1, "", not_json)
    assert not (tmp_path / "x.py").exists()


def test_new_refuses_to_overwrite(capsys, tmp_path):
    path = tmp_path / "m.json"
    path.write_text("precious")
    code, _, err = run(capsys, "new", "--template", "lenet5", str(path))
    assert code == 1 and "--force" in err and path.read_text() == "precious"


def test_a_real_traceback_would_show(tmp_path):
    """The contract's "never a traceback", where one could appear: in the real program's stderr."""
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    out = subprocess.run(
        [sys.executable, "-m", "designer", "check", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 1 and out.stdout == ""
    assert (
        out.stderr.startswith(f"netdesigner: error: {bad}: not valid JSON")
        and out.stderr.count("\n") == 1
    )


@pytest.mark.parametrize("buffered", [True, False], ids=["buffered", "unbuffered"])
@pytest.mark.parametrize("argv", [["templates"], ["templates", "--json"], ["summary", "--help"]])
def test_a_reader_that_stops_early_ends_the_program_quietly(argv, buffered):
    """`netdesigner templates | head -1`: the output's reader is gone before the program writes
    (its end of the pipe is closed at once), so every write fails: the program ends without a
    word on stderr, with the status of a command stopped by SIGPIPE. Unbuffered, argparse's own
    --help ignores the failed write and exits 0, as it always has."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    if not buffered:
        env["PYTHONUNBUFFERED"] = "1"
    proc = subprocess.Popen(
        [sys.executable, "-m", "designer", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    proc.stdout.close()
    try:
        err = proc.stderr.read()
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()
    expected = 0 if argv[-1] == "--help" and not buffered else 141
    assert (proc.returncode, err.decode()) == (expected, "")
