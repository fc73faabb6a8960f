"""Makes a QDQ (QuantizeLinear/DequantizeLinear) copy of a float ONNX model, as ONNX Runtime's static
quantizer writes one, for checking what jdnn runs natively and how fast (not for accuracy: the activation
scales are fixed, not calibrated).

Every Conv and Gemm gets: its float weight replaced by int8 weights (symmetric, per output channel, axis 0)
and a DequantizeLinear; its bias (if any) by int32 with scale x_scale * w_scale and a DequantizeLinear; its
activation input by QuantizeLinear -> DequantizeLinear (uint8, per tensor, scale 8/255, zero point 128).

    python3 src/test/python/make_qdq.py float.onnx qdq.onnx
"""
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper

ACT_SCALE, ACT_ZP = np.float32(8.0 / 255.0), np.uint8(128)


def main(src, dst):
    model = onnx.load(src)
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    new_nodes, new_inits, quantized = [], [], set()
    new_inits += [numpy_helper.from_array(np.array(ACT_SCALE), "qdq_act_scale"), numpy_helper.from_array(np.array(ACT_ZP), "qdq_act_zp")]
    for n in g.node:
        if n.op_type in ("Conv", "Gemm") and len(n.input) >= 2 and n.input[1] in inits:
            x, w = n.input[0], n.input[1]
            # Activation: one fake quantization per tensor, shared by its consumers (as ONNX Runtime writes it).
            if x not in quantized:
                quantized.add(x)
                new_nodes.append(helper.make_node("QuantizeLinear", [x, "qdq_act_scale", "qdq_act_zp"], [x + "_q"]))
                new_nodes.append(helper.make_node("DequantizeLinear", [x + "_q", "qdq_act_scale", "qdq_act_zp"], [x + "_dq"]))
            # Weights: int8 per output channel.
            wf = numpy_helper.to_array(inits[w]).astype(np.float32)
            axis = 0
            flat = np.abs(wf.reshape(wf.shape[0], -1)).max(axis=1)
            ws = np.where(flat > 0, flat / 127.0, 1.0).astype(np.float32)
            shape = [-1] + [1] * (wf.ndim - 1)
            wq = np.clip(np.rint(wf / ws.reshape(shape)), -127, 127).astype(np.int8)
            new_inits += [numpy_helper.from_array(wq, w + "_int8"), numpy_helper.from_array(ws, w + "_scale"),
                          numpy_helper.from_array(np.zeros(wf.shape[0], np.int8), w + "_zp")]
            new_nodes.append(helper.make_node("DequantizeLinear", [w + "_int8", w + "_scale", w + "_zp"], [w + "_dq"], axis=axis))
            inputs = [x + "_dq", w + "_dq"]
            if len(n.input) > 2 and n.input[2] in inits:
                b = n.input[2]
                bf = numpy_helper.to_array(inits[b]).astype(np.float32)
                bs = (ACT_SCALE * ws).astype(np.float32)
                bq = np.rint(bf / bs).astype(np.int32)
                new_inits += [numpy_helper.from_array(bq, b + "_int32"), numpy_helper.from_array(bs, b + "_scale")]
                new_nodes.append(helper.make_node("DequantizeLinear", [b + "_int32", b + "_scale"], [b + "_dq"], axis=0))
                inputs.append(b + "_dq")
            conv = helper.make_node(n.op_type, inputs, list(n.output), name=n.name)
            conv.attribute.extend(n.attribute)
            new_nodes.append(conv)
        else:
            new_nodes.append(n)
    used = {i for n in new_nodes for i in n.input}
    keep = [t for t in g.initializer if t.name in used] + [t for t in new_inits if t.name in used]
    del g.node[:]
    g.node.extend(new_nodes)
    del g.initializer[:]
    g.initializer.extend(keep)
    if model.opset_import[0].version < 13:
        model.opset_import[0].version = 13   # per-axis DequantizeLinear
    onnx.save(model, dst)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
