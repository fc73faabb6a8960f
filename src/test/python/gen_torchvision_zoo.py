#!/usr/bin/python3
"""torchvision's classification and segmentation architectures exported to ONNX: the model-level oracle.

Run from the repository root (torch 1.13, torchvision 0.14, onnx 1.12):
    /usr/bin/python3 src/test/python/gen_torchvision_zoo.py [--out target/zoo] [--archs a,b] [--opsets 11,13,17]
                                                           [--modes eval,preserve] [--list]
Writes, per architecture, OUT/<arch>/:
    meta.txt                  "size S" (input is N×3×S×S), "kind classification|segmentation", "output <name>"
    input_b1.npy input_b2.npy 1×3×S×S and 2×3×S×S, standard normal
    output_b1.npy output_b2.npy  PyTorch's eval-mode output for each (segmentation: the 'out' entry)
    opset<K>_eval.onnx        default export (TrainingMode.EVAL, constant folding: BN folded into the convs)
    opset<K>_preserve.onnx    TrainingMode.PRESERVE, do_constant_folding=False (BatchNormalization nodes kept,
                              shape arithmetic left unfolded as a converter without folding emits it)
and OUT/dynamic_hw/<arch>/ (symbolic N, H and W): opset<K>.onnx, input_<H>x<W>.npy, output_<H>x<W>.npy at two sizes.
Every model has a symbolic batch axis "N". Weights are torchvision's random init (weights=None, seeded per
architecture); batch-norm running statistics are made realistic by a few train-mode passes on random data
before eval. Inputs are small (64×64) where the architecture allows; see SIZE for the exceptions and why.
An architecture that torch cannot export at an opset is reported and left out (never a partial directory):
in torch 1.13 that is maxvit_t at opset 11 (aten::einsum needs opset 12).
Cost on the 2-core machine, everything: about 18 CPU-minutes (31 min wall while tests ran beside it; maxvit_t
alone about 10 min), 196 models and 9.4 GB in target/zoo (git-ignored with target/). --opsets/--modes/--archs
narrow it, e.g. --opsets 11,17 for two thirds of that.
"""
import argparse
import os
import shutil
import sys
import time
import warnings
import zlib

import numpy as np
import torch
import torchvision
import torchvision.models as tvm
import torchvision.models.segmentation as tvs

warnings.filterwarnings("ignore")

CLASSIFICATION = [
    "alexnet", "vgg11", "vgg11_bn", "resnet18", "resnet50", "resnext50_32x4d", "wide_resnet50_2", "densenet121",
    "googlenet", "inception_v3", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "mnasnet0_5",
    "mnasnet1_0", "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "squeezenet1_0", "squeezenet1_1", "efficientnet_b0",
    "efficientnet_v2_s", "regnet_x_400mf", "regnet_y_400mf", "convnext_tiny", "vit_b_16", "swin_t", "maxvit_t",
]
SEGMENTATION = ["fcn_resnet50", "deeplabv3_resnet50", "deeplabv3_mobilenet_v3_large", "lraspp_mobilenet_v3_large"]
DYNAMIC_HW = {"resnet18": [(64, 64), (96, 80)], "lraspp_mobilenet_v3_large": [(64, 64), (96, 80)]}

