package dev.jdnn.ops.conv;

import dev.jdnn.Tensor;

/**
 * The geometry of a 2-D convolution {@code N×C×H×W (x) K×C/g×R×S → N×K×OH×OW}: channels, kernel,
 * strides, padding (top, left, bottom, right — asymmetric as ONNX allows), dilations (PyTorch's
 * convention: 1 = dense) and groups (g = C = K is depthwise). Validated on construction; the input
 * shape is validated by {@link #outputShape}.
 */
public record Conv2dParams(int inChannels, int outChannels, int kernelH, int kernelW,
                           int strideH, int strideW, int padTop, int padLeft, int padBottom, int padRight,
                           int dilationH, int dilationW, int groups) {

    public Conv2dParams {
        positive("inChannels", inChannels);
        positive("outChannels", outChannels);
        positive("kernelH", kernelH);
        positive("kernelW", kernelW);
        positive("strideH", strideH);
        positive("strideW", strideW);
        positive("dilationH", dilationH);
        positive("dilationW", dilationW);
        positive("groups", groups);
        if (padTop < 0 || padLeft < 0 || padBottom < 0 || padRight < 0) {
            throw new IllegalArgumentException("padding must be >= 0, got top " + padTop + " left " + padLeft
                    + " bottom " + padBottom + " right " + padRight);
        }
        if (inChannels % groups != 0 || outChannels % groups != 0) {
            throw new IllegalArgumentException("channels must be divisible by groups: in " + inChannels + ", out "
                    + outChannels + ", groups " + groups);
        }
    }

    /** A dense K×C×R×S convolution, stride 1, no padding; refine with the {@code with*} methods. */
    public static Conv2dParams of(int inChannels, int outChannels, int kernelH, int kernelW) {
        return new Conv2dParams(inChannels, outChannels, kernelH, kernelW, 1, 1, 0, 0, 0, 0, 1, 1, 1);
    }

    public Conv2dParams withStride(int h, int w) {
        return new Conv2dParams(inChannels, outChannels, kernelH, kernelW, h, w, padTop, padLeft, padBottom, padRight, dilationH, dilationW, groups);
    }

    /** Symmetric padding, as PyTorch's {@code padding=(h, w)}. */
    public Conv2dParams withPadding(int h, int w) {
        return withPadding(h, w, h, w);
    }

    /** Asymmetric padding, as ONNX's {@code pads=[top, left, bottom, right]}. */
    public Conv2dParams withPadding(int top, int left, int bottom, int right) {
        return new Conv2dParams(inChannels, outChannels, kernelH, kernelW, strideH, strideW, top, left, bottom, right, dilationH, dilationW, groups);
    }

    public Conv2dParams withDilation(int h, int w) {
        return new Conv2dParams(inChannels, outChannels, kernelH, kernelW, strideH, strideW, padTop, padLeft, padBottom, padRight, h, w, groups);
    }

    public Conv2dParams withGroups(int g) {
        return new Conv2dParams(inChannels, outChannels, kernelH, kernelW, strideH, strideW, padTop, padLeft, padBottom, padRight, dilationH, dilationW, g);
    }

    /** Weight tensor shape {@code K×C/g×R×S}. */
    public long[] weightShape() {
        return new long[] {outChannels, inChannels / groups, kernelH, kernelW};
    }

    public long weightCount() {
        return (long) outChannels * (inChannels / groups) * kernelH * kernelW;
    }

    /**
     * {@code N×C×H×W → N×K×OH×OW} with {@code OH = (H + top + bottom − ((R−1)·d + 1)) / stride + 1}.
     *
     * @throws IllegalArgumentException if the input is not rank 4, has the wrong channel count, or the
     *         dilated kernel is larger than the padded input (which would give a non-positive output size)
     */
    public long[] outputShape(long[] input) {
        if (input.length != 4) {
            throw new IllegalArgumentException("conv2d input must be N×C×H×W (rank 4), got " + Tensor.format(input));
        }
        if (input[1] != inChannels) {
            throw new IllegalArgumentException("conv2d input " + Tensor.format(input) + " has " + input[1]
                    + " channels, the convolution expects " + inChannels);
        }
        if (input[0] < 1 || input[2] < 1 || input[3] < 1) {
            throw new IllegalArgumentException("conv2d input " + Tensor.format(input) + " is empty");
        }
        long oh = outputSize("height", input[2], padTop, padBottom, kernelH, dilationH, strideH);
        long ow = outputSize("width", input[3], padLeft, padRight, kernelW, dilationW, strideW);
        return new long[] {input[0], outChannels, oh, ow};
    }

    private static long outputSize(String axis, long size, int padBefore, int padAfter, int kernel, int dilation, int stride) {
        long padded = size + padBefore + padAfter;
        long extent = (long) (kernel - 1) * dilation + 1;
        if (extent > padded) {
            throw new IllegalArgumentException("kernel " + axis + " " + kernel + " (dilated extent " + extent
                    + ") is larger than the padded input " + axis + " " + padded + " (" + size + " + padding "
                    + padBefore + "+" + padAfter + "): the output would be empty");
        }
        return (padded - extent) / stride + 1;
    }

    /** Multiply-adds × 2 for one image batch of this input shape. */
    public double flops(long[] input) {
        long[] out = outputShape(input);
        return 2.0 * out[0] * out[1] * out[2] * out[3] * (inChannels / groups) * kernelH * kernelW;
    }

    private static void positive(String name, int value) {
        if (value < 1) throw new IllegalArgumentException(name + " must be >= 1, got " + value);
    }

    @Override
    public String toString() {
        return "conv " + inChannels + "->" + outChannels + " k" + kernelH + "x" + kernelW + " s" + strideH + "x" + strideW
                + " p" + padTop + "," + padLeft + "," + padBottom + "," + padRight + " d" + dilationH + "x" + dilationW + " g" + groups;
    }
}
