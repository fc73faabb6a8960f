#!/usr/bin/python3
"""PyTorch oracle for jdnn's ConvTranspose (graph/op/ConvTranspose.java).

Run from the repository root:  /usr/bin/python3 src/test/python/gen_convtranspose_fixtures.py
Writes src/test/resources/fixtures/convtranspose/<case>/*.npy and cases.txt, one line per case:
    name x_shape(N,C,spatial...) K kernel stride padding output_padding dilation groups bias
(spatial values comma-separated; padding is symmetric, PyTorch's meaning = ONNX pads [p.., p..]).
Per case: x, w (C x K/g x k..., ONNX's layout too), [b], y = conv_transpose(x), and for the
bn_* cases the BatchNorm (eval) statistics bn_weight, bn_bias, bn_mean, bn_var, bn_eps and
bn_y = bn(conv_transpose(x)) for the BN-folding helper.
"""
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "fixtures", "convtranspose")
torch.manual_seed(2718)

# name, x shape, K, kernel, stride, padding, output_padding, dilation, groups, bias, bn
CASES = [
    ("s2_p1_op1", (2, 3, 5, 6), 4, (3, 3), (2, 2), (1, 1), (1, 1), (1, 1), 1, True, False),
    ("groups2_dil2", (1, 4, 5, 5), 6, (3, 3), (1, 1), (0, 0), (0, 0), (2, 2), 2, True, True),
    ("all_combined", (2, 4, 4, 5), 6, (3, 2), (2, 2), (1, 1), (1, 1), (2, 2), 2, True, True),
    ("rect_stride_nobias", (1, 2, 3, 4), 3, (2, 4), (3, 2), (1, 0), (2, 1), (1, 1), 1, False, False),
    ("depthwise_s2", (1, 4, 4, 4), 4, (4, 4), (2, 2), (1, 1), (0, 0), (1, 1), 4, True, False),
    ("conv1d_s3_g3", (2, 3, 7), 6, (3,), (3,), (2,), (1,), (1,), 3, True, False),
    ("conv1d_dil3", (1, 2, 6), 2, (2,), (2,), (0,), (1,), (3,), 1, False, True),
]


def save(d, name, t):
    a = t.detach().numpy() if isinstance(t, torch.Tensor) else t
    np.save(os.path.join(d, name + ".npy"), np.ascontiguousarray(np.asarray(a, dtype=np.float32)))


def main():
    os.makedirs(OUT, exist_ok=True)
    lines = []
    for name, xdims, k, kernel, stride, pad, opad, dil, groups, bias, bn in CASES:
        d = os.path.join(OUT, name)
        os.makedirs(d, exist_ok=True)
        c = xdims[1]
        cls = torch.nn.ConvTranspose1d if len(kernel) == 1 else torch.nn.ConvTranspose2d
        conv = cls(c, k, kernel, stride=stride, padding=pad, output_padding=opad, dilation=dil, groups=groups, bias=bias)
        x = torch.randn(xdims)
        with torch.no_grad():
            y = conv(x)
        save(d, "x", x)
        save(d, "w", conv.weight)  # C x K/g x k..., the same layout as ONNX's W
        if bias:
            save(d, "b", conv.bias)
        save(d, "y", y)
        if bn:
            norm = (torch.nn.BatchNorm1d if len(kernel) == 1 else torch.nn.BatchNorm2d)(k, eps=1e-3)
            with torch.no_grad():
                norm.running_mean.copy_(torch.randn(k) * 0.5)
                norm.running_var.copy_(torch.rand(k) * 2 + 0.1)
                norm.weight.copy_(torch.rand(k) + 0.5)
                norm.bias.copy_(torch.randn(k) * 0.3)
            norm.eval()
            with torch.no_grad():
                bn_y = norm(y)
            save(d, "bn_weight", norm.weight)
            save(d, "bn_bias", norm.bias)
            save(d, "bn_mean", norm.running_mean)
            save(d, "bn_var", norm.running_var)
            save(d, "bn_eps", np.array([norm.eps]))
            save(d, "bn_y", bn_y)
        j = lambda t: ",".join(map(str, t))
        lines.append(" ".join([name, j(xdims), str(k), j(kernel), j(stride), j(pad), j(opad), j(dil), str(groups),
                               str(bias).lower(), "bn" if bn else "nobn"]))
    with open(os.path.join(OUT, "cases.txt"), "w") as f:
        f.write("# name x_shape K kernel stride padding output_padding dilation groups bias bn"
                " (written by src/test/python/gen_convtranspose_fixtures.py)\n")
        f.write("\n".join(lines) + "\n")
    print("wrote", len(lines), "cases")


if __name__ == "__main__":
    main()