# Input side per architecture (default 64). Why the exceptions:
#   alexnet: AdaptiveAvgPool2d((6, 6)) exports only when the feature map is a multiple of 6: 224 is the
#            smallest side giving 6×6 after the 4-stride conv and three 3/2 pools.
#   vgg*:    AdaptiveAvgPool2d((7, 7)) after five 2× pools: 224 is the smallest side giving 7×7.
#   inception_v3: the stem needs ≥ 75.
#   maxvit_t: each of 5 halvings must leave a multiple of the 7×7 partition: 224.
SIZE = {"alexnet": 224, "vgg11": 224, "vgg11_bn": 224, "inception_v3": 80, "maxvit_t": 224}
# Builder arguments: 10 classes (smaller files, same ops), no auxiliary heads. ViT-B/16 at 64×64 with
# ViT-Ti's widths (hidden 192, 3 heads, MLP 768; all 12 layers): the same graph, 1/15 of the 343 MB.
KWARGS = {
    "googlenet": dict(aux_logits=False, init_weights=True),
    "inception_v3": dict(aux_logits=False, init_weights=True),
    "maxvit_t": dict(input_size=(224, 224)),
}
# AlexNet's and VGG's classifiers (Linear 9216/25088 → 4096 → 4096 → classes) are 90 % of their weights
# (228 MB, 507 MB): their hidden width becomes 256, which keeps every op (Flatten, Gemm, ReLU, Dropout).
NARROW_CLASSIFIER = {"alexnet", "vgg11", "vgg11_bn"}


