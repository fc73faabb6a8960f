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


# ---- What no exporter writes: an independent numpy implementation of ONNX's equations as the oracle ----

NP_FUNCTIONS = {
    "sigmoid": lambda x, a, b: 1 / (1 + np.exp(-x)),
    "tanh": lambda x, a, b: np.tanh(x),
    "relu": lambda x, a, b: np.maximum(x, 0),
    "affine": lambda x, a, b: a * x + b,
    "leakyrelu": lambda x, a, b: np.where(x >= 0, x, a * x),
    "thresholdedrelu": lambda x, a, b: np.where(x >= a, x, 0),
    "scaledtanh": lambda x, a, b: a * np.tanh(b * x),
    "hardsigmoid": lambda x, a, b: np.clip(a * x + b, 0, 1),
    "elu": lambda x, a, b: np.where(x >= 0, x, a * (np.exp(x) - 1)),
    "softsign": lambda x, a, b: x / (1 + np.abs(x)),
    "softplus": lambda x, a, b: np.log1p(np.exp(x)),
}


def np_recurrent(op, x, w, r, b, h0, c0, p, funcs, clip, input_forget, lbr, reverse):
    """ONNX's equations in float64, sequence-first X T×N×I, one direction: returns Y T×N×H, H_T, C_T."""
    hidden = r.shape[-1]
    gates = w.shape[0] // hidden
    wb, rb = b[:gates * hidden], b[gates * hidden:]
    f = [lambda v, fn=fn: NP_FUNCTIONS[fn[0]](v, fn[1], fn[2]) for fn in funcs]
    cl = (lambda v: np.clip(v, -clip, clip)) if clip else (lambda v: v)
    h, c = h0.copy(), c0.copy()
    ys = [None] * len(x)
    for t in (range(len(x) - 1, -1, -1) if reverse else range(len(x))):
        if op == "LSTM":
            g = x[t] @ w.T + h @ r.T + wb + rb
            gi, go, gf, gc = np.split(g, 4, axis=1)
            i = f[0](cl(gi + p[:hidden] * c))
            fg = 1 - i if input_forget else f[0](cl(gf + p[2 * hidden:] * c))
            c = fg * c + i * f[1](cl(gc))
            o = f[0](cl(go + p[hidden:2 * hidden] * c))
            h = o * f[2](c)
        elif op == "GRU":
            gx = x[t] @ w.T + wb
            z = f[0](cl(gx[:, :hidden] + h @ r[:hidden].T + rb[:hidden]))
            rr = f[0](cl(gx[:, hidden:2 * hidden] + h @ r[hidden:2 * hidden].T + rb[hidden:2 * hidden]))
            rh, rbh = r[2 * hidden:], rb[2 * hidden:]
            cand = gx[:, 2 * hidden:] + (rr * (h @ rh.T + rbh) if lbr else (rr * h) @ rh.T + rbh)
            h = (1 - z) * f[1](cl(cand)) + z * h
        else:
            h = f[0](cl(x[t] @ w.T + h @ r.T + wb + rb))
        ys[t] = h
    return np.stack(ys), h, c


