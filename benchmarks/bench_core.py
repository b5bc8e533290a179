"""Core engine speed: live checks of a 700-node design, and the compiled module's training step
against a hand-written nn.Module with the same layers and against torchvision's own resnet18
(ratios measured in the same run)."""

from __future__ import annotations

import statistics
import time

from benchmarks.designs import densenet201_flat, resnet18_design


def bench_validation() -> None:
    from designer.core import analysis
    from designer.core.commands import SetNodeAttr, UndoStack

    design = densenet201_flat()
    analysis._CACHE.clear()
    t = time.perf_counter()
    res = analysis.analyze(design)
    cold = time.perf_counter() - t
    assert not res.problems, res.problems[:3]
    stack = UndoStack(design)
    conv = design.find("b3l20_conv2").id
    times = []
    for i in range(30):
        stack.push(SetNodeAttr(conv, "params.out_channels", 32 + (i % 2)))
        stack.end_merge()
        t = time.perf_counter()
        analysis.analyze(design)
        times.append(time.perf_counter() - t)
    med = statistics.median(times) * 1000
    print(
        f"validation + shape inference, {len(design.nodes)} nodes: first run {cold * 1000:.1f} ms, "
        f"after an edit median {med:.1f} ms (target < 20 ms)"
    )


def _hand_written_resnet18(num_classes=10):
    import torch
    from torch import nn

    class BasicBlock(nn.Module):
        def __init__(self, c_in, c_out, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(c_out)
            self.relu1 = nn.ReLU()
            self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(c_out)
            self.down = None
            if stride != 1 or c_in != c_out:
                self.down = nn.Sequential(
                    nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
                )
            self.relu = nn.ReLU()

        def forward(self, x):
            out = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
            identity = x if self.down is None else self.down(x)
            return self.relu(out + identity)

    class ResNet18(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU()
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            blocks, c = [], 64
            for stage, width in enumerate((64, 128, 256, 512), start=1):
                for i in range(2):
                    blocks.append(BasicBlock(c, width, 2 if stage > 1 and i == 0 else 1))
                    c = width
            self.blocks = nn.Sequential(*blocks)
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(512, num_classes)

        def forward(self, x):
            x = self.blocks(self.maxpool(self.relu(self.bn1(self.conv1(x)))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    return ResNet18()


def _step_ratios(ours, other, rounds: int, steps: int) -> list[float]:
    """Seconds per forward+backward step of `ours` over `other` (batch 16 at 64x64), measured
    in alternation so both see the same machine load; one ratio per round."""
    import torch

    x = torch.randn(16, 3, 64, 64)
    y = torch.randint(0, 10, (16,))
    loss_fn = torch.nn.CrossEntropyLoss()

    def step_time(model):
        t = time.perf_counter()
        for _ in range(steps):
            model.zero_grad(set_to_none=True)
            loss_fn(model(x), y).backward()
        return (time.perf_counter() - t) / steps

    step_time(ours), step_time(other)  # warm up
    ratios = []
    for _ in range(rounds):
        a, b = step_time(ours), step_time(other)
        ratios.append(a / b)
    return ratios


def bench_forward_backward(
    rounds: int = 7, steps: int = 4, tv_rounds: int = 12, tv_steps: int = 1
) -> None:
    import torch
    import torchvision

    from designer.codegen import compile_design

    torch.manual_seed(0)
    design = resnet18_design()
    ours = compile_design(design)
    plain = _hand_written_resnet18()
    torchvision_model = torchvision.models.resnet18(num_classes=10)
    count = sum(p.numel() for p in ours.parameters())
    assert count == sum(p.numel() for p in plain.parameters())
    assert count == sum(p.numel() for p in torchvision_model.parameters())

    ratios = _step_ratios(ours, plain, rounds, steps)
    print(
        f"forward+backward, ResNet-18 shape, batch 16 at 64x64: compiled / hand-written = "
        f"{statistics.median(ratios):.3f} (median of {rounds}; target <= 1.01)"
    )
    # torchvision's own model, with its in-place ReLUs: the speed the generated code aims at.
    ratios = _step_ratios(ours, torchvision_model, tv_rounds, tv_steps)
    print(
        f"forward+backward, ResNet-18, batch 16 at 64x64: compiled / torchvision resnet18 = "
        f"{statistics.median(ratios):.3f} (median of {tv_rounds} interleaved steps; "
        "target <= 1.0)"
    )


def main() -> None:
    bench_validation()
    bench_forward_backward()


if __name__ == "__main__":
    main()
