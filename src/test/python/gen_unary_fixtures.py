#!/usr/bin/python3
"""Expected outputs of jdnn's unary activations and math ops, computed by PyTorch/numpy in float64, and
small exported models for the GELU/SiLU rewrites and conv + activation fusion.

Run from the repository root:  /usr/bin/python3 src/test/python/gen_unary_fixtures.py
Writes src/test/resources/fixtures/unary/:
    x.npy              float32 [1, 601]: -12..12 step 0.04 (the op inputs)
    <case>.npy         float32 [1, 601]: the op applied to x in float64, rounded once (one file per case below)
    <model>.onnx       torch exports (opset 13 unless named), with <model>_input.npy / <model>_output.npy:
        conv_gelu       Conv2d(3,8,3,p=1) -> nn.GELU()      (exported as the Div/Erf/Add/Mul/Mul pattern)
        conv_silu       Conv2d(3,8,3,p=1) -> nn.SiLU()      (Sigmoid + Mul)
        conv_hardswish  Conv2d(3,8,3,p=1) -> nn.Hardswish() (opset 14: HardSwish)
        conv_hardsigmoid Conv2d(3,8,3,p=1) -> nn.Hardsigmoid() (HardSigmoid alpha=1/6)
        bert_gelu       x * 0.5 * (1.0 + erf(x / sqrt(2)))  (the other multiplication order)
"""
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "fixtures", "unary")
os.makedirs(OUT, exist_ok=True)

x32 = (np.arange(601, dtype=np.float64) * 0.04 - 12.0).astype(np.float32).reshape(1, 601)
x = torch.from_numpy(x32.astype(np.float64))
np.save(os.path.join(OUT, "x.npy"), x32)


def softplus(t):
    return torch.where(t > 0, t + torch.log1p(torch.exp(-t)), torch.log1p(torch.exp(t)))


CASES = {
    "abs": torch.abs(x),
    "neg": -x,
    "sign": torch.sign(x),
    "floor": torch.floor(x),
    "ceil": torch.ceil(x),
    "round": torch.round(x),  # half to even
    "reciprocal": 1.0 / x,
    "exp": torch.exp(x),
    "tanh": torch.tanh(x),
    "erf": torch.erf(x),
    "sigmoid": torch.sigmoid(x),
    "hardsigmoid": torch.clamp(0.2 * x + 0.5, 0, 1),
    "hardsigmoid_a05_b025": torch.clamp(0.5 * x + 0.25, 0, 1),
    "hardswish": F.hardswish(x),
    "elu": F.elu(x),
    "elu_a05": F.elu(x, alpha=0.5),
    "selu": 1.05070102214813232421875 * torch.where(x > 0, x, 1.67326319217681884765625 * torch.expm1(x)),
    "celu": F.celu(x),
    "celu_a2": F.celu(x, alpha=2.0),
    "softplus": softplus(x),
    "softsign": F.softsign(x),
    "mish": x * torch.tanh(softplus(x)),
    "thresholdedrelu": torch.where(x > 1.0, x, torch.zeros_like(x)),
    "thresholdedrelu_a2": torch.where(x > 2.0, x, torch.zeros_like(x)),
    "gelu": 0.5 * x * torch.erfc(-x / math.sqrt(2)),
    "gelu_tanh": F.gelu(x, approximate="tanh"),
    "silu": F.silu(x),
    "pow3": x ** 3,
    "pow_m2": x ** -2,
}
ax = torch.from_numpy((np.abs(x32) + np.float32(0.01)).astype(np.float32).astype(np.float64))
CASES["sqrt"] = torch.sqrt(ax)          # on |x| + 0.01 (see the Java test)
CASES["log"] = torch.log(ax)
CASES["pow_1_5"] = ax ** 1.5
for name, y in CASES.items():
    np.save(os.path.join(OUT, name + ".npy"), y.numpy().astype(np.float32))


class ConvAct(torch.nn.Module):
    def __init__(self, act):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.act = act

    def forward(self, t):
        return self.act(self.conv(t))


class BertGelu(torch.nn.Module):
    def forward(self, t):
        return t * 0.5 * (1.0 + torch.erf(t / math.sqrt(2.0)))


torch.manual_seed(0)
MODELS = {
    "conv_gelu": (ConvAct(torch.nn.GELU()), 13),
    "conv_silu": (ConvAct(torch.nn.SiLU()), 13),
    "conv_hardswish": (ConvAct(torch.nn.Hardswish()), 14),
    "conv_hardsigmoid": (ConvAct(torch.nn.Hardsigmoid()), 13),
    "bert_gelu": (BertGelu(), 13),
}
for name, (module, opset) in MODELS.items():
    module.eval()
    inp = torch.randn(1, 3, 6, 5) * 2
    with torch.no_grad():
        out = module(inp)
    torch.onnx.export(module, inp, os.path.join(OUT, name + ".onnx"), opset_version=opset,
                      input_names=["x"], output_names=["y"])
    np.save(os.path.join(OUT, name + "_input.npy"), inp.numpy())
    np.save(os.path.join(OUT, name + "_output.npy"), out.numpy())
