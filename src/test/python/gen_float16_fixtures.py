#!/usr/bin/python3
"""PyTorch oracle for float16 ONNX models (jdnn computes their float16 values in float32).

Run from the repository root:  /usr/bin/python3 src/test/python/gen_float16_fixtures.py
Writes src/test/resources/fixtures/float16/ (about 30 KB):
  cnn_fp16.onnx        a small CNN (conv+BN+ReLU+maxpool, conv+BN+ReLU, global average pool, linear) exported
                       in float32 by torch 1.13 (whose CPU kernels have no float16 convolution, so model.half()
                       cannot be traced), then converted as onnxconverter-common's float16 tool does with
                       keep_io_types=False: every float initializer float16, graph input and output float16
  cnn_fp16_io32.onnx   the same converted with keep_io_types=True: float32 input and output, Cast(to=FLOAT16)
                       after the input and Cast(to=FLOAT) before the output
  x.npy                the input, float16 (2×3×16×16)
  y32.npy              the float32 PyTorch model's output on x: what the float16 model approximates
  y16w.npy             PyTorch in float32 with weights and BN statistics rounded to float16 (model.half().float()),
                       the output rounded to float16: what computing the float16 model in float32 gives
  cast_roundtrip.onnx  x (float32) → Cast(to=FLOAT16) → Cast(to=FLOAT) → y (float32)
  cast_x.npy, cast_y.npy  values next to float16 rounding ties, out of range and subnormal; y = numpy's
                       x.astype(float16).astype(float32) (round to nearest, ties to even)
"""
import os
import warnings

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "fixtures", "float16")
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(1612)
np.random.seed(1612)
warnings.filterwarnings("ignore")


def save(name, a):
    np.save(os.path.join(OUT, name + ".npy"), a)


class SmallCnn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(8)
        self.conv2 = torch.nn.Conv2d(8, 16, 3, padding=1)
        self.bn2 = torch.nn.BatchNorm2d(16)
        self.fc = torch.nn.Linear(16, 10)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 2)
        x = torch.relu(self.bn2(self.conv2(x)))
        return self.fc(torch.flatten(torch.nn.functional.adaptive_avg_pool2d(x, 1), 1))


model = SmallCnn()
with torch.no_grad():
    for bn in (model.bn1, model.bn2):   # trained-looking statistics, so BN folding matters
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.3, 0.3)
model.eval()

x16 = (np.random.randn(2, 3, 16, 16)).astype(np.float16)
x = torch.from_numpy(x16.astype(np.float32))
with torch.no_grad():
    y32 = model(x).numpy()
    y16w = SmallCnn()
    y16w.load_state_dict(model.state_dict())
    y16w = y16w.half().float().eval()(x).numpy().astype(np.float16)
save("x", x16)
save("y32", y32.astype(np.float32))
save("y16w", y16w)

path32 = os.path.join(OUT, "cnn_fp32.onnx")
torch.onnx.export(model, x, path32, input_names=["x"], output_names=["y"], opset_version=13,
                  dynamic_axes={"x": {0: "n"}, "y": {0: "n"}}, training=torch.onnx.TrainingMode.PRESERVE,
                  do_constant_folding=False)
base = onnx.load(path32)
os.remove(path32)
assert any(n.op_type == "BatchNormalization" for n in base.graph.node), [n.op_type for n in base.graph.node]


def to_float16(m, keep_io_types):
    """onnxconverter-common's convert_float_to_float16, for the ops this model has."""
    m = onnx.ModelProto.FromString(m.SerializeToString())
    g = m.graph
    for i, t in enumerate(g.initializer):
        if t.data_type == TensorProto.FLOAT:
            h = numpy_helper.from_array(numpy_helper.to_array(t).astype(np.float16), t.name)
            g.initializer[i].CopyFrom(h)
    for n in g.node:   # Constant nodes holding float tensors
        for a in n.attribute:
            if a.type == onnx.AttributeProto.TENSOR and a.t.data_type == TensorProto.FLOAT:
                a.t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(a.t).astype(np.float16), a.t.name))
    if not keep_io_types:
        for v in list(g.input) + list(g.output):
            v.type.tensor_type.elem_type = TensorProto.FLOAT16
        return m
    inp, out = g.input[0].name, g.output[0].name
    for n in g.node:
        n.input[:] = [inp + "_fp16" if s == inp else s for s in n.input]
        n.output[:] = [out + "_fp16" if s == out else s for s in n.output]
    g.node.insert(0, helper.make_node("Cast", [inp], [inp + "_fp16"], name="graph_input_cast0", to=TensorProto.FLOAT16))
    g.node.append(helper.make_node("Cast", [out + "_fp16"], [out], name="graph_output_cast0", to=TensorProto.FLOAT))
    return m


for name, keep in (("cnn_fp16", False), ("cnn_fp16_io32", True)):
    m = to_float16(base, keep)
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(OUT, name + ".onnx"))

# Cast round trip: ties between float16 neighbours (1 + 2^-11 rounds to 1, 1 + 3·2^-11 to 1 + 2^-9), the largest
# finite float16 and what rounds past it (65520 → inf), float16 subnormals, and ordinary values.
cast_x = np.array([1 + 2 ** -11, 1 + 3 * 2 ** -11, -(1 + 2 ** -11), 65504, 65519.99, 65520, -70000, 2 ** -24, 2 ** -25,
                   3 * 2 ** -26, 1e-8, 0.1, -3.14159, 1000.3, np.inf, -np.inf, 0.0], dtype=np.float32)
save("cast_x", cast_x)
save("cast_y", cast_x.astype(np.float16).astype(np.float32))
g = helper.make_graph([helper.make_node("Cast", ["x"], ["h"], to=TensorProto.FLOAT16),
                       helper.make_node("Cast", ["h"], ["y"], to=TensorProto.FLOAT)], "cast_roundtrip",
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, [len(cast_x)])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [len(cast_x)])])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
onnx.checker.check_model(m)
onnx.save(m, os.path.join(OUT, "cast_roundtrip.onnx"))
print("wrote", sorted(os.listdir(OUT)))
