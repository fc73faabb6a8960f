package dev.jdnn.cli;

import dev.jdnn.Backend;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** {@code --backend native|java}: oneDNN or the plain-Java reference (bench, classify, run, segment). */
final class BackendOption {
    @Option(names = "--backend", paramLabel = "native|java", defaultValue = "native", converter = BackendConverter.class,
            description = "oneDNN (native) or the plain-Java reference (java); default ${DEFAULT-VALUE}")
    Backend backend;

    /** {@code native} or {@code java}, any case. */
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
