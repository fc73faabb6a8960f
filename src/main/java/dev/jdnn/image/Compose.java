package dev.jdnn.image;

import java.util.List;

/** torchvision's {@code Compose}: the steps applied in order. */
public record Compose(List<Transform> steps) implements Transform {
    public Compose {
        steps = List.copyOf(steps);
    }

    public static Compose of(Transform... steps) {
        return new Compose(List.of(steps));
    }

    @Override
    public ImageData apply(ImageData image) {
        ImageData out = image;
        for (Transform t : steps) out = t.apply(out);
        return out;
    }

    @Override
    public Compose withThreads(int threads) {
        return new Compose(steps.stream().map(t -> t.withThreads(threads)).toList());
    }
}
