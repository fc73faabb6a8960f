#!/usr/bin/python3
"""PyTorch oracle for jdnn's BatchNorm: real torch.nn.BatchNorm1d/2d/3d, train steps then eval.

Run from the repository root:  /usr/bin/python3 src/test/python/gen_batchnorm_fixtures.py
Writes src/test/resources/fixtures/batchnorm/<case>/*.npy and cases.txt (one line per case):
    name dims eps momentum affine track steps
momentum is 'none' for a cumulative moving average. Per case:
    weight.npy bias.npy                     γ, β (set to non-trivial values before step 1; absent if not affine)
    running_mean_0.npy running_var_0.npy    running stats before step 1 (non-trivial; absent if not tracking)
    x_<k>.npy y_<k>.npy                     train step k input and output (k = 1..steps)
    batch_mean_<k>.npy batch_var_<k>.npy    the batch's mean and biased variance at step k (independent numpy)
    running_mean_<k>.npy running_var_<k>.npy num_batches_<k>.npy   state after step k
    x_eval.npy y_eval.npy                   eval-mode forward after the last step
"""
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "fixtures", "batchnorm")
torch.manual_seed(1234)

CASES = [
    # name, module class, input dims, options, train steps
    ("bn2d_default", torch.nn.BatchNorm2d, (4, 3, 5, 6), dict(), 3),
    ("bn2d_momentum_none", torch.nn.BatchNorm2d, (2, 4, 3, 3), dict(momentum=None), 4),
    ("bn2d_affine_off", torch.nn.BatchNorm2d, (3, 2, 4, 4), dict(affine=False), 2),
    ("bn2d_no_running_stats", torch.nn.BatchNorm2d, (3, 3, 4, 2), dict(track_running_stats=False), 2),
    ("bn2d_eps_1e-3_momentum_0.3", torch.nn.BatchNorm2d, (2, 5, 3, 4), dict(eps=1e-3, momentum=0.3), 2),
    ("bn2d_eps_0.1", torch.nn.BatchNorm2d, (2, 3, 2, 2), dict(eps=0.1), 1),
    ("bn2d_c1", torch.nn.BatchNorm2d, (5, 1, 3, 3), dict(), 2),
    ("bn2d_hw1", torch.nn.BatchNorm2d, (6, 4, 1, 1), dict(), 2),
    ("bn2d_n1_spatial", torch.nn.BatchNorm2d, (1, 3, 4, 5), dict(), 2),
    ("bn1d_2d_input", torch.nn.BatchNorm1d, (8, 6), dict(), 3),
    ("bn1d_3d_input", torch.nn.BatchNorm1d, (4, 3, 7), dict(), 2),
    ("bn3d", torch.nn.BatchNorm3d, (2, 3, 3, 4, 2), dict(), 2),
    ("bn2d_cnn_like", torch.nn.BatchNorm2d, (2, 16, 7, 7), dict(), 2),
]


def save(case_dir, name, tensor):
    np.save(os.path.join(case_dir, name + ".npy"), np.ascontiguousarray(tensor.detach().numpy().astype(np.float32)))


def main():
    os.makedirs(OUT, exist_ok=True)
    lines = []
    for name, cls, dims, options, steps in CASES:
        case_dir = os.path.join(OUT, name)
        os.makedirs(case_dir, exist_ok=True)
        c = dims[1]
        bn = cls(c, **options)
        if bn.affine:
            with torch.no_grad():
                bn.weight.copy_(torch.rand(c) + 0.5)
                bn.bias.copy_(torch.randn(c) * 0.3)
            save(case_dir, "weight", bn.weight)
            save(case_dir, "bias", bn.bias)
        if bn.track_running_stats:
            with torch.no_grad():
                bn.running_mean.copy_(torch.randn(c) * 0.2)
                bn.running_var.copy_(torch.rand(c) + 0.5)
            save(case_dir, "running_mean_0", bn.running_mean)
            save(case_dir, "running_var_0", bn.running_var)
        bn.train()
        for k in range(1, steps + 1):
            # Non-zero mean and non-unit scale per channel so the statistics matter.
            shift = torch.randn(c).reshape((1, c) + (1,) * (len(dims) - 2))
            x = torch.randn(dims) * 1.7 + shift
            with torch.no_grad():
                y = bn(x)
            save(case_dir, f"x_{k}", x)
            save(case_dir, f"y_{k}", y)
            axes = (0,) + tuple(range(2, len(dims)))
            xs = x.double().numpy()
            np.save(os.path.join(case_dir, f"batch_mean_{k}.npy"), xs.mean(axis=axes).astype(np.float32))
            np.save(os.path.join(case_dir, f"batch_var_{k}.npy"), xs.var(axis=axes).astype(np.float32))
            if bn.track_running_stats:
                save(case_dir, f"running_mean_{k}", bn.running_mean)
                save(case_dir, f"running_var_{k}", bn.running_var)
                np.save(os.path.join(case_dir, f"num_batches_{k}.npy"),
                        np.array([float(bn.num_batches_tracked.item())], dtype=np.float32))
        bn.eval()
        x = torch.randn(dims) * 1.3 + 0.2
        with torch.no_grad():
            y = bn(x)
        save(case_dir, "x_eval", x)
        save(case_dir, "y_eval", y)
        momentum = "none" if bn.momentum is None else repr(float(bn.momentum))
        lines.append(f"{name} {','.join(map(str, dims))} {bn.eps!r} {momentum} {str(bn.affine).lower()} "
                     f"{str(bn.track_running_stats).lower()} {steps}")
    seed_conv_bn()
    with open(os.path.join(OUT, "cases.txt"), "w") as f:
        f.write("# name dims eps momentum affine track steps (written by src/test/python/gen_batchnorm_fixtures.py)\n")
        f.write("\n".join(lines) + "\n")
    print("wrote", len(lines), "cases to", OUT)


def seed_conv_bn():
    """The seed's pipeline: conv -> BatchNorm2d, one train-mode forward, then the same input in eval."""
    case_dir = os.path.join(OUT, "seed_conv_bn")
    os.makedirs(case_dir, exist_ok=True)
    conv = torch.nn.Conv2d(3, 4, 3, padding=1)
    bn = torch.nn.BatchNorm2d(4)
    with torch.no_grad():
        bn.weight.copy_(torch.rand(4) + 0.5)
        bn.bias.copy_(torch.randn(4) * 0.3)
    model = torch.nn.Sequential(conv, bn)
    x = torch.randn(2, 3, 6, 6)
    model.train()
    with torch.no_grad():
        conv_out = conv(x)
        y_train = model(x)
    model.eval()
    with torch.no_grad():
        y_eval = model(x)
    for name, t in [("x", x), ("conv_weight", conv.weight), ("conv_bias", conv.bias), ("conv_out", conv_out),
                    ("bn_weight", bn.weight), ("bn_bias", bn.bias), ("y_train", y_train), ("y_eval", y_eval),
                    ("running_mean", bn.running_mean), ("running_var", bn.running_var)]:
        save(case_dir, name, t)


if __name__ == "__main__":
    main()
