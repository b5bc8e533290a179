"""torchvision state_dicts in real files (.pth, .safetensors, torch's hub cache) become a design's
own weights file: every tensor mapped and checked, a refused file leaves nothing behind, and the
file written loads with strict=True into the exported code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torchvision
from safetensors.torch import load_file, save_file

from designer.cli import main
from designer.core.serialization import load_design
from designer.core.summary import summarize
from designer.interop.weights import design_weights_path
from tests.templates.reference import exported_module, randomize_, rel_diff


def state_of(model) -> dict:
    return {k: v.contiguous() for k, v in model.state_dict().items()}


@pytest.fixture(scope="module")
def squeezenet():
    return randomize_(torchvision.models.squeezenet1_1(weights=None), seed=3).eval()


def run_exported(design_path: Path, tmp_path, x):
    """Load the design's weights file with strict=True into its exported code and run it."""
    design = load_design(design_path)
    model = exported_module(design, tmp_path).build_model()
    model.load_state_dict(load_file(design_weights_path(design, design_path)), strict=True)
    with torch.no_grad():
        return model.eval()(x)


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_weights_file_maps_into_the_design(suffix, squeezenet, tmp_path, capsys):
    src = tmp_path / f"squeeze{suffix}"
    if suffix == ".pth":
        torch.save(squeezenet.state_dict(), src)
    else:
        save_file(state_of(squeezenet), src)
    out = tmp_path / "net.json"
    assert (
        main(
            [
                "new",
                "--template",
                "squeezenet1_1",
                "--option",
                "input_size=64",
                "--weights-file",
                str(src),
                str(out),
            ]
        )
        == 0
    )
    assert "net.safetensors" in capsys.readouterr().out
    design = load_design(out)
    assert design.metadata["weights"] == "net.safetensors"
    assert design_weights_path(design, out) == (tmp_path / "net.safetensors").resolve()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        expected = squeezenet(x)
    assert rel_diff(run_exported(out, tmp_path, x), expected) < 1e-4


def test_legacy_densenet_names_and_missing_counters_are_understood(tmp_path):
    """torchvision's own DenseNet downloads say 'norm.1' for 'norm1' and (like every pre-0.4
    checkpoint) have no BatchNorm step counters."""
    ref = randomize_(torchvision.models.densenet121(weights=None), seed=4).eval()
    legacy = {}
    for key, value in ref.state_dict().items():
        if key.endswith("num_batches_tracked"):
            continue
        for part in ("norm", "relu", "conv"):
            key = key.replace(f".{part}1.", f".{part}.1.").replace(f".{part}2.", f".{part}.2.")
        legacy[key] = value
    assert "features.denseblock1.denselayer1.norm.1.weight" in legacy
    torch.save(legacy, tmp_path / "densenet121-a639ec97.pth")
    out = tmp_path / "d.json"
    assert (
        main(
            [
                "new",
                "--template",
                "densenet121",
                "--option",
                "input_size=64",
                "--weights-file",
                str(tmp_path / "densenet121-a639ec97.pth"),
                str(out),
            ]
        )
        == 0
    )
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        expected = ref(x)
    assert rel_diff(run_exported(out, tmp_path, x), expected) < 1e-4


