"""Top-k activating patches over N images against one plain inference pass over them.

Target: at most 1.5x the inference pass. The top-k pass runs the model only up to the node
(its forward hook ends the pass there) and adds a spatial max and one torch.topk per batch, then
crops k patches per channel. Measured on the CIFAR-10 CNN template with random weights and
images, for the last convolution (the CLI's default) and for the head (a full forward pass).

From the app: the Inspect workspace's "Find top patches" for the same network's conv3_2,
trained on the bundled digits (offline: resized to 32x32 RGB, half of them the test split,
N = 899 images), timed from the click until the tiles are on screen (the model's copy for the
thread, the pass on it, the hand-over and drawing the first page of tiles), against an
inference pass over the same images with the same batch size, in the same process. Printed:
`top-9 patches from the app over N images / one inference pass: R` (target <= 1.5).
"""

from __future__ import annotations

import os
import time

import torch


def _best_times(fns: dict, repeats: int = 5) -> dict[str, float]:
    """Best of `repeats` for each function, run in turns so load from elsewhere hits all alike."""
    best = {name: float("inf") for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def main(n_images: int = 512, batch_size: int = 256, k: int = 9) -> None:
    from designer.templates import new_from_template
    from designer.viz import load_model, top_patches

    torch.manual_seed(0)
    design = new_from_template("cifar10_cnn")
    model = load_model(design)
    inputs = torch.randn(n_images, *design.input_shape)
    shown = inputs.sigmoid()

    @torch.inference_mode()
    def inference() -> None:
        for start in range(0, n_images, batch_size):
            model.module(inputs[start : start + batch_size])

    inference()  # warm-up
    nodes = {name: design.find(name).id for name in ("conv3_2", "dense2")}
    runs = {"inference": inference}
    for name, nid in nodes.items():
        runs[name] = lambda nid=nid: top_patches(
            model, nid, inputs, shown, k=k, batch_size=batch_size
        )
    best = _best_times(runs)
    plain = best["inference"]
    print(f"inference pass over {n_images} images ({design.name}): {plain * 1000:.0f} ms")
    for name, nid in nodes.items():
        channels = model.analysis.info[nid].shape[0]
        print(
            f"top-{k} patches of {name} ({channels} channels): {best[name] * 1000:.0f} ms, "
            f"ratio {best[name] / plain:.2f} (target <= 1.5)"
        )
    app_top_patches()


def app_top_patches(repeats: int = 5) -> float:
    """The Inspect workspace's top-9 job over the test split against one inference pass."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from designer.app.inspect.workspace import TOP_K
    from designer.app.launch import make_app
    from designer.app.main_window import MainWindow
    from designer.templates import new_from_template

    app = make_app()
    design = new_from_template("cifar10_cnn")
    design.metadata["training"].update(dataset="digits", test_fraction=0.5)
    window = MainWindow(design)
    window.show()
    inspect = window.show_inspect()
    inspect.select_node(window.editor.design.find("conv3_2").id)
    inspect.tabs.setCurrentWidget(inspect.patches)
    samples = inspect.session.samples()  # the test split, loaded once (not timed)
    module = inspect.session.model().module
    batch = 64  # the job's batch size

    @torch.inference_mode()
    def inference() -> None:
        for start in range(0, len(samples.x), batch):
            module(samples.x[start : start + batch])

    def from_the_app() -> None:
        inspect._results.pop("patches", None)
        inspect.find_patches()
        while "patches" not in inspect._results:
            app.processEvents()
            time.sleep(0.0005)
        app.processEvents()  # the tiles painted

    inference()  # warm-up
    best = _best_times({"inference": inference, "app": from_the_app}, repeats)
    ratio = best["app"] / best["inference"]
    print(
        f"top-{TOP_K} patches from the app over {len(samples.x)} images: "
        f"{best['app'] * 1000:.1f} ms, inference pass {best['inference'] * 1000:.1f} ms"
    )
    print(
        f"top-{TOP_K} patches from the app over {len(samples.x)} images / one inference pass: "
        f"{ratio:.2f} (target <= 1.5)"
    )
    window.close()
    return ratio


if __name__ == "__main__":
    main()
