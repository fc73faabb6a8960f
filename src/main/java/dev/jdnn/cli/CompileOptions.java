package dev.jdnn.cli;

import dev.jdnn.graph.Optimizations;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** {@code --optimizations}, {@code --autotune} and {@code --winograd}: how the native backend compiles a model (run, explain, bench). */
final class CompileOptions {
    @Option(names = "--optimizations", paramLabel = "all|unfused|none", defaultValue = "all", converter = OptimizationsConverter.class,
            description = "native backend: every fusion (all), compiled without fusion (unfused), or node by node (none); default ${DEFAULT-VALUE}")
    Optimizations optimizations;

    @Option(names = "--autotune", arity = "0..1", paramLabel = "true|false", fallbackValue = "true", defaultValue = "false",
            description = "let compiled plans time oneDNN's implementations and keep the fastest (slower first run)")
    boolean autotune;

    @Option(names = "--winograd", paramLabel = "off|exact|fast", converter = WinogradConverter.class,
            description = "3×3 convs as Winograd where timing at prepare finds it faster: exact = F(2×2,3×3), fast adds F(4×4,3×3); "
                    + "default exact (-Djdnn.winograd sets it)")
    Optimizations.Winograd winograd;

    Optimizations optimizations() {
        if (!optimizations.compile()) return optimizations;
        Optimizations o = optimizations.withAutotune(autotune);
        return winograd == null ? o : o.withWinograd(winograd);
    }

    static final class WinogradConverter implements ITypeConverter<Optimizations.Winograd> {
        @Override
        public Optimizations.Winograd convert(String value) {
            return switch (value) {
                case "off" -> Optimizations.Winograd.OFF;
                case "exact" -> Optimizations.Winograd.EXACT;
                case "fast" -> Optimizations.Winograd.FAST;
                default -> throw new TypeConversionException("must be off, exact or fast, got '" + value + "'");
            };
        }
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
}
