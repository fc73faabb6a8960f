package dev.jdnn;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** Facts about jdnn itself. */
public final class Jdnn {
    private Jdnn() {}

    /** jdnn's version, from the build. */
    public static String version() {
        try (InputStream in = Jdnn.class.getResourceAsStream("jdnn.properties")) {
            if (in == null) return "unknown";
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
