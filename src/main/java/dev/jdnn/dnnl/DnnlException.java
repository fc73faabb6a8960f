package dev.jdnn.dnnl;

/**
 * A oneDNN call returned a status other than {@code dnnl_success}. The message names the C function,
 * the status and the shapes or arguments involved, e.g.
 * {@code dnnl_convolution_forward_primitive_desc_create failed with dnnl_unimplemented (status 3): src 1x3x224x224 ...}.
 */
public final class DnnlException extends RuntimeException {
    private final int status;
    private final String function;

    DnnlException(int status, String statusName, String function, String detail) {
        super(function + " failed with " + statusName + " (status " + status + ")"
                + (detail == null || detail.isEmpty() ? "" : ": " + detail));
        this.status = status;
        this.function = function;
    }

    /** The raw {@code dnnl_status_t} value. */
    public int status() {
        return status;
    }

    /** The oneDNN C function that failed. */
    public String function() {
        return function;
    }
}
