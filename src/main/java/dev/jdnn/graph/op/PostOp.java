package dev.jdnn.graph.op;

import dev.jdnn.ops.eltwise.EltwiseAlgorithm;

/** An element-wise function that can run inside a oneDNN primitive as an eltwise post-op: {@code alg(x; alpha, beta)}. */
public record PostOp(EltwiseAlgorithm algorithm, float alpha, float beta) {}
