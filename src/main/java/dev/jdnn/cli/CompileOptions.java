package dev.jdnn.cli;

import dev.jdnn.Backend;
import dev.jdnn.graph.Optimizations;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** {@code --optimizations} and {@code --autotune}: how the native backend compiles a model (run, explain, bench). */
final class CompileOptions {
    @Option(names = "--optimizations", paramLabel = "all|unfused|none", defaultValue = "all", converter = OptimizationsConverter.class,
            description = "native backend: every fusion (all), compiled without fusion (unfused), or node by node (none); default ${DEFAULT-VALUE}")
    Optimizations optimizations;

    @Option(names = "--autotune", arity = "0..1", paramLabel = "true|false", fallbackValue = "true", defaultValue = "false",
            description = "let compiled plans time oneDNN's implementations and keep the fastest (slower first run)")
    boolean autotune;

    Optimizations optimizations() {
        return optimizations.compile() ? optimizations.withAutotune(autotune) : optimizations;
    }

    static final class OptimizationsConverter implements ITypeConverter<Optimizations> {
        @Override
        public Optimizations convert(String value) {
            return switch (value) {
                case "all" -> Optimizations.all();
                case "unfused" -> Optimizations.unfused();
                case "none" -> Optimizations.none();
                default -> throw new TypeConversionException("must be all, unfused or none, got '" + value + "'");
            };
        }
    }

    /** {@code --backend native|java}, any case. */
    static final class BackendConverter implements ITypeConverter<Backend> {
        @Override
        public Backend convert(String value) {
            return switch (value.toLowerCase(java.util.Locale.ROOT)) {
                case "native" -> Backend.NATIVE;
                case "java" -> Backend.JAVA;
                default -> throw new TypeConversionException("must be native or java, got '" + value + "'");
            };
        }
    }
}
