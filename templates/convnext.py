"""ConvNeXt-Tiny (Liu et al., 2022) as torchvision builds it: a 4x4 "patchify" stem, four stages
of ConvNeXt blocks (7x7 depthwise convolution, per-pixel LayerNorm and MLP, layer scale,
stochastic depth rising to 0.1), LayerNorm2d and a 2x2 convolution between stages."""

from designer.templates import Template
from designer_templates._imagenet import TV_RECIPES, TorchvisionLink, recipe, start

_DIMS = (96, 192, 384, 768)
_DEPTHS = (3, 3, 9, 3)
_EPS = 1e-6


def build(num_classes=1000, input_size=224, stochastic_depth_prob=0.1, layer_scale=1e-6):
    design, b, x = start(
        "ConvNeXt-Tiny",
        input_size,
        num_classes,
        description=(
            "A 4x4 stride-4 stem, 18 ConvNeXt blocks in four stages (3-3-9-3, 96 to 768 "
            "channels) with LayerNorm2d and a 2x2 stride-2 convolution between them, global "
            "pooling, LayerNorm2d and a linear classifier."
        ),
    )
    x = b.add("Conv2d", x, name="stem_conv", out_channels=_DIMS[0], kernel_size=4, stride=4)
    x = b.add("LayerNorm2d", x, name="stem_norm", eps=_EPS)
    total, index = sum(_DEPTHS), 0
    for stage, (dim, depth) in enumerate(zip(_DIMS, _DEPTHS), start=1):
        for i in range(depth):
            x = b.add(
                "ConvNeXtBlock",
                x,
                name=f"stage{stage}_{i}",
                layer_scale=layer_scale,
                stochastic_depth_prob=stochastic_depth_prob * index / (total - 1.0),
            )
            index += 1
        if stage < len(_DIMS):
            x = b.add("LayerNorm2d", x, name=f"downsample{stage}_norm", eps=_EPS)
            x = b.add(
                "Conv2d",
                x,
                name=f"downsample{stage}_conv",
                out_channels=_DIMS[stage],
                kernel_size=2,
                stride=2,
            )
    x = b.add("AdaptiveAvgPool2d", x, name="avgpool", output_size=1)
    x = b.add("LayerNorm2d", x, name="head_norm", eps=_EPS)
    x = b.add("Flatten", x, name="flatten")
    x = b.add("Linear", x, name="fc", out_features=num_classes)
    b.add("ClassificationOutput", x, name="output")
    return design


def layer_scales_last(state: dict) -> dict:
    """torchvision's CNBlock holds its layer scale itself, before its layers (`...0.layer_scale`
    comes before `...0.block.0.weight`); the design's ConvNeXtBlock has it in a Scale layer
    after them (`layer_scale.scale`)."""
    out, pending = {}, {}
    for key, value in state.items():
        if key.endswith(".layer_scale"):
            pending[key.removesuffix(".layer_scale")] = value
            continue
        out[key] = value
        block = key.removesuffix(".block.5.bias")
        if block in pending:  # the block's last layer: its scale follows
            out[f"{block}.layer_scale.scale"] = pending.pop(block)
    return out


def torchvision_link(
    name, num_classes=1000, input_size=224, stochastic_depth_prob=0.1, layer_scale=1e-6
):
    def reference():
        from torchvision.models import get_model

        return get_model(
            "convnext_tiny",
            weights=None,
            num_classes=num_classes,
            stochastic_depth_prob=stochastic_depth_prob,
            layer_scale=layer_scale,
        )

    return TorchvisionLink("convnext_tiny", reference, adapt=layer_scales_last)


TEMPLATES = [
    Template(
        name="convnext_tiny",
        title="ConvNeXt-Tiny",
        description="A ResNet modernized step by step towards a vision transformer's design: "
        "patchify stem, 7x7 depthwise convolutions, LayerNorm, GELU, inverted bottlenecks; "
        "28.6M parameters, 4.5 GMACs.",
        build=build,
        year=2022,
        paper="Liu et al.: A ConvNet for the 2020s (CVPR 2022)",
        input_shape=(3, 224, 224),
        accuracy={"top1": 82.52, "top5": 96.146},
        training={
            **recipe(
                1e-3,
                epochs=600,
                schedule="cosine",
                weight_decay=0.05,
                batch_size=1024,
                url=TV_RECIPES + "#convnext",
                note="torchvision's recipe: AdamW, cosine schedule after 5 warm-up epochs, "
                "label smoothing 0.1, mixup and cutmix, EMA of the weights.",
            ),
            "optimizer": "adamw",
            "momentum": None,
        },
        tags=("imagenet", "torchvision", "modern"),
    )
]
