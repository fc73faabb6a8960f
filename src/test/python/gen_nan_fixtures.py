#!/usr/bin/python3
"""NaN and ±Inf propagation oracles: small PyTorch modules exported to ONNX, with NaN/±Inf placed in the
input or in the weights, and PyTorch's output as the expected result.

Run from the repository root:  /usr/bin/python3 src/test/python/gen_nan_fixtures.py
Writes src/test/resources/fixtures/nan/<case>/{model.onnx,x.npy,y.npy}. NanPropagationTest runs each
model on the Java reference and the native backend and requires the same NaN positions as PyTorch and
infinities of the same sign; finite values within 1e-4.
"""
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "fixtures", "nan")
torch.manual_seed(7)
NAN, INF = float("nan"), float("inf")


def image(n=1, c=3, h=6, w=6, specials=((0, 0, 1, 1, NAN), (0, 1, 4, 2, INF), (0, 2, 2, 5, -INF))):
    x = torch.randn(n, c, h, w)
    for (b, ch, i, j, v) in specials:
        x[b, ch, i, j] = v
    return x


class Lambda(nn.Module):
    def __init__(self, f):
        super().__init__()
        self.f = f

    def forward(self, x):
        return self.f(x)


def conv(weights_special=None):
    m = nn.Conv2d(3, 4, 3, padding=1)
    if weights_special is not None:
        with torch.no_grad():
            m.weight[1, 0, 1, 1] = weights_special
    return m


def bn(mean_special=None, var_special=None, weight_special=None):
    m = nn.BatchNorm2d(3)
    with torch.no_grad():
        m.running_mean.copy_(torch.randn(3))
        m.running_var.copy_(torch.rand(3) + 0.5)
        m.weight.copy_(torch.randn(3))
        m.bias.copy_(torch.randn(3))
        if mean_special is not None:
            m.running_mean[1] = mean_special
        if var_special is not None:
            m.running_var[2] = var_special
        if weight_special is not None:
            m.weight[0] = weight_special
    return m.eval()


def finite_image():
    return torch.randn(1, 3, 6, 6)


CASES = {
    # name: (module, input)
    "conv_nan_inf_input": (conv(), image()),
    "conv_inf_weight": (conv(INF), finite_image()),
    "conv_nan_weight": (conv(NAN), finite_image()),
    "conv_relu_nan_input": (nn.Sequential(conv(), nn.ReLU()), image()),
    "bn_nan_inf_input": (bn(), image()),
    "bn_inf_mean": (bn(mean_special=INF), finite_image()),
    "bn_nan_weight": (bn(weight_special=NAN), finite_image()),
    "conv_bn_relu_nan_input": (nn.Sequential(conv(), bn_like := nn.BatchNorm2d(4).eval(), nn.ReLU()), image()),
    "maxpool_nan_inf_input": (nn.MaxPool2d(2), image()),
    "maxpool_nan_only_window": (nn.MaxPool2d(2), image(specials=((0, 0, 0, 0, NAN), (0, 0, 0, 1, NAN), (0, 0, 1, 0, NAN), (0, 0, 1, 1, NAN), (0, 1, 3, 3, -INF)))),
    "maxpool_pad_stride_nan": (nn.MaxPool2d(3, stride=2, padding=1), image()),
    "avgpool_nan_inf_input": (nn.AvgPool2d(2), image()),
    "avgpool_pad_inf": (nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False), image(specials=((0, 0, 2, 2, INF), (0, 0, 2, 3, -INF), (0, 1, 0, 0, NAN)))),
    "global_avgpool_nan_inf": (nn.AdaptiveAvgPool2d(1), image()),
    "global_maxpool_nan_inf": (Lambda(lambda x: F.max_pool2d(x, kernel_size=x.shape[2:])), image()),
    "softmax_inf_nan": (nn.Softmax(dim=1), image(specials=((0, 0, 1, 1, NAN), (0, 1, 4, 2, INF), (0, 2, 2, 5, -INF), (0, 0, 3, 3, INF), (0, 1, 3, 3, INF)))),
    "log_softmax_inf": (nn.LogSoftmax(dim=1), image(specials=((0, 1, 4, 2, INF), (0, 2, 2, 5, -INF), (0, 0, 0, 0, NAN)))),
    "reduce_sum_nan_inf": (Lambda(lambda x: torch.sum(x, dim=(2, 3), keepdim=True)), image()),
    "reduce_mean_inf_minus_inf": (Lambda(lambda x: torch.mean(x, dim=3, keepdim=True)), image(specials=((0, 0, 1, 1, INF), (0, 0, 1, 2, -INF), (0, 1, 0, 0, NAN)))),
    "reduce_max_nan": (Lambda(lambda x: torch.amax(x, dim=1, keepdim=True)), image()),
    "reduce_min_nan": (Lambda(lambda x: torch.amin(x, dim=1, keepdim=True)), image()),
    "relu6_nan_inf": (nn.ReLU6(), image()),
    "gemm_inf_input": (nn.Sequential(nn.Flatten(), nn.Linear(108, 5)), image()),
}


def main():
    for name, (module, x) in CASES.items():
        module = module.eval()
        d = os.path.join(OUT, name)
        os.makedirs(d, exist_ok=True)
        with torch.no_grad():
            y = module(x)
        torch.onnx.export(module, x, os.path.join(d, "model.onnx"), input_names=["x"], output_names=["y"], opset_version=13,
                          do_constant_folding=False)
        np.save(os.path.join(d, "x.npy"), x.numpy().astype(np.float32))
        np.save(os.path.join(d, "y.npy"), y.numpy().astype(np.float32))
        print(name, tuple(y.shape), "nan:", int(torch.isnan(y).sum()), "inf:", int(torch.isinf(y).sum()))


if __name__ == "__main__":
    main()
