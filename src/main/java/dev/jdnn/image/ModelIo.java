package dev.jdnn.image;

import dev.jdnn.Model;
import java.util.Map;

/** Which input an image model is fed and which output is read, checked against the model. */
record ModelIo(String input, String output, long[] inputShape) {
    static ModelIo of(Model model, String input, String output) {
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
        long[] shape = inputs.get(input);
        if (shape.length != 4) {
            throw new IllegalArgumentException("input '" + input + "' has rank " + shape.length + "; an image model takes N×C×H×W");
        }
        return new ModelIo(input, output, shape);
    }

    /** The batch size fixed by the model's input declaration, or 0 when it is symbolic. */
    long fixedBatch() {
        return inputShape[0] > 0 ? inputShape[0] : 0;
    }
}
