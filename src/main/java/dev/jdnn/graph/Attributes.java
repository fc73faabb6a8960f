package dev.jdnn.graph;

import java.util.Arrays;
import java.util.Map;

/** A node's attributes, typed. Missing attributes take the default given by the caller (the op's spec). */
public final class Attributes {
    private final Map<String, Object> values;

    /** Values are Long, Float, String, long[], float[], String[], or {@link Value} (tensor attributes). */
    public Attributes(Map<String, Object> values) {
        this.values = Map.copyOf(values);
    }

    public boolean has(String name) {
        return values.containsKey(name);
    }

    public long getInt(String name, long fallback) {
        Object v = values.get(name);
        if (v == null) return fallback;
        if (v instanceof Long l) return l;
        throw new IllegalArgumentException("attribute " + name + " is not an int: " + describe(v));
    }

    public float getFloat(String name, float fallback) {
        Object v = values.get(name);
        if (v == null) return fallback;
        if (v instanceof Float f) return f;
        throw new IllegalArgumentException("attribute " + name + " is not a float: " + describe(v));
    }

    public String getString(String name, String fallback) {
        Object v = values.get(name);
        if (v == null) return fallback;
        if (v instanceof String s) return s;
        throw new IllegalArgumentException("attribute " + name + " is not a string: " + describe(v));
    }

    /** An ints attribute, or {@code fallback} (may be null) when absent. */
    public long[] getInts(String name, long[] fallback) {
        Object v = values.get(name);
        if (v == null) return fallback;
        if (v instanceof long[] a) return a.clone();
        throw new IllegalArgumentException("attribute " + name + " is not a list of ints: " + describe(v));
    }

    public float[] getFloats(String name, float[] fallback) {
        Object v = values.get(name);
        if (v == null) return fallback;
        if (v instanceof float[] a) return a.clone();
        throw new IllegalArgumentException("attribute " + name + " is not a list of floats: " + describe(v));
    }

    /** A strings attribute (an RNN's activations), or {@code fallback} (may be null) when absent. */
    public String[] getStrings(String name, String[] fallback) {
        Object v = values.get(name);
        if (v == null) return fallback;
        if (v instanceof String[] a) return a.clone();
        throw new IllegalArgumentException("attribute " + name + " is not a list of strings: " + describe(v));
    }

    /** A tensor attribute (e.g. Constant's value), or null. */
    public Value getTensor(String name) {
        Object v = values.get(name);
        if (v == null) return null;
        if (v instanceof Value t) return t;
        throw new IllegalArgumentException("attribute " + name + " is not a tensor: " + describe(v));
    }

    public java.util.Set<String> names() {
        return values.keySet();
    }

    private static String describe(Object v) {
        if (v instanceof long[] a) return Arrays.toString(a);
        if (v instanceof float[] a) return Arrays.toString(a);
        if (v instanceof String[] a) return Arrays.toString(a);
        return String.valueOf(v);
    }
}
