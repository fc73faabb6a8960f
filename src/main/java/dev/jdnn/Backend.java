package dev.jdnn;

/** Which implementation runs an op: oneDNN through FFM, or jdnn's plain-Java reference loops. */
public enum Backend {
    /** oneDNN kernels (needs the native library; see {@code ./jdnn info}). */
    NATIVE,
    /** Plain Java loops: slow, obviously correct, available everywhere; the oracle in tests. */
    JAVA
}
