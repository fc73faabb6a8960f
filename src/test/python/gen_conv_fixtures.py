#!/usr/bin/python3
"""PyTorch oracle for jdnn's Conv2d, BN folding and fused Conv+BN(+add)(+ReLU).

Run from the repository root:  /usr/bin/python3 src/test/python/gen_conv_fixtures.py
Writes src/test/resources/fixtures/conv/<case>/*.npy and cases.txt, one line per case:
    name N,C,H,W K R,S stride_h,stride_w top,left,bottom,right dil_h,dil_w groups bias fold residual_relu
Per case: x, w, [b], y = conv(x) (asymmetric pads: F.pad then an unpadded conv, which is ONNX's meaning).
fold = affine|noaffine|none: BN (realistic stats) folded by torch.nn.utils.fusion.fuse_conv_bn_eval:
    bn_weight, bn_bias (affine), bn_mean, bn_var, bn_eps (1 value), folded_w, folded_b, fused_y = bn(conv(x)).
residual_relu = yes: residual and out = relu(bn(conv(x)) + residual).
"""
import os

import numpy as np
import torch
import torch.nn.functional as F
from torch.nn.utils.fusion import fuse_conv_bn_eval

OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "fixtures", "conv")
torch.manual_seed(4321)

# name, (N,C,H,W), K, (R,S), stride, pads (t,l,b,r), dilation, groups, bias, fold, residual+relu
CASES = [
    ("basic_3x3_pad1", (2, 3, 7, 7), 4, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1, True, "affine", True),
    ("stride2_asym_pads", (1, 3, 8, 9), 5, (3, 3), (2, 2), (0, 1, 2, 1), (1, 1), 1, True, "none", False),
    ("dilation2", (1, 4, 9, 9), 3, (3, 3), (1, 1), (2, 2, 2, 2), (2, 2), 1, False, "affine", False),
    ("groups2", (2, 4, 6, 6), 6, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 2, True, "affine", False),
    ("depthwise_s2", (1, 8, 7, 7), 8, (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), 8, True, "affine", True),
    ("pointwise_1x1_nobias", (2, 8, 5, 5), 16, (1, 1), (1, 1), (0, 0, 0, 0), (1, 1), 1, False, "noaffine", True),
    ("stem_7x7_s2", (1, 3, 16, 16), 8, (7, 7), (2, 2), (3, 3, 3, 3), (1, 1), 1, False, "affine", True),
    ("rect_1x5", (1, 3, 6, 10), 2, (1, 5), (1, 1), (0, 2, 0, 2), (1, 1), 1, True, "none", False),
    ("stride_hw_differ", (1, 2, 9, 8), 3, (2, 3), (3, 1), (1, 0, 0, 2), (1, 2), 1, True, "none", False),
]


def save(d, name, t):
    a = t.detach().numpy() if isinstance(t, torch.Tensor) else t
    np.save(os.path.join(d, name + ".npy"), np.ascontiguousarray(np.asarray(a, dtype=np.float32)))


def main():
    os.makedirs(OUT, exist_ok=True)
    lines = []
    for name, xdims, k, (r, s), stride, pads, dil, groups, bias, fold, res_relu in CASES:
        d = os.path.join(OUT, name)
        os.makedirs(d, exist_ok=True)
        c = xdims[1]
        conv = torch.nn.Conv2d(c, k, (r, s), stride=stride, padding=0, dilation=dil, groups=groups, bias=bias)
        x = torch.randn(xdims)
        t, l, b, rr = pads
        with torch.no_grad():
            xp = F.pad(x, (l, rr, t, b))  # F.pad order: left, right, top, bottom
            y = conv(xp)
        save(d, "x", x)
        save(d, "w", conv.weight)
        if bias:
            save(d, "b", conv.bias)
        save(d, "y", y)
        if fold != "none":
            bn = torch.nn.BatchNorm2d(k, affine=(fold == "affine"), eps=1e-3 if groups > 1 else 1e-5)
            with torch.no_grad():
                bn.running_mean.copy_(torch.randn(k) * 0.5)
                bn.running_var.copy_(torch.rand(k) * 2 + 0.1)
                if bn.affine:
                    bn.weight.copy_(torch.rand(k) + 0.5)
                    bn.bias.copy_(torch.randn(k) * 0.3)
            bn.eval()
            conv.eval()
            fused = fuse_conv_bn_eval(conv, bn)
            with torch.no_grad():
                fused_y = fused(xp)
                bn_y = bn(conv(xp))
            assert torch.allclose(fused_y, bn_y, atol=1e-5)
            if bn.affine:
                save(d, "bn_weight", bn.weight)
                save(d, "bn_bias", bn.bias)
            save(d, "bn_mean", bn.running_mean)
            save(d, "bn_var", bn.running_var)
            save(d, "bn_eps", np.array([bn.eps]))
            save(d, "folded_w", fused.weight)
            save(d, "folded_b", fused.bias)
            save(d, "fused_y", bn_y)
            if res_relu:
                residual = torch.randn(bn_y.shape)
                save(d, "residual", residual)
                save(d, "out", torch.relu(bn_y + residual))
        lines.append(" ".join([name, ",".join(map(str, xdims)), str(k), f"{r},{s}", f"{stride[0]},{stride[1]}",
                               ",".join(map(str, pads)), f"{dil[0]},{dil[1]}", str(groups), str(bias).lower(), fold,
                               "yes" if (res_relu and fold != "none") else "no"]))
    with open(os.path.join(OUT, "cases.txt"), "w") as f:
        f.write("# name N,C,H,W K R,S stride pads(t,l,b,r) dilation groups bias fold residual_relu"
                " (written by src/test/python/gen_conv_fixtures.py)\n")
        f.write("\n".join(lines) + "\n")
    print("wrote", len(lines), "cases")


if __name__ == "__main__":
    main()
