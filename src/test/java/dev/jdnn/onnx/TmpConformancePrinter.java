package dev.jdnn.onnx;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.DynamicTest;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

class TmpConformancePrinter {
    @Test
    void print() throws Exception {
        List<DynamicTest> tests = new OnnxNodeConformanceTest().onnxNodeTests().toList();
        Map<String, int[]> counts = new TreeMap<>();
        for (DynamicTest t : tests) {
            String name = t.getDisplayName();
            String op = name.replaceAll("^test_([a-z]+(_[a-z]+)?).*", "$1");
            int[] c = counts.computeIfAbsent(op, k -> new int[3]);
            try {
                t.getExecutable().execute();
                c[0]++;
            } catch (org.opentest4j.TestAbortedException e) {
                c[1]++;
                System.out.println("SKIP " + name + ": " + e.getMessage());
            } catch (Throwable e) {
                c[2]++;
                System.out.println("FAIL " + name + ": " + e);
            }
        }
        counts.forEach((k, v) -> System.out.println("COUNT " + k + " pass " + v[0] + " skip " + v[1] + " fail " + v[2]));
    }
}
