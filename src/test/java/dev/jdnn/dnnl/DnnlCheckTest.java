package dev.jdnn.dnnl;

import static dev.jdnn.bindings.dnnl_h.*;
import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class DnnlCheckTest {

    @Test
    void failedNativeCallBecomesExceptionNamingFunctionStatusAndDetail() {
        Dnnl.ensureLoaded();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment md = MemoryDescs.plain(arena, new long[] {2, 3});
            MemorySegment other = MemoryDescs.plain(arena, new long[] {4, 5});
            MemorySegment engine = Engine.cpu();
            // A reorder between different dimensions is invalid: oneDNN itself must refuse it.
            DnnlException e = assertThrows(DnnlException.class, () -> Primitive.create(
                    "dnnl_reorder_primitive_desc_create", "reorder 2x3 -> 4x5",
                    out -> dnnl_reorder_primitive_desc_create(out, md, engine, other, engine, MemorySegment.NULL)));
            assertEquals("dnnl_reorder_primitive_desc_create", e.function());
            assertNotEquals(dnnl_success(), e.status());
            assertTrue(e.getMessage().startsWith("dnnl_reorder_primitive_desc_create failed with dnnl_"), e.getMessage());
            assertTrue(e.getMessage().contains("reorder 2x3 -> 4x5"), e.getMessage());
        }
    }

    @Test
    void javaChecksRefuseBadDimensionsBeforeAnyNativeCall() {
        try (Arena arena = Arena.ofConfined()) {
            assertThrows(IllegalArgumentException.class, () -> MemoryDescs.plain(arena, new long[] {2, 0}));
            assertThrows(IllegalArgumentException.class, () -> MemoryDescs.plain(arena, new long[7]));
        }
    }

    @Test
    void closedPrimitiveThrowsInsteadOfCrashing() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment md = MemoryDescs.plain(arena, new long[] {4});
            MemorySegment engine = Engine.cpu();
            Primitive p = Primitive.create("dnnl_eltwise_forward_primitive_desc_create", "relu 4",
                    out -> dnnl_eltwise_forward_primitive_desc_create(out, engine, dnnl_forward_inference(),
                            dnnl_eltwise_relu(), md, md, 0f, 0f, MemorySegment.NULL));
            Execution run = new Execution(p, 2).arg(DNNL_ARG_SRC(), md).arg(DNNL_ARG_DST(), md);
            MemorySegment small = arena.allocate(8);
            assertThrows(IllegalArgumentException.class, () -> run.set(DNNL_ARG_SRC(), small), "buffer too small");
            assertThrows(IllegalStateException.class, run::run, "unbound arguments");
            p.close();
            p.close();
            assertThrows(IllegalStateException.class, run::run);
            assertThrows(IllegalStateException.class, () -> p.queryDesc(dnnl_query_src_md(), 0));
            run.close();
        }
    }
}
