package dev.jdnn.cli;

import dev.jdnn.Jdnn;
import dev.jdnn.dnnl.Dnnl;
import dev.jdnn.dnnl.NativeLibrary;
import picocli.CommandLine.Command;

/** {@code ./jdnn info}: jdnn and oneDNN versions, the library file, its ISA and threads; exit 1 if oneDNN cannot load. */
@Command(name = "info", mixinStandardHelpOptions = true, description = "jdnn and oneDNN versions, library path, ISA, threads")
final class InfoCommand extends Subcommand {
    @Override
    public Integer call() {
        out.println("jdnn version:    " + Jdnn.version());
        out.println("java:            " + System.getProperty("java.vm.name") + " " + Runtime.version());
        try {
            NativeLibrary.load();
        } catch (RuntimeException e) {
            out.println("oneDNN:          not available: " + e.getMessage());
            throw new Main.CliException("oneDNN could not be loaded: " + e.getMessage());
        }
        out.println("oneDNN version:  " + Dnnl.version());
        out.println("oneDNN library:  " + NativeLibrary.loadedPath());
        out.println("oneDNN ISA:      " + Dnnl.effectiveIsa());
        out.println("threads:         " + Dnnl.threads() + " (of " + Runtime.getRuntime().availableProcessors() + " processors)");
        return Main.OK;
    }
}
