package dev.jdnn.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jdnn.Model;
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
}