class Payload:
    """Unpickling this would run code; torch.load(weights_only=True) must refuse it."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _refused(tmp_path, capsys, args, *fragments):
    out = tmp_path / "net.json"
    assert main(["new", "--template", "squeezenet1_1", *args, str(out)]) == 1
    printed, err = capsys.readouterr()
    for fragment in fragments:
        assert fragment in err
    # One message and nothing else: no output, no warning, no second line.
    assert (printed, err.count("\n"), err.startswith("netdesigner: error: ")) == ("", 1, True), err
    assert not out.exists() and not (tmp_path / "net.safetensors").exists()  # nothing half-done
    return err


def test_a_pickle_payload_is_refused_without_running_it(squeezenet, tmp_path, capsys):
    marker = tmp_path / "payload_ran"
    state = dict(squeezenet.state_dict())
    state["extra"] = Payload(marker)
    torch.save(state, tmp_path / "evil.pth")
    _refused(
        tmp_path,
        capsys,
        ["--weights-file", str(tmp_path / "evil.pth")],
        "evil.pth",
        "pickled Python objects",
    )
    assert not marker.exists()


def test_a_missing_tensor_is_named(squeezenet, tmp_path, capsys):
    state = state_of(squeezenet)
    del state["features.3.expand3x3.bias"]
    save_file(state, tmp_path / "w.safetensors")
    _refused(
        tmp_path,
        capsys,
        ["--weights-file", str(tmp_path / "w.safetensors")],
        "the tensor 'features.3.expand3x3.bias' is missing",
    )


def test_an_unexpected_tensor_is_named(squeezenet, tmp_path, capsys):
    state = state_of(squeezenet)
    state["features.3.extra.weight"] = torch.zeros(3)
    save_file(state, tmp_path / "w.safetensors")
    _refused(
        tmp_path,
        capsys,
        ["--weights-file", str(tmp_path / "w.safetensors")],
        "'features.3.extra.weight' does not belong",
    )


def test_a_shape_mismatch_is_named_with_a_hint(tmp_path, capsys):
    ten = torchvision.models.squeezenet1_1(weights=None, num_classes=10)
    torch.save(ten.state_dict(), tmp_path / "ten.pt")
    _refused(
        tmp_path,
        capsys,
        ["--weights-file", str(tmp_path / "ten.pt")],
        "the tensor 'classifier.1.weight' has shape (10, 512, 1, 1)",
        "needs (1000, 512, 1, 1)",
        "num_classes=N",
    )
    # With the option the same file fits.
    assert (
        main(
            [
                "new",
                "--template",
                "squeezenet1_1",
                "--option",
                "num_classes=10",
                "--weights-file",
                str(tmp_path / "ten.pt"),
                str(tmp_path / "ten.json"),
            ]
        )
        == 0
    )
    assert summarize(load_design(tmp_path / "ten.json")).output_shape == (10,)


def test_another_architecture_is_refused(tmp_path, capsys):
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), tmp_path / "r18.pth")
    _refused(tmp_path, capsys, ["--weights-file", str(tmp_path / "r18.pth")], "does not belong")


def test_existing_files_are_not_overwritten(squeezenet, tmp_path, capsys):
    torch.save(squeezenet.state_dict(), tmp_path / "w.pth")
    (tmp_path / "net.safetensors").write_bytes(b"precious")
    args = [
        "new",
        "--template",
        "squeezenet1_1",
        "--weights-file",
        str(tmp_path / "w.pth"),
        str(tmp_path / "net.json"),
    ]
    assert main(args) == 1
    assert "net.safetensors exists already" in capsys.readouterr().err
    assert (tmp_path / "net.safetensors").read_bytes() == b"precious"
    assert main(args + ["--force"]) == 0


def test_pretrained_googlenet_from_torch_s_cache(tmp_path, monkeypatch):
    """--pretrained goes through torchvision's weights API; a file already in torch's cache is
    used as is (here one we made: downloads are impossible in the test). torchvision's file has
    the auxiliary classifiers, which are left out, and the pretrained GoogLeNet transforms its
    input, which becomes a frozen Scale and Shift."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    weights = torchvision.models.GoogLeNet_Weights.DEFAULT
    cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name
    cached.parent.mkdir(parents=True)
    ref = randomize_(
        torchvision.models.GoogLeNet(aux_logits=True, transform_input=True, init_weights=False),
        seed=5,
    ).eval()
    torch.save(ref.state_dict(), cached)
    out = tmp_path / "g.json"
    assert (
        main(
            [
                "new",
                "--template",
                "googlenet",
                "--option",
                "input_size=64",
                "--pretrained",
                "imagenet",
                str(out),
            ]
        )
        == 0
    )
    design = load_design(out)
    assert design.metadata["weights_source"] == "GoogLeNet_Weights.IMAGENET1K_V1"
    assert design.metadata["template_options"]["transform_input"] is True
    assert not design.find("transform_scale").trainable
    assert summarize(design).trainable_params == 6_624_904  # without the aux heads
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        expected = ref(x)
    assert rel_diff(run_exported(out, tmp_path, x), expected) < 1e-4


def test_pretrained_offline_fails_clearly(tmp_path):
    """A real download attempt through a proxy that refuses connections, in a subprocess."""
    env = {
        **os.environ,
        "TORCH_HOME": str(tmp_path / "torch"),
        "NO_PROXY": "",
        "no_proxy": "",
        "https_proxy": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
    }
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "designer",
            "new",
            "--template",
            "resnet18",
            "--pretrained",
            "imagenet",
            str(tmp_path / "r.json"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1
    assert "cannot download torchvision's ResNet18_Weights.IMAGENET1K_V1" in proc.stderr
    assert "--weights-file PATH" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "r.json").exists()


def test_a_damaged_cached_download_is_reported(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    weights = torchvision.models.SqueezeNet1_1_Weights.DEFAULT
    cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"half a download")
    err = _refused(
        tmp_path,
        capsys,
        ["--pretrained", "imagenet"],
        "could not be read from",
        str(cached),
        "--weights-file",
    )
    assert "SqueezeNet1_1_Weights.IMAGENET1K_V1" in err


def test_pretrained_weights_need_the_imagenet_classes(tmp_path, capsys):
    assert (
        main(
            [
                "new",
                "--template",
                "resnet18",
                "--option",
                "num_classes=2",
                "--pretrained",
                "imagenet",
                str(tmp_path / "r.json"),
            ]
        )
        == 2
    )
    assert "netdesigner transfer OUT.json --classes 2" in capsys.readouterr().err
