"""File → Import model…: the imported design opens with its weights beside it; a .py file is run
only after the user agrees; a model that cannot be mapped shows the report and writes nothing."""

from __future__ import annotations

import torch
from torch import nn

from designer.app.import_flow import RUNS_CODE
from designer.interop.weights import load_weights


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4, 5)

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x)).mean((2, 3)))


def test_importing_a_torch_export_program_opens_it(window, tmp_path):
    model = Net().eval()
    program = tmp_path / "net.pt2"
    torch.export.save(torch.export.export(model, (torch.randn(1, 3, 8, 8),)), str(program))
    out = tmp_path / "imported.json"
    window.answers.replies.update(import_source=str(program), save_path=str(out))
    window.actions_.import_model.trigger()
    assert window.answers.errors == []
    assert window.editor.path == str(out)
    design = window.editor.design
    assert [n.type for n in design.nodes.values()] == [
        "Input",
        "Conv2d",
        "ReLU",
        "GlobalAvgPool",
        "Linear",
        "ClassificationOutput",
    ]
    from designer.codegen import compile_design

    ours = compile_design(design).eval()
    load_weights(ours, out.with_suffix(".safetensors"))
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        assert torch.allclose(ours(x), model(x), atol=1e-6)


def test_a_python_file_is_run_only_when_agreed_and_a_refusal_shows_the_report(window, tmp_path):
    source = tmp_path / "net.py"
    source.write_text(
        "import torch\nfrom torch import nn\n\n"
        "class Net(nn.Module):\n"
        "    def forward(self, x):\n"
        "        return torch.roll(x, 1, 2).flatten(1)\n"
    )
    out = tmp_path / "imported.json"
    window.answers.replies.update(import_source=f"{source}:Net", confirm=False)
    window.actions_.import_model.trigger()
    assert next(a for a in window.answers.asked if a[0] == "confirm")[1][1] == RUNS_CODE
    assert not any(a[0] == "save_path" for a in window.answers.asked)

    window.answers.replies.update(confirm=True, text="3x4x4", save_path=str(out))
    window.actions_.import_model.trigger()
    assert len(window.answers.errors) == 1 and "torch.roll (1x)" in window.answers.errors[0]
    assert not out.exists() and not out.with_suffix(".safetensors").exists()
    assert window.editor.path != str(out)