class SegmentationOut(torch.nn.Module):
    """torchvision's segmentation models return an OrderedDict; the ONNX output is its 'out' entry."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)["out"]


def build(arch):
    torch.manual_seed(zlib.crc32(arch.encode()))
    if arch in SEGMENTATION:
        kwargs = dict(weights=None, weights_backbone=None, num_classes=21)
        if arch != "lraspp_mobilenet_v3_large":
            kwargs["aux_loss"] = False
        return SegmentationOut(getattr(tvs, arch)(**kwargs))
    if arch == "vit_b_16":  # vit_b_16() fixes the widths, so its class with vit_b_16's patch size and depth
        return tvm.VisionTransformer(image_size=64, patch_size=16, num_layers=12, num_heads=3, hidden_dim=192,
                                     mlp_dim=768, num_classes=10)
    model = getattr(tvm, arch)(weights=None, num_classes=10, **KWARGS.get(arch, {}))
    if arch in NARROW_CLASSIFIER:
        c = model.classifier  # Dropout? Linear ReLU Dropout Linear ReLU Linear, in either order of Dropout
        linears = [i for i, m in enumerate(c) if isinstance(m, torch.nn.Linear)]
        c[linears[0]] = torch.nn.Linear(c[linears[0]].in_features, 256)
        c[linears[1]] = torch.nn.Linear(256, 256)
        c[linears[2]] = torch.nn.Linear(256, 10)
    return model


def calibrate(model, size):
    """A few train-mode passes so BN running mean/var are those of real activations, not 0 and 1."""
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(4, 3, size, size) * 1.5 + 0.3)
    model.eval()


def export(model, x, path, opset, mode, dynamic):
    kwargs = dict(opset_version=opset, input_names=["input"], output_names=["output"], dynamic_axes=dynamic)
    if mode == "preserve":
        kwargs.update(training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    tmp = path + ".part"
    torch.onnx.export(model, x, tmp, **kwargs)
    os.replace(tmp, path)


def first_line(e):
    return (str(e).strip().splitlines() or [type(e).__name__])[0][:200]


def export_arch(arch, out, opsets, modes):
    size = SIZE.get(arch, 64)
    d = os.path.join(out, arch)
    os.makedirs(d, exist_ok=True)
    model = build(arch)
    calibrate(model, size)
    gen = torch.Generator().manual_seed(zlib.crc32(arch.encode()) + 1)
    results = []
    with torch.no_grad():
        for n in (1, 2):
            x = torch.randn(n, 3, size, size, generator=gen)
            np.save(os.path.join(d, f"input_b{n}.npy"), x.numpy().astype(np.float32))
            np.save(os.path.join(d, f"output_b{n}.npy"), model(x).numpy().astype(np.float32))
    with open(os.path.join(d, "meta.txt"), "w") as f:
        f.write(f"size {size}\nkind {'segmentation' if arch in SEGMENTATION else 'classification'}\noutput output\n")
    x = torch.from_numpy(np.load(os.path.join(d, "input_b2.npy")))
    dynamic = {"input": {0: "N"}, "output": {0: "N"}}
    for opset in opsets:
        for mode in modes:
            path = os.path.join(d, f"opset{opset}_{mode}.onnx")
            t = time.time()
            try:
                export(model, x, path, opset, mode, dynamic)
                results.append((arch, opset, mode, "ok", f"{os.path.getsize(path) / 1e6:.1f} MB", time.time() - t))
            except Exception as e:  # an opset torch cannot export this architecture at
                if os.path.exists(path + ".part"):
                    os.remove(path + ".part")
                results.append((arch, opset, mode, "not exported", first_line(e), time.time() - t))
            model.eval()
    return results


def export_dynamic_hw(arch, out, opsets):
    """Symbolic N, H and W: one model, PyTorch's outputs at two spatial sizes."""
    d = os.path.join(out, "dynamic_hw", arch)
    os.makedirs(d, exist_ok=True)
    model = build(arch)
    calibrate(model, 64)
    gen = torch.Generator().manual_seed(zlib.crc32(arch.encode()) + 2)
    sizes = DYNAMIC_HW[arch]
    with torch.no_grad():
        for h, w in sizes:
            x = torch.randn(1, 3, h, w, generator=gen)
            np.save(os.path.join(d, f"input_{h}x{w}.npy"), x.numpy().astype(np.float32))
            np.save(os.path.join(d, f"output_{h}x{w}.npy"), model(x).numpy().astype(np.float32))
    dynamic = {"input": {0: "N", 2: "H", 3: "W"}, "output": {0: "N"}}
    if arch in SEGMENTATION:
        dynamic["output"] = {0: "N", 2: "H", 3: "W"}
    results = []
    x = torch.from_numpy(np.load(os.path.join(d, f"input_{sizes[0][0]}x{sizes[0][1]}.npy")))
    for opset in opsets:
        t = time.time()
        path = os.path.join(d, f"opset{opset}.onnx")
        try:
            export(model, x, path, opset, "eval", dynamic)
            results.append(("dynamic_hw/" + arch, opset, "eval", "ok", f"{os.path.getsize(path) / 1e6:.1f} MB", time.time() - t))
        except Exception as e:
            results.append(("dynamic_hw/" + arch, opset, "eval", "not exported", first_line(e), time.time() - t))
    return results


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="target/zoo")
    p.add_argument("--archs", default=",".join(CLASSIFICATION + SEGMENTATION + ["dynamic_hw"]),
                   help="comma-separated; 'dynamic_hw' adds the symbolic-H/W models")
    p.add_argument("--opsets", default="11,13,17")
    p.add_argument("--modes", default="eval,preserve")
    p.add_argument("--list", action="store_true", help="print the architectures and exit")
    a = p.parse_args()
    if a.list:
        print("\n".join(CLASSIFICATION + SEGMENTATION + ["dynamic_hw"]))
        return
    archs = [s for s in a.archs.split(",") if s]
    unknown = [s for s in archs if s not in CLASSIFICATION + SEGMENTATION + ["dynamic_hw"]]
    if unknown:
        sys.exit(f"unknown architectures {unknown}; --list shows them")
    opsets = [int(s) for s in a.opsets.split(",")]
    modes = a.modes.split(",")
    torch.set_num_threads(os.cpu_count() or 1)
    start = time.time()
    results = []
    for arch in archs:
        t = time.time()
        rs = []
        for hw in (DYNAMIC_HW if arch == "dynamic_hw" else []):
            rs += export_dynamic_hw(hw, a.out, opsets)
        if arch != "dynamic_hw":
            rs = export_arch(arch, a.out, opsets, modes)
        for r in rs:
            print(f"{r[0]:32s} opset {r[1]:2d} {r[2]:8s} {r[3]:12s} {r[4]}  ({r[5]:.1f} s)", flush=True)
        print(f"{arch}: {time.time() - t:.1f} s", flush=True)
        results += rs
    bad = [r for r in results if r[3] != "ok"]
    print(f"{len(results) - len(bad)} exported, {len(bad)} not exported, {time.time() - start:.0f} s in all")


if __name__ == "__main__":
    main()