def spec_case(name, op, attrs, funcs, clip=None, input_forget=0, lbr=0, layout=0, directions=2, steps=4, batch=3, inp=3, hidden=4):
    """A one-node model with every optional input, run through np_recurrent per direction; writes spec_<name>.onnx
    and spec_<name>_{x,y,y_h,y_c}.npy (outputs in the node's layout)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(sum(map(ord, name)))
    gates = {"LSTM": 4, "GRU": 3, "RNN": 1}[op]
    x = rng.standard_normal((steps, batch, inp))
    w = rng.standard_normal((directions, gates * hidden, inp)) * 0.7
    r = rng.standard_normal((directions, gates * hidden, hidden)) * 0.7
    b = rng.standard_normal((directions, 2 * gates * hidden)) * 0.5
    h0 = rng.standard_normal((directions, batch, hidden)) * 0.5
    c0 = rng.standard_normal((directions, batch, hidden)) * 0.5
    p = rng.standard_normal((directions, 3 * hidden)) * 0.5
    y, yh, yc = [], [], []
    for d in range(directions):
        reverse = attrs.get("direction") == "reverse" or d == 1
        out = np_recurrent(op, x, w[d], r[d], b[d], h0[d], c0[d], p[d], funcs[d], clip, input_forget, lbr, reverse)
        y.append(out[0]); yh.append(out[1]); yc.append(out[2])
    y, yh, yc = np.stack(y, 1), np.stack(yh), np.stack(yc)     # T×D×N×H, D×N×H
    if layout:
        x, y, yh, yc = x.transpose(1, 0, 2), y.transpose(2, 0, 1, 3), yh.transpose(1, 0, 2), yc.transpose(1, 0, 2)
        h0, c0 = h0.transpose(1, 0, 2), c0.transpose(1, 0, 2)
    names = ["X", "W", "R", "B", "", "initial_h"] + (["initial_c", "P"] if op == "LSTM" else [])
    outputs = ["Y", "Y_h"] + (["Y_c"] if op == "LSTM" else [])
    values = {"W": w, "R": r, "B": b, "initial_h": h0, "initial_c": c0, "P": p}
    inits = [numpy_helper.from_array(values[n].astype(np.float32), n) for n in names[1:] if n]
    node = helper.make_node(op, names, outputs, hidden_size=hidden, **attrs)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT, list(x.shape))],
                              [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 8
    onnx.save(model, os.path.join(OUT, f"spec_{name}.onnx"))
    for k, v in dict(x=x, y=y, y_h=yh, y_c=yc).items():
        if k != "y_c" or op == "LSTM":
            np.save(os.path.join(OUT, f"spec_{name}_{k}.npy"), v.astype(np.float32))


# LSTM: per-direction activations with alphas/betas, clip, peepholes, initial states, batch-first layout.
spec_case("lstm_activations", "LSTM",
          dict(direction="bidirectional", layout=1, clip=1.5,
               activations=["Sigmoid", "Tanh", "Tanh", "HardSigmoid", "ScaledTanh", "Elu"],
               activation_alpha=[0.3, 0.8, 0.7], activation_beta=[0.4, 1.2]),
          [[("sigmoid", 0, 0), ("tanh", 0, 0), ("tanh", 0, 0)], [("hardsigmoid", 0.3, 0.4), ("scaledtanh", 0.8, 1.2), ("elu", 0.7, 0)]],
          clip=1.5, layout=1)
# LSTM: input_forget (f = 1 - i), reverse.
spec_case("lstm_input_forget", "LSTM", dict(direction="reverse", input_forget=1),
          [[("sigmoid", 0, 0), ("tanh", 0, 0), ("tanh", 0, 0)]], input_forget=1, directions=1)
# GRU: linear_before_reset 0 with other activations (defaults for alpha; lower-case names, as PyTorch writes them) and clip.
spec_case("gru_activations", "GRU", dict(direction="bidirectional", clip=0.8, activations=["HardSigmoid", "Softsign", "sigmoid", "leakyrelu"]),
          [[("hardsigmoid", 0.2, 0.5), ("softsign", 0, 0)], [("sigmoid", 0, 0), ("leakyrelu", 0.01, 0)]], clip=0.8)
# RNN: one activation list shared by both directions, Affine with alpha and beta.
spec_case("rnn_affine", "RNN", dict(direction="bidirectional", activations=["Affine"], activation_alpha=[0.6], activation_beta=[-0.1]),
          [[("affine", 0.6, -0.1)], [("affine", 0.6, -0.1)]])
# RNN: Softplus and ThresholdedRelu per direction, batch-first.
spec_case("rnn_softplus", "RNN", dict(direction="bidirectional", layout=1, activations=["Softplus", "ThresholdedRelu"], activation_alpha=[0.2]),
          [[("softplus", 0, 0)], [("thresholdedrelu", 0.2, 0)]], layout=1)
