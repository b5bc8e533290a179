"""Export a trained model from a run: one dialog for every file a user takes away (the weights as
safetensors, TorchScript, ONNX, a torch.export program, the standalone PyTorch code and the
training script for python/torchrun), each with what it is for. The files are written by the
same functions as `netdesigner export --run`, on a background thread."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

FILES = (  # (key, file name suffix, what it is for)
    ("state_dict", ".safetensors", "the weights, loadable with strict=True into the code below"),
    ("code", ".py", "standalone PyTorch code defining the network (build_model())"),
    ("onnx", ".onnx", "ONNX, dynamic batch size: ONNX Runtime, TensorRT, other frameworks"),
    ("pt2", ".pt2", "torch.export program (torch.export.load): PyTorch's deployment format"),
    ("torchscript", ".pt", "TorchScript (torch.jit.load): C++ and mobile runtimes"),
    ("train_script", "_train.py", "a training script with these settings, for python or torchrun"),
)
DEFAULT_ON = ("state_dict", "code")


class ExportRunDialog(QDialog):
    def __init__(self, run_dir: Path, kept: str, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Export the trained model of {run_dir.name}")
        self.run_dir = run_dir
        self.which = QComboBox()
        self.which.addItem("best (highest validation accuracy)", "best")
        self.which.addItem("last (after the last epoch)", "last")
        self.which.setCurrentIndex(0 if kept == "best" else 1)
        self.folder = QLineEdit(str(run_dir / "export"))
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        self.stem = QLineEdit(run_dir.name.replace(" ", "_"))
        self.checks: dict[str, QCheckBox] = {}
        form = QFormLayout()
        form.addRow("Weights", self.which)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        form.addRow("Folder", row)
        form.addRow("File name", self.stem)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        for key, suffix, purpose in FILES:
            box = QCheckBox(f"{suffix}  —  {purpose}")
            box.setObjectName(f"export-{key}")
            box.setChecked(key in DEFAULT_ON)
            self.checks[key] = box
            layout.addWidget(box)
        layout.addWidget(
            QLabel(
                "Inputs must be prepared as the run's training data was (its "
                "data.json holds the normalization)."
            )
        )
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Export to", self.folder.text())
        if path:
            self.folder.setText(path)

    def choice(self) -> tuple[str, dict[str, Path]]:
        """(which weights, {file kind: path}) as chosen."""
        folder, stem = Path(self.folder.text()), self.stem.text().strip() or "model"
        outputs = {
            key: folder / f"{stem}{suffix}"
            for key, suffix, _ in FILES
            if self.checks[key].isChecked()
        }
        return self.which.currentData(), outputs


def export_run(run_dir: Path, which: str, outputs: dict[str, Path]) -> list[str]:
    """Write the chosen files; returns one line per file. Raises EvaluationError, ExportError,
    TrainScriptError, WeightsError or OSError with the reason."""
    from designer.codegen import generate
    from designer.core.atomic import atomic_write_text
    from designer.interop.exports import MODEL_FORMATS, export_model_files
    from designer.training.evaluation import from_run
    from designer.training.script.export import export_train_script

    trained = from_run(run_dir, which)
    lines = [f"weights: {trained.weights_note}"]
    for path in outputs.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    if "code" in outputs:
        code = generate(trained.design)
        atomic_write_text(outputs["code"], code.source)
        lines.append(f"wrote {outputs['code']} (class {code.class_name})")
    models = {k: p for k, p in outputs.items() if k in MODEL_FORMATS}
    if models:
        written = export_model_files(trained.module(), tuple(trained.design.input_shape), models)
        lines += [f"wrote {path} ({note})" for path, note in written]
    if "train_script" in outputs:
        weights_file = export_train_script(
            outputs["train_script"], trained.design, trained.config, trained.weights
        )
        lines.append(
            f"wrote {outputs['train_script']} (python or torchrun)"
            + (f" and {weights_file}" if weights_file else "")
        )
    return lines
