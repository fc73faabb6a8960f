package dev.jdnn.cli;

/** The two JSON value kinds the CLI writes (RFC 8259): strings with escapes, and finite numbers. */
final class Json {
    private Json() {}

    static String string(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
                }
            }
        }
        return b.append('"').toString();
    }

    /** A float as JSON: its shortest round-tripping decimal; NaN and infinities (not JSON) as null. */
    static String number(float v) {
        return Float.isFinite(v) ? Float.toString(v) : "null";
    }
}
