package dev.jdnn.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jdnn.image.CenterCrop;
import dev.jdnn.image.Interpolation;
import dev.jdnn.image.Normalize;
import dev.jdnn.image.Preprocess;
import dev.jdnn.image.Resize;
import dev.jdnn.image.ToTensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Spark ML stage: same answers as the single-JVM session, inside a Pipeline, and again after save and load. */
class JdnnModelTest {
    @TempDir
    Path temp;

    @Test
    void aPipelineStageScoresLikeTheSingleJvmSessionAndSurvivesSaveAndLoad() throws IOException {
        JdnnInferenceTest.start();
        try {
            List<float[]> samples = JdnnInferenceTest.samples(11);
            Dataset<Row> data = JdnnInferenceTest.floatRows(samples, 2);
            JdnnModel scorer = new JdnnModel().setModelPath(JdnnInferenceTest.MODEL.toString())
                    .setInputCol("features").setOutputCol("logits").setBatchSize(4).setTopK(2);
            PipelineModel fitted = new Pipeline().setStages(new PipelineStage[] {scorer}).fit(data);
            fitted.write().overwrite().save(temp.resolve("pipeline").toString());
            PipelineModel loaded = PipelineModel.load(temp.resolve("pipeline").toString());
            JdnnModel reloaded = (JdnnModel) loaded.stages()[0];
            assertEquals(scorer.uid(), reloaded.uid());
            assertEquals(4, (Integer) reloaded.getOrDefault(reloaded.batchSize()));

            float[][] expected = JdnnInferenceTest.singleJvm(samples, 4, List.of(JdnnInferenceTest.output)).get(JdnnInferenceTest.output);
            for (PipelineModel pipeline : List.of(fitted, loaded)) {
                Dataset<Row> scored = pipeline.transform(data);
                assertEquals(List.of("id", "features", "logits", "top_k", JdnnInference.ERROR_COLUMN), List.of(scored.columns()));
                Map<Integer, Row> got = JdnnInferenceTest.byId(scored);
                for (int id = 0; id < samples.size(); id++) {
                    assertArrayEquals(expected[id], JdnnInferenceTest.floats(got.get(id), "logits"), "row " + id);
                    assertEquals(2, got.get(id).getList(got.get(id).fieldIndex("top_k")).size());
                }
            }
            assertEquals(scorer.transformSchema(data.schema()), fitted.transform(data).schema());
        } finally {
            JdnnInferenceTest.stop();
        }
    }

    @Test
    void aStageWithoutAModelPathSaysSo() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new JdnnModel().transformSchema(new org.apache.spark.sql.types.StructType()));
        assertTrue(e.getMessage().endsWith(": set modelPath"), e.getMessage());
    }

    /** The image params: saved and loaded with the pipeline, and scoring image files as Preprocess + Session do. */
    @Test
    void imageParamsSurviveSaveAndLoadAndScoreLikeTheSingleJvm() throws IOException {
        JdnnInferenceTest.start();
        try {
            long t0 = System.nanoTime();
            List<Path> files = TestImages.write(temp.resolve("images"), 12, 3);
            System.err.printf("TIMING written %.1f s%n", (System.nanoTime() - t0) / 1e9);
            Dataset<Row> data = JdnnInferenceTest.spark.read().format("binaryFile").load(temp.resolve("images").toString());
            JdnnModel scorer = new JdnnModel().setModelPath(JdnnInferenceTest.MODEL.toString()).setInputCol("content").setOutputCol("logits")
                    .setBatchSize(4).setBinaryInput("image").setImageResize(70).setImageSize(64).setImageInterpolation("bicubic")
                    .setImageMean(0.5, 0.4, 0.3).setImageStd(0.2, 0.25, 0.3);
            new Pipeline().setStages(new PipelineStage[] {scorer}).fit(data).write().overwrite().save(temp.resolve("image-pipeline").toString());
            JdnnModel reloaded = (JdnnModel) PipelineModel.load(temp.resolve("image-pipeline").toString()).stages()[0];
            System.err.printf("TIMING saved and loaded %.1f s%n", (System.nanoTime() - t0) / 1e9);
            assertEquals("bicubic", reloaded.getOrDefault(reloaded.imageInterpolation()));
            assertArrayEquals(new double[] {0.5, 0.4, 0.3}, (double[]) reloaded.getOrDefault(reloaded.imageMean()));

            Preprocess same = Preprocess.of(new Resize(70, Interpolation.BICUBIC), new CenterCrop(64), new ToTensor(),
                    new Normalize(new float[] {0.5f, 0.4f, 0.3f}, new float[] {0.2f, 0.25f, 0.3f}));
            Map<Path, Row> got = ImageInputTest.byFile(reloaded.transform(data));
            System.err.printf("TIMING scored %.1f s%n", (System.nanoTime() - t0) / 1e9);
            for (Path f : files) {
                float[] expected = JdnnInferenceTest.singleJvm(ImageInputTest.preprocessed(same, List.of(f)), 4, List.of(JdnnInferenceTest.output))
                        .get(JdnnInferenceTest.output)[0];
                assertArrayEquals(expected, JdnnInferenceTest.floats(got.get(f), "logits"), f.toString());
            }
        } finally {
            JdnnInferenceTest.stop();
        }
    }
}
