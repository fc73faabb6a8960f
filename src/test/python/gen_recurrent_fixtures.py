"""PyTorch oracles for jdnn's recurrent ops LSTM, GRU and RNN (RecurrentOpsTest).

Writes src/test/resources/fixtures/recurrent/: small models exported by torch 1.13 with a symbolic sequence
length (or, for the CRNN, a symbolic image width), inputs at two lengths and PyTorch's outputs as .npy:
- lstm2_bi_opset{13,14}.onnx: nn.LSTM(8, 12, num_layers=2, bidirectional=True, batch_first=True) with given
  (h0, c0); outputs y (N×T×24), h_n and c_n (4×N×12);
- gru_bi_opset{13,14}.onnx: nn.GRU(6, 10, bidirectional=True) sequence-first (PyTorch exports it with
  linear_before_reset=1) with a given h0; outputs y (T×N×20) and h_n;
- rnn_relu_opset14.onnx: nn.RNN(5, 7, nonlinearity="relu") (exported with activations ["Relu"]); outputs y, h_n;
- crnn_opset14.onnx: a CRNN line recogniser (three conv/ReLU/max-pool stages on a 1×32×W grey line, the
  4-row feature map flattened into a W/4-step sequence, a bidirectional LSTM, a Linear to 37 classes, LogSoftmax)
  with a symbolic batch and width, run at widths 48 and 96 (batch 2);
- packed_{lstm,gru}_*: per-batch sequence lengths [5, 2, 3] through torch's pack_padded_sequence (the reverse
  direction runs each sequence's valid steps backwards; Y is zero past a length), with the weights rearranged into
  ONNX's gate order (LSTM i,o,f,c from torch's i,f,g,o; GRU z,r,h from torch's r,z,n) for a one-node ONNX model.
Run from the repository root: /usr/bin/python3 src/test/python/gen_recurrent_fixtures.py
"""
import os

import numpy as np
import torch

OUT = "src/test/resources/fixtures/recurrent"
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(29)
g = torch.Generator().manual_seed(31)


def rand(*shape):
    return torch.randn(*shape, generator=g)


def save(name, t):
    np.save(os.path.join(OUT, name + ".npy"), t.detach().numpy().astype(np.float32))


def export(model, args, name, opset, input_names, output_names, dynamic_axes):
    torch.onnx.export(model, args, os.path.join(OUT, name + ".onnx"), opset_version=opset, input_names=input_names,
                      output_names=output_names, dynamic_axes=dynamic_axes, do_constant_folding=True)


