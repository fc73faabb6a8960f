package dev.jdnn.spark;

import dev.jdnn.Model;
import dev.jdnn.Session;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The models and sessions of one JVM (a Spark executor, or the driver in local mode): each model file is
 * loaded once, on first use, and every task of the JVM shares it; so is the {@link Session} for one set of
 * options, so its compiled plans (one per batch shape) are prepared once per JVM, not once per task.
 * A {@code Session} is safe to run from many task threads at once (each run takes its own buffers).
 * Everything is closed by a shutdown hook when the JVM exits.
 *
 * <p>Native memory per executor: the weights once (≈ the ONNX file size) plus, per concurrently running task,
 * one batch's activations (see {@code Session.preparedBytes}) and the input and output batch tensors.
 */
public final class ExecutorModels {

    private record SessionKey(ModelFile model, Session.Options options) {}

    private static final Map<ModelFile, Model> MODELS = new ConcurrentHashMap<>();
    private static final Map<SessionKey, Session> SESSIONS = new ConcurrentHashMap<>();
    private static final AtomicInteger LOADS = new AtomicInteger();
    private static volatile boolean shuttingDown;

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ExecutorModels::closeAll, "jdnn-spark-close-models"));
    }

    private ExecutorModels() {}

    /**
     * The shared session on {@code file} with these options, loading the model on first use.
     *
     * @throws IllegalStateException if the JVM is shutting down
     * @throws dev.jdnn.onnx.OnnxFormatException if the file is not a model jdnn can run
     */
    public static Session session(Path file, Session.Options options) {
        if (shuttingDown) throw new IllegalStateException("the JVM is shutting down; jdnn models are closed");
        SessionKey key = new SessionKey(ModelFile.of(file), options);
        return SESSIONS.computeIfAbsent(key, k -> model(k.model()).session(k.options()));
    }

    private static Model model(ModelFile key) {
        return MODELS.computeIfAbsent(key, k -> {
            LOADS.incrementAndGet();
            return Model.load(k.path());
        });
    }

    /** How many times a model file was loaded in this JVM since it started (for tests and monitoring). */
    public static int loads() {
        return LOADS.get();
    }

    /** The model files this JVM holds now (absolute paths). */
    public static java.util.Set<Path> loadedFiles() {
        java.util.Set<Path> files = new java.util.TreeSet<>();
        MODELS.keySet().forEach(k -> files.add(k.path()));
        return files;
    }

    /** Closes every session and model (idempotent); later {@link #session} calls load again. */
    public static synchronized void closeAll() {
        List<Session> sessions = new ArrayList<>(SESSIONS.values());
        SESSIONS.clear();
        sessions.forEach(Session::close);
        List<Model> models = new ArrayList<>(MODELS.values());
        MODELS.clear();
        models.forEach(Model::close);
        if (Thread.currentThread().getName().equals("jdnn-spark-close-models")) shuttingDown = true;
    }
}
