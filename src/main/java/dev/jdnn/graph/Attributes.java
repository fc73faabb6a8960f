package dev.jdnn.graph;

import java.util.Arrays;
import java.util.Map;

/** A node's attributes, typed. Missing attributes take the default given by the caller (the op's spec). */
public final class Attributes {
    private final Map<String, Object> values;

    /** Values are Long, Float, String, long[], float[], String[], {@link Value} (tensor attributes) or {@link Subgraph} (graph attributes). */
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

    /** Whether attribute {@code name} is a graph (a control-flow node's branch or body). */
    public boolean isGraph(String name) {
        return values.get(name) instanceof Subgraph;
    }

    /** A graph attribute (If's then_branch), or null when absent. */
    public Subgraph getGraph(String name) {
        Object v = values.get(name);
        if (v == null) return null;
        if (v instanceof Subgraph g) return g;
        throw new IllegalArgumentException("attribute " + name + " is not a graph: " + describe(v));
    }

    /**
     * The graph attributes, by attribute name: the order in which the importer appends their outer-scope
     * references to the node's inputs ({@link Subgraph#implicitInputs}).
     */
    public java.util.List<Subgraph> graphs() {
        return values.keySet().stream().sorted().filter(this::isGraph).map(this::getGraph).toList();
    }

    public java.util.Set<String> names() {
        return values.keySet();
    }

    private static String describe(Object v) {
        if (v instanceof Subgraph g) return "graph " + g.name() + " (" + g.nodes().size() + " nodes)";
        if (v instanceof long[] a) return Arrays.toString(a);
        if (v instanceof float[] a) return Arrays.toString(a);
        if (v instanceof String[] a) return Arrays.toString(a);
        return String.valueOf(v);
    }
}
