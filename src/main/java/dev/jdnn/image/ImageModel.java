package dev.jdnn.image;

import dev.jdnn.Model;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The model behind a {@link Classifier} or {@link Segmenter}: it owns the loaded model and its session,
 * knows which input is fed (N×C×H×W) and which output is read, and refuses use after close.
 */
final class ImageModel implements AutoCloseable {
    private final String owner;
    private final Model model;
    private final Session session;
    final String input;
    final String output;
    private final long[] inputShape;
    private volatile boolean closed;

    private ImageModel(String owner, Model model, Session.Options options, String input, String output) {
        this.owner = owner;
        this.model = model;
        Map<String, long[]> inputs = model.inputs();
        if (input == null) {
            if (inputs.size() != 1) throw new IllegalArgumentException("the model has inputs " + inputs.keySet() + "; name the image input");
            input = inputs.keySet().iterator().next();
        } else if (!inputs.containsKey(input)) {
            throw new IllegalArgumentException("the model has no input '" + input + "' (inputs: " + inputs.keySet() + ")");
        }
        if (output == null) {
            output = model.outputs().getFirst();
        } else if (!model.outputs().contains(output)) {
            throw new IllegalArgumentException("the model has no output '" + output + "' (outputs: " + model.outputs() + ")");
        }
        inputShape = inputs.get(input);
        if (inputShape.length != 4) {
            throw new IllegalArgumentException("input '" + input + "' has rank " + inputShape.length + "; an image model takes N×C×H×W");
        }
        this.input = input;
        this.output = output;
        this.session = model.session(options);
    }

    /** Loads the model; nothing stays open if the input or output cannot be determined. */
    static ImageModel open(String owner, Path file, Session.Options options, String input, String output) {
        Model model = Model.load(file);
        try {
            return new ImageModel(owner, model, options, input, output);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /** The batch size fixed by the model's input declaration, or 0 when it is symbolic. */
    long fixedBatch() {
        return inputShape[0] > 0 ? inputShape[0] : 0;
    }

    /** Runs the model on one N×C×H×W tensor; the result holds the output (close it). */
    Result run(Tensor x) {
        ensureOpen();
        return session.run(Map.of(input, x), List.of(output));
    }

    void ensureOpen() {
        if (closed) throw new IllegalStateException("this " + owner + " is closed");
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        session.close();
        model.close();
    }
}
