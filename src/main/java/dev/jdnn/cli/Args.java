package dev.jdnn.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code --name value} options; repeatable ones collect every value. Unknown options are errors.
 * A boolean flag ({@link #FLAGS}) may stand alone ({@code --compare-ort}) or take true/false.
 */
record Args(Map<String, List<String>> values) {
    static final Set<String> FLAGS = Set.of("compare-ort", "autotune");

    static Args parse(String[] args, Set<String> known) {
        Map<String, List<String>> values = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) throw new Main.CliException("unexpected argument '" + a + "'");
            String name = a.substring(2);
            String value;
            int eq = name.indexOf('=');
            if (eq >= 0 && !name.startsWith("input") && !name.startsWith("tap")) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            } else if (FLAGS.contains(name) && (i + 1 >= args.length || !(args[i + 1].equals("true") || args[i + 1].equals("false")))) {
                value = "true";
            } else {
                if (i + 1 >= args.length) throw new Main.CliException("--" + name + " needs a value");
                value = args[++i];
            }
            if (!known.contains(name)) throw new Main.CliException("unknown option --" + name + " (known: --" + String.join(", --", known) + ")");
            values.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
        }
        return new Args(values);
    }

    List<String> all(String name) {
        return values.getOrDefault(name, List.of());
    }

    String one(String name, String fallback) {
        List<String> v = all(name);
        if (v.size() > 1) throw new Main.CliException("--" + name + " given more than once");
        return v.isEmpty() ? fallback : v.get(0);
    }

    String required(String name) {
        String v = one(name, null);
        if (v == null) throw new Main.CliException("--" + name + " is required");
        return v;
    }
}
