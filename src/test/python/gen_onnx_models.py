#!/usr/bin/python3
"""Small torchvision CNNs exported to ONNX, with PyTorch's outputs and forward-hook outputs as the oracle.

Run from the repository root:  /usr/bin/python3 src/test/python/gen_onnx_models.py [name ...]
Writes src/test/resources/fixtures/models/<model>_<eval|preserve>/:
    model.onnx   opset 13, symbolic batch axis "N"
    input.npy    2x3x64x64
    output.npy   PyTorch's output for input.npy
    taps.txt     one line per forward hook: <module> <onnx tensor name> <file>
    tap_<i>.npy  the hooked module's output (cloned at hook time, so later in-place ops cannot change it)

The architectures are torchvision's own classes and forward code (GoogLeNet keeps transform_input=True),
narrowed so the files stay small: random weights (no download), BN statistics made realistic by a few
train-mode passes, then eval. TrainingMode.EVAL folds BN into the convs; PRESERVE keeps BatchNormalization nodes.
"""
import os

import numpy as np
import onnx
import torch
import torchvision
from torchvision.models.densenet import DenseNet
from torchvision.models.googlenet import BasicConv2d, GoogLeNet, Inception
from torchvision.models.resnet import BasicBlock

OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "fixtures", "models")


def narrow_googlenet():
    m = GoogLeNet(num_classes=10, aux_logits=False, transform_input=True, init_weights=True)
    m.conv2 = BasicConv2d(64, 16, kernel_size=1)
    m.conv3 = BasicConv2d(16, 32, kernel_size=3, padding=1)
    m.inception3a = Inception(32, 8, 8, 16, 4, 8, 8)      # -> 40 channels
    for name in ["inception3b", "inception4a", "inception4b", "inception4c", "inception4d", "inception4e",
                 "inception5a", "inception5b"]:
        setattr(m, name, Inception(40, 8, 8, 16, 4, 8, 8))
    m.fc = torch.nn.Linear(40, 10)
    return m


def narrow_resnet():
    m = torchvision.models.resnet18(weights=None, num_classes=10)
    m.inplanes = 16
    m.conv1 = torch.nn.Conv2d(3, 16, kernel_size=7, stride=2, padding=3, bias=False)
    m.bn1 = torch.nn.BatchNorm2d(16)
    m.layer1 = m._make_layer(BasicBlock, 16, 2)
    m.layer2 = m._make_layer(BasicBlock, 32, 1, stride=2)
    m.layer3 = m._make_layer(BasicBlock, 48, 1, stride=2)
    m.layer4 = m._make_layer(BasicBlock, 64, 1, stride=2)
    m.fc = torch.nn.Linear(64, 10)
    return m


MODELS = {
    # name: (constructor, modules to hook)
    "googlenet": (narrow_googlenet, ["conv1.bn", "conv1", "inception3a", "maxpool4"]),
    "resnet": (narrow_resnet, ["bn1", "layer1.0.bn1", "layer1", "layer3", "avgpool"]),
    "densenet": (lambda: DenseNet(growth_rate=8, block_config=(2, 2), num_init_features=16, bn_size=2, num_classes=10),
                 ["features.norm0", "features.denseblock1", "features.transition1"]),
    "mobilenet_v2": (lambda: torchvision.models.mobilenet_v2(weights=None, width_mult=0.25, num_classes=10),
                     ["features.0", "features.2.conv.1", "features.5"]),
    "squeezenet": (lambda: torchvision.models.squeezenet1_1(weights=None, num_classes=10),
                   ["features.3", "features.3.expand3x3_activation"]),
    # HardSwish (exported below opset 14 as x·HardSigmoid(x)), squeeze-excitation scales, ReLU and HardSigmoid
    "mobilenet_v3": (lambda: torchvision.models.mobilenet_v3_large(weights=None, width_mult=0.25, num_classes=10),
                     ["features.0", "features.4.block.1", "features.13"]),
}


def in_scope(node_name, module_name):
    """The exporter names nodes /a/a.0/conv1/Conv: each level is the child's name, sometimes joined with its parents'."""
    parts = module_name.split(".")
    levels = node_name.split("/")[1:-1]
    if len(levels) < len(parts):
        return False
    for i, part in enumerate(parts):
        if levels[i] not in {".".join(parts[j:i + 1]) for j in range(i + 1)}:
            return False
    return True


def tap_tensor(graph, model, module_name):
    """The ONNX tensor holding a module's output: the last node in its scope, or, when the exporter folded
    the module away (BN into the conv before it), the last node of the previous sibling's scope."""
    nodes = [n for n in graph.node if in_scope(n.name, module_name)]
    if nodes:
        return nodes[-1].output[0]
    parent, _, leaf = module_name.rpartition(".")
    siblings = [n for n, _ in (model.get_submodule(parent) if parent else model).named_children()]
    previous = siblings[siblings.index(leaf) - 1]
    nodes = [n for n in graph.node if in_scope(n.name, (parent + "." if parent else "") + previous)]
    return nodes[-1].output[0]


def export(name, build, hooks, mode):
    torch.manual_seed(sum(name.encode()))
    model = build()
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(4, 3, 64, 64) * 1.5 + 0.3)
    model.eval()
    d = os.path.join(OUT, f"{name}_{mode}")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "model.onnx")
    x = torch.randn(2, 3, 64, 64)
    training = torch.onnx.TrainingMode.EVAL if mode == "eval" else torch.onnx.TrainingMode.PRESERVE
    torch.onnx.export(model, x, path, opset_version=13, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "N"}, "output": {0: "N"}}, training=training,
                      do_constant_folding=True)
    captured = {}
    handles = [model.get_submodule(h).register_forward_hook(
        lambda mod, inp, out, h=h: captured.__setitem__(h, out.detach().clone())) for h in hooks]
    with torch.no_grad():
        y = model(x)
    for handle in handles:
        handle.remove()
    graph = onnx.load(path).graph
    np.save(os.path.join(d, "input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(d, "output.npy"), y.numpy().astype(np.float32))
    lines = []
    for i, h in enumerate(hooks):
        np.save(os.path.join(d, f"tap_{i}.npy"), captured[h].numpy().astype(np.float32))
        lines.append(f"{h} {tap_tensor(graph, model, h)} tap_{i}.npy")
    with open(os.path.join(d, "taps.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    ops = sorted({n.op_type for n in graph.node})
    print(f"{name}_{mode}: {os.path.getsize(path) / 1e6:.2f} MB, ops {ops}")


def main():
    import sys
    names = sys.argv[1:] or list(MODELS)   # e.g. gen_onnx_models.py mobilenet_v3: regenerate one model only
    for name, (build, hooks) in ((n, MODELS[n]) for n in names):
        # SqueezeNet has no batch norm: its PRESERVE export is the EVAL one, so it is left out (size).
        for mode in ("eval",) if name == "squeezenet" else ("eval", "preserve"):
            export(name, build, hooks, mode)


if __name__ == "__main__":
    main()
