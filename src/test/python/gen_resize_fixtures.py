#!/usr/bin/python3
"""PyTorch oracle for jdnn's Resize/Upsample: torch.nn.functional.interpolate exported to ONNX.

Run from the repository root:  /usr/bin/python3 src/test/python/gen_resize_fixtures.py
Writes src/test/resources/fixtures/resize/<case>_op<opset>.onnx with x.npy-style inputs and outputs:
    <case>_op<opset>.onnx, <case>_x.npy (input), <case>_y.npy (torch's output), and cases.txt,
one line per exported model:  <case>_op<opset>[_folded] <mode>
Resize at opsets 11 and 13 (bilinear align_corners False/True, nearest, bicubic; scale_factor and
size), Upsample at opset 9 (nearest, the only mode whose opset-9 export matches torch).
Size-based exports compute `sizes` from Shape(x) → Slice → Concat in the graph (jdnn folds that at
prepare time); for those a second model <case>_op<opset>_folded.onnx has `sizes` as an initializer
(torch's own output shape) and the shape nodes removed, so Resize is tested without Slice.
"""
import os
import warnings

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper

OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "fixtures", "resize")
torch.manual_seed(1234)
warnings.filterwarnings("ignore")

# name, input shape, interpolate kwargs, opsets
CASES = [
    ("bilinear_ac0_x2", (1, 3, 5, 7), dict(scale_factor=2, mode="bilinear", align_corners=False), (11, 13)),
    ("bilinear_ac0_x1p5", (1, 2, 5, 6), dict(scale_factor=1.5, mode="bilinear", align_corners=False), (11, 13)),
    ("bilinear_ac0_size", (1, 2, 5, 7), dict(size=(8, 12), mode="bilinear", align_corners=False), (11, 13)),
    ("bilinear_ac0_down", (1, 2, 9, 10), dict(size=(4, 3), mode="bilinear", align_corners=False), (11, 13)),
    ("bilinear_ac0_seg", (1, 4, 4, 5), dict(size=(32, 40), mode="bilinear", align_corners=False), (11, 13)),
    ("bilinear_ac1_x2", (1, 3, 5, 7), dict(scale_factor=2, mode="bilinear", align_corners=True), (11, 13)),
    ("bilinear_ac1_size", (2, 2, 4, 6), dict(size=(7, 9), mode="bilinear", align_corners=True), (11, 13)),
    ("nearest_x2", (1, 3, 4, 5), dict(scale_factor=2, mode="nearest"), (9, 11, 13)),
    ("nearest_x3x2", (1, 2, 3, 4), dict(scale_factor=(3, 2), mode="nearest"), (9, 11, 13)),
    ("nearest_size", (1, 2, 5, 7), dict(size=(9, 10), mode="nearest"), (11, 13)),
    ("bicubic_ac0_x2", (1, 2, 5, 6), dict(scale_factor=2, mode="bicubic", align_corners=False), (11, 13)),
    ("bicubic_ac0_size", (1, 2, 6, 5), dict(size=(9, 7), mode="bicubic", align_corners=False), (11, 13)),
    ("bicubic_ac1_size", (1, 2, 4, 5), dict(size=(7, 8), mode="bicubic", align_corners=True), (11, 13)),
    ("linear_1d_x2", (1, 3, 6), dict(scale_factor=2, mode="linear", align_corners=False), (11, 13)),
    ("trilinear_size", (1, 2, 3, 4, 5), dict(size=(5, 6, 7), mode="trilinear", align_corners=False), (11, 13)),
]


# Antialiased downscaling (Resize-18 antialias=1 has no torch 1.13 export; jdnn's test builds the ONNX node):
# name, input shape, output size, torch mode.  Writes aa_<name>_x.npy and aa_<name>_y.npy.
ANTIALIAS = [
    ("bilinear", (1, 2, 12, 10), (5, 4), "bilinear"),
    ("bicubic", (1, 2, 11, 13), (4, 6), "bicubic"),
]


class Interp(torch.nn.Module):
    def __init__(self, kwargs):
        super().__init__()
        self.kwargs = kwargs

    def forward(self, x):
        return F.interpolate(x, **self.kwargs)


def fold_sizes(model, out_shape):
    """The model with Resize's computed `sizes` input replaced by a constant, or None if it had none."""
    g = model.graph
    if all(n.op_type in ("Constant", "Resize", "Upsample") for n in g.node):
        return None
    resize = next(n for n in g.node if n.op_type == "Resize")
    g.initializer.append(numpy_helper.from_array(np.array(out_shape, dtype=np.int64), "sizes_folded"))
    resize.input[3] = "sizes_folded"
    while True:  # drop nodes nothing reads any more
        used = {i for n in g.node for i in n.input} | {o.name for o in g.output}
        dead = [n for n in g.node if not any(o in used for o in n.output)]
        if not dead:
            break
        for n in dead:
            g.node.remove(n)
    onnx.checker.check_model(model)
    return model


def main():
    os.makedirs(OUT, exist_ok=True)
    lines = []
    for name, shape, kwargs, opsets in CASES:
        x = torch.randn(*shape)
        m = Interp(kwargs).eval()
        with torch.no_grad():
            y = m(x)
        np.save(os.path.join(OUT, name + "_x.npy"), x.numpy().astype(np.float32))
        np.save(os.path.join(OUT, name + "_y.npy"), y.numpy().astype(np.float32))
        for opset in opsets:
            path = os.path.join(OUT, f"{name}_op{opset}.onnx")
            torch.onnx.export(m, x, path, opset_version=opset, input_names=["x"], output_names=["y"], do_constant_folding=True)
            lines.append(f"{name}_op{opset} {kwargs['mode']}")
            folded = fold_sizes(onnx.load(path), y.shape)
            if folded is not None:
                onnx.save(folded, os.path.join(OUT, f"{name}_op{opset}_folded.onnx"))
                lines.append(f"{name}_op{opset}_folded {kwargs['mode']}")
    for name, shape, size, mode in ANTIALIAS:
        x = torch.randn(*shape)
        y = F.interpolate(x, size=size, mode=mode, align_corners=False, antialias=True)
        np.save(os.path.join(OUT, f"aa_{name}_x.npy"), x.numpy().astype(np.float32))
        np.save(os.path.join(OUT, f"aa_{name}_y.npy"), y.numpy().astype(np.float32))
    with open(os.path.join(OUT, "cases.txt"), "w") as f:
        f.write("# model (<case>_op<opset>[_folded]) mode; input <case>_x.npy, torch output <case>_y.npy\n")
        f.write("\n".join(lines) + "\n")
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"{len(lines)} models, {total} bytes in {OUT}")


if __name__ == "__main__":
    main()
