"""PyTorch oracles for jdnn's normalisation ops (NormalizationOpsTest).

Writes src/test/resources/fixtures/normalization/: inputs, parameters and PyTorch's outputs as .npy for
GroupNormalization (opset 18: per-group affine; opset 21: per-channel, torch's own), InstanceNormalization,
LpNormalization, and two decomposed-LayerNorm models exported by torch 1.13 at opset 13 (nn.LayerNorm over
the last dim, and ConvNeXt's channels-last LayerNorm2d: permute, LayerNorm(C), permute back) with their
outputs. Run from the repository root: /usr/bin/python3 src/test/python/gen_normalization_fixtures.py
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = "src/test/resources/fixtures/normalization"
os.makedirs(OUT, exist_ok=True)
g = torch.Generator().manual_seed(17)


def rand(*shape):
    return torch.randn(*shape, generator=g) * 2 + 0.5


def save(name, t):
    np.save(os.path.join(OUT, name + ".npy"), t.detach().numpy().astype(np.float32))


# GroupNormalization: N=2, C=6, 3x2 spatial, 3 groups.
x = rand(2, 6, 3, 2)
w, b = rand(6), rand(6)
gs, gb = rand(3), rand(3)
save("gn_x", x)
save("gn_scale_c", w)
save("gn_bias_c", b)
save("gn_scale_g", gs)
save("gn_bias_g", gb)
save("gn21_y", F.group_norm(x, 3, w, b, eps=1e-3))
# opset 18: scale[g], bias[g] apply to every channel of group g.
save("gn18_y", F.group_norm(x, 3, gs.repeat_interleave(2), gb.repeat_interleave(2), eps=1e-3))

# InstanceNormalization: N=2, C=3, 4x5.
x = rand(2, 3, 4, 5)
s, bb = rand(3), rand(3)
save("in_x", x)
save("in_scale", s)
save("in_bias", bb)
save("in_y", F.instance_norm(x, weight=s, bias=bb, eps=1e-5))

# LpNormalization along axis 1 of 2x5x3, p = 1 and 2.
x = rand(2, 5, 3)
save("lp_x", x)
save("lp1_y", F.normalize(x, p=1.0, dim=1, eps=0))
save("lp2_y", F.normalize(x, p=2.0, dim=1, eps=0))


class LastDim(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.ln = torch.nn.LayerNorm(8, eps=1e-5)
        with torch.no_grad():
            self.ln.weight.copy_(rand(8))
            self.ln.bias.copy_(rand(8))
        self.plain = torch.nn.LayerNorm([4, 8], elementwise_affine=False, eps=1e-3)

    def forward(self, x):
        return self.plain(self.ln(x))


class ConvNeXtBlock(torch.nn.Module):
    """torchvision ConvNeXt's LayerNorm2d around a depthwise conv."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.ln = torch.nn.LayerNorm(8, eps=1e-6)
        with torch.no_grad():
            self.ln.weight.copy_(rand(8))
            self.ln.bias.copy_(rand(8))

    def forward(self, x):
        y = self.conv(x).permute(0, 2, 3, 1)
        return self.ln(y).permute(0, 3, 1, 2)


for name, module, shape in (("ln_lastdim", LastDim(), (2, 4, 8)), ("ln_convnext", ConvNeXtBlock(), (1, 8, 5, 6))):
    module.eval()
    x = rand(*shape)
    torch.onnx.export(module, x, os.path.join(OUT, name + ".onnx"), opset_version=13, input_names=["x"], output_names=["y"])
    save(name + "_x", x)
    save(name + "_y", module(x))
print("wrote", OUT)
