"""Transfer learning on the canvas: freeze up to a node, unfreeze all, cut a feature extractor,
replace the head, and "Adapt to dataset…" (a one-page wizard after seed 000 and MATLAB's Deep
Network Designer). Each is one undoable step built from designer.core.transfer's edits; a design
that carries weights gets them carried across the edit into a new weights file beside it (the
old file stays, so undo brings the old network back with its own weights)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

from designer.core import commands as cmds
from designer.core import transfer as tr
from designer.core.design import Design
from designer.core.serialization import clone, design_to_dict


class TransferActions:
    def __init__(self, window) -> None:
        self.window = window
        self.editor = window.editor
        self.prompts = window.prompts

    # -- the edits ------------------------------------------------------------------------------
    def freeze_up_to(self, node_id: str) -> bool:
        name = self.editor.design.nodes[node_id].name
        return self.apply(
            f"Freeze up to {name}", lambda d: _no_weights(tr.freeze_until(d, node_id))
        )

    def unfreeze_all(self) -> bool:
        return self.apply("Unfreeze all", lambda d: _no_weights(tr.unfreeze_all(d)))

    def cut_here(self, node_id: str) -> bool:
        name = self.editor.design.nodes[node_id].name
        return self.apply(f"Cut at {name}", lambda d: tr.cut_at(d, node_id))

    def replace_head(self) -> bool:
        current = self.editor.design.num_classes or 2
        text = self.prompts.text(
            "Replace head",
            "Number of classes of the new head (optionally "
            "hidden widths after a colon, e.g. 2: 256):",
            str(current),
        )
        if not text:
            return False
        try:
            classes, hidden = parse_head(text)
        except ValueError as exc:
            self.prompts.error("Replace head", str(exc))
            return False
        return self.apply(
            f"Replace head ({classes} classes)",
            lambda d: tr.replace_head(d, classes, hidden=hidden),
        )

    def apply(
        self,
        text: str,
        edit: Callable[[Design], tr.TransferEdit | None],
        dataset: str | None = None,
    ) -> bool:
        """Try ``edit`` on a copy; if it works, carry the weights and push the result as one
        undoable step. A refused edit shows the reason and changes nothing."""
        from designer.interop.weights import WEIGHTS_KEY, WeightsError, design_weights_path

        if not self.editor.editable or self.editor.frames:
            self.prompts.error(
                text, "Transfer edits apply to the whole design: go back to the top level first."
            )
            return False
        design = self.editor.design
        trial = clone(design)
        try:
            result = edit(trial)
            notes = tr.adapt_training_settings(trial, dataset)
        except tr.TransferError as exc:
            self.prompts.error(text, str(exc))
            return False
        source = design_weights_path(design, self.editor.path)
        if source is not None and source.is_file() and result is not None:
            from designer.interop.transfer_weights import write_carried_weights

            target = _free_weights_name(source)
            try:
                write_carried_weights(design, source, trial, result, target)
            except (WeightsError, OSError) as exc:
                self.prompts.error(text, f"The weights cannot be carried over: {exc}")
                return False
            from designer.interop.weights import FRESH_KEY

            ref = target.name if self.editor.path else str(target)
            fresh = sorted(set(design.metadata.get(FRESH_KEY) or ()) | result.fresh)
            trial.set_setting("metadata", {**trial.metadata, WEIGHTS_KEY: ref, FRESH_KEY: fresh})
            notes.append(f"weights carried over into {target.name}")
        after = design_to_dict(trial)
        if not self.editor.push(cmds.Snapshot(lambda d: cmds.restore(d, after), text)):
            return False
        self.editor.message.emit(text + (": " + "; ".join(notes) if notes else ""))
        return True

    # -- the wizard -----------------------------------------------------------------------------
    def adapt_to_dataset(self) -> bool:
        """Ask for the dataset and the plan (designer.app.dialogs.adapt), then apply it."""
        plan = self.prompts.adapt_to_dataset(self.editor.design, self.editor.analysis)
        if plan is None:
            return False
        return self.apply(plan.describe(), plan.edit, dataset=plan.dataset)


def _no_weights(_changed) -> None:
    """Edits of flags only (trainable): the weights stay as they are."""
    return


def _free_weights_name(source: Path) -> Path:
    """<stem>-transfer-N.safetensors beside ``source``, N the first free number."""
    stem = source.stem.split("-transfer-")[0]
    for n in itertools.count(1):
        target = source.with_name(f"{stem}-transfer-{n}.safetensors")
        if not target.exists():
            return target
    raise AssertionError("unreachable")


def parse_head(text: str) -> tuple[int, list[int]]:
    """ "10" or "10: 256, 128" -> (10, [256, 128]); ValueError names what is wrong."""
    classes_text, _, hidden_text = text.partition(":")
    try:
        classes = int(classes_text.strip())
        hidden = [int(w) for w in hidden_text.replace(",", " ").split()]
    except ValueError:
        raise ValueError(
            f"{text!r}: write the number of classes, then optionally a colon and "
            "hidden widths, e.g. 2: 256"
        ) from None
    if classes < 2:
        raise ValueError(f"a classifier needs at least 2 classes, got {classes}")
    return classes, hidden