class Lstm(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(8, 12, num_layers=2, bidirectional=True, batch_first=True)

    def forward(self, x, h0, c0):
        y, (h, c) = self.lstm(x, (h0, c0))
        return y, h, c


class Gru(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = torch.nn.GRU(6, 10, bidirectional=True)

    def forward(self, x, h0):
        return self.gru(x, h0)


class Rnn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = torch.nn.RNN(5, 7, nonlinearity="relu")

    def forward(self, x):
        return self.rnn(x)


class Crnn(torch.nn.Module):
    """1×32×W → conv stages → N×32×4×(W/4) → sequence (W/4)×N×128 → BiLSTM(32) → Linear(64→37) → LogSoftmax."""

    def __init__(self):
        super().__init__()
        def stage(cin, cout, pool):
            return [torch.nn.Conv2d(cin, cout, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(pool)]
        self.cnn = torch.nn.Sequential(*stage(1, 8, 2), *stage(8, 16, 2), *stage(16, 32, (2, 1)))
        self.rnn = torch.nn.LSTM(32 * 4, 32, bidirectional=True)
        self.fc = torch.nn.Linear(64, 37)

    def forward(self, x):
        f = self.cnn(x)                       # N×32×4×(W/4)
        n, c, h, w = f.shape
        seq = f.reshape(n, c * h, w).permute(2, 0, 1)   # (W/4)×N×128
        y, _ = self.rnn(seq)                  # (W/4)×N×64
        return self.fc(y).log_softmax(2)      # (W/4)×N×37


with torch.no_grad():
    lstm = Lstm().eval()
    for opset in (13, 14):
        export(lstm, (rand(2, 5, 8), rand(4, 2, 12), rand(4, 2, 12)), f"lstm2_bi_opset{opset}", opset,
               ["x", "h0", "c0"], ["y", "h", "c"], {"x": {1: "T"}, "y": {1: "T"}})
    for t in (5, 9):
        x, h0, c0 = rand(2, t, 8), rand(4, 2, 12), rand(4, 2, 12)
        y, h, c = lstm(x, h0, c0)
        for k, v in dict(x=x, h0=h0, c0=c0, y=y, h=h, c=c).items():
            save(f"lstm2_bi_t{t}_{k}", v)

    gru = Gru().eval()
    for opset in (13, 14):
        export(gru, (rand(4, 3, 6), rand(2, 3, 10)), f"gru_bi_opset{opset}", opset, ["x", "h0"], ["y", "h"],
               {"x": {0: "T"}, "y": {0: "T"}})
    for t in (4, 7):
        x, h0 = rand(t, 3, 6), rand(2, 3, 10)
        y, h = gru(x, h0)
        for k, v in dict(x=x, h0=h0, y=y, h=h).items():
            save(f"gru_bi_t{t}_{k}", v)

    rnn = Rnn().eval()
    export(rnn, (rand(3, 2, 5),), "rnn_relu_opset14", 14, ["x"], ["y", "h"], {"x": {0: "T"}, "y": {0: "T"}})
    x = rand(6, 2, 5)
    y, h = rnn(x)
    for k, v in dict(x=x, y=y, h=h).items():
        save(f"rnn_relu_t6_{k}", v)

    crnn = Crnn().eval()
    export(crnn, (rand(1, 1, 32, 64),), "crnn_opset14", 14, ["image"], ["logprobs"],
           {"image": {0: "N", 3: "W"}, "logprobs": {0: "T", 1: "N"}})
    for w in (48, 96):
        x = rand(2, 1, 32, w)
        save(f"crnn_w{w}_image", x)
        save(f"crnn_w{w}_logprobs", crnn(x))


def onnx_gates(t, order, hidden):
    """torch's stacked gate blocks (rows of `hidden`) rearranged into ONNX's order (indices into torch's blocks)."""
    return torch.cat([t[k * hidden:(k + 1) * hidden] for k in order])


def packed(kind, module, order):
    x, lengths = rand(5, 3, 4), torch.tensor([5, 2, 3])
    h0 = rand(2, 3, 6)
    state = (h0, rand(2, 3, 6)) if kind == "lstm" else h0
    out, final = module(torch.nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False), state)
    y, _ = torch.nn.utils.rnn.pad_packed_sequence(out, total_length=5)   # 5×3×(2·6), zeros past each length
    weights = {"w": [], "r": [], "b": []}
    for suffix in ("", "_reverse"):
        p = {n: getattr(module, n + suffix) for n in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")}
        weights["w"].append(onnx_gates(p["weight_ih_l0"], order, 6))
        weights["r"].append(onnx_gates(p["weight_hh_l0"], order, 6))
        weights["b"].append(torch.cat([onnx_gates(p["bias_ih_l0"], order, 6), onnx_gates(p["bias_hh_l0"], order, 6)]))
    save(f"packed_{kind}_x", x)
    np.save(os.path.join(OUT, f"packed_{kind}_lengths.npy"), lengths.numpy().astype(np.int32))
    save(f"packed_{kind}_h0", h0)
    for k, v in weights.items():
        save(f"packed_{kind}_{k}", torch.stack(v))
    save(f"packed_{kind}_y", y.reshape(5, 3, 2, 6).permute(0, 2, 1, 3))   # ONNX Y: T×D×N×H
    if kind == "lstm":
        save(f"packed_{kind}_c0", state[1])
        save(f"packed_{kind}_h", final[0])
        save(f"packed_{kind}_c", final[1])
    else:
        save(f"packed_{kind}_h", final)


with torch.no_grad():
    packed("lstm", torch.nn.LSTM(4, 6, bidirectional=True).eval(), [0, 3, 1, 2])   # torch i,f,g,o → ONNX i,o,f,c
    packed("gru", torch.nn.GRU(4, 6, bidirectional=True).eval(), [1, 0, 2])        # torch r,z,n → ONNX z,r,h


def zero_length(op, gates):
    """A bidirectional one-node model with sequence_lens [3, 0] and initial_h 0.5: ONNX Runtime 1.29's outputs
    for X = 1..6 (3×2×1) are quoted in RecurrentOpsTest (it leaves Y_h zero for a length-0 sequence)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(1)
    hidden = 2
    inits = [numpy_helper.from_array(rng.standard_normal((2, gates * hidden, 1)).astype(np.float32), "W"),
             numpy_helper.from_array(rng.standard_normal((2, gates * hidden, hidden)).astype(np.float32), "R"),
             numpy_helper.from_array(np.array([3, 0], dtype=np.int32), "L"),
             numpy_helper.from_array(np.full((2, 2, hidden), 0.5, dtype=np.float32), "h0")]
    node = helper.make_node(op, ["X", "W", "R", "", "L", "h0"], ["Y", "Y_h"], hidden_size=hidden, direction="bidirectional")
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [3, 2, 1])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None),
                               helper.make_tensor_value_info("Y_h", TensorProto.FLOAT, None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 8
    onnx.save(model, os.path.join(OUT, f"zero_length_{op.lower()}.onnx"))


zero_length("LSTM", 4)
zero_length("GRU", 3)
