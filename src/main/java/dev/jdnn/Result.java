package dev.jdnn;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The tensors one {@link Session#run} returned, by name, in the order requested. The result owns them:
 * {@link #close()} frees them all (use {@link Tensor#copyOf} to keep one longer). Idempotent. A result
 * never closed is freed by the garbage collector once its tensors are unreachable, with a logged warning.
 */
public final class Result implements AutoCloseable {
    private final Map<String, Tensor> tensors;
    private volatile boolean closed;

    Result(Map<String, Tensor> tensors) {
        this.tensors = new LinkedHashMap<>(tensors);
        // Each tensor frees itself if it becomes unreachable unclosed (Leaks); name it for the log.
        // (The description must not capture the tensor, or it would never become unreachable.)
        this.tensors.forEach((name, t) -> {
            long[] shape = t.shape();
            t.describeLeak(() -> "result tensor '" + name + "' " + Tensor.format(shape) + " of Session.run");
        });
    }

    /** The tensor named {@code name}; throws if it was not requested. */
    public Tensor get(String name) {
        if (closed) throw new IllegalStateException("result is closed");
        Tensor t = tensors.get(name);
        if (t == null) throw new IllegalArgumentException("'" + name + "' was not requested; this result has " + tensors.keySet());
        return t;
    }

    public Set<String> names() {
        return tensors.keySet();
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        tensors.values().forEach(Tensor::close);
    }
}
