package dev.jdnn.cli;

import dev.jdnn.graph.op.Registry;
import java.util.Locale;
import picocli.CommandLine.Command;

/** {@code ./jdnn ops}: every operator jdnn runs, with the opsets each implementation accepts and the class that holds it. */
@Command(name = "ops", mixinStandardHelpOptions = true, description = "every ONNX operator jdnn runs, with its opsets")
final class OpsCommand extends Subcommand {
    @Override
    public Integer call() {
        int count = 0;
        for (var e : Registry.entries().entrySet()) {
            if (e.getKey().startsWith("jdnn.")) continue; // internal ops that rewrites produce
            for (var entry : e.getValue()) {
                out.printf(Locale.ROOT, "%-28s opsets %-8s %s%n", e.getKey(), entry.range(), entry.op().getClass().getSimpleName());
            }
            count++;
        }
        out.println(count + " ONNX operators (default domain, opsets " + Registry.MIN_OPSET + "-" + Registry.MAX_OPSET + ")");
        return Main.OK;
    }
}
