package dev.jdnn.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.jdnn.Backend;
import dev.jdnn.DataType;
import dev.jdnn.Model;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The opset 2-13 idioms other converters emit (Upsample with scales, Slice and Pad with attributes, Pad and
 * Resize with inputs and an empty roi, shape arithmetic through Shape/Cast/Gather/Unsqueeze/Concat/Reshape
 * with symbolic H and W), built by src/test/python/gen_idioms.py with numpy oracles. Each case's runs
 * (a, b, ...: two spatial sizes for the symbolic ones) go through one session, on native with every
 * optimization, native node by node and Java. Float outputs within 1e-5 · max(1, |expected|), integer
 * outputs exactly.
 */
class IdiomsTest {
    static final Path DIR = Fixtures.ROOT.resolve("idioms");

    static Stream<Arguments> cases() throws IOException {
        try (Stream<Path> dirs = Files.list(DIR)) {
            return dirs.map(d -> d.getFileName().toString()).sorted().toList().stream().flatMap(c -> Stream.of(
                    Arguments.of(c, Backend.NATIVE, Optimizations.all()),
                    Arguments.of(c, Backend.NATIVE, Optimizations.none()),
                    Arguments.of(c, Backend.JAVA, Optimizations.none())));
        }
    }

    /** run → ("in"|"out" → name → file), from files named {@code <run>.<in|out>.<name>.npy}. */
    static Map<String, Map<String, Map<String, Path>>> runs(Path dir) throws IOException {
        Map<String, Map<String, Map<String, Path>>> runs = new java.util.TreeMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.sorted().toList()) {
                String[] p = f.getFileName().toString().split("\\.");
                if (p.length != 4 || !p[3].equals("npy")) continue;
                runs.computeIfAbsent(p[0], k -> new java.util.TreeMap<>()).computeIfAbsent(p[1], k -> new LinkedHashMap<>()).put(p[2], f);
            }
        }
        return runs;
    }

    @ParameterizedTest(name = "{0} on {1}, optimizations {2}")
    @MethodSource("cases")
    void matchesNumpy(String name, Backend backend, Optimizations optimizations) throws IOException {
        Path dir = DIR.resolve(name);
        var runs = runs(dir);
        assertFalse(runs.isEmpty(), name + ": no runs");
        try (Model model = Model.load(dir.resolve("model.onnx"));
             Session session = model.session(Session.Options.defaults().withBackend(backend).withOptimizations(optimizations))) {
            for (var run : runs.entrySet()) {
                String what = name + " run " + run.getKey() + " on " + backend + "/" + optimizations;
                Map<String, Path> outs = run.getValue().get("out");
                List<Tensor> inputs = new ArrayList<>();
                Map<String, Tensor> feed = new LinkedHashMap<>();
                try {
                    for (var in : run.getValue().get("in").entrySet()) {
                        Tensor t = Fixtures.tensor(in.getValue());
                        inputs.add(t);
                        feed.put(in.getKey(), t);
                    }
                    try (Result r = session.run(feed, new TreeSet<>(outs.keySet()))) {
                        for (var out : outs.entrySet()) {
                            try (Tensor expected = Fixtures.tensor(out.getValue())) {
                                Tensor actual = r.get(out.getKey());
                                assertArrayEquals(expected.shape(), actual.shape(), what + " " + out.getKey() + " shape");
                                if (expected.dtype() == DataType.FLOAT) {
                                    Fixtures.assertClose(expected.toArray(), actual.toArray(), 1e-5, what + " " + out.getKey());
                                } else {
                                    assertEquals(expected.dtype(), actual.dtype(), what + " " + out.getKey() + " type");
                                    assertArrayEquals(expected.toLongArray(), actual.toLongArray(), what + " " + out.getKey());
                                }
                            }
                        }
                    }
                } finally {
                    inputs.forEach(Tensor::close);
                }
            }
        }
    }
}
