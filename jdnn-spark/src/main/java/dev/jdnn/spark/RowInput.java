package dev.jdnn.spark;

import dev.jdnn.DataType;
import dev.jdnn.Npy;
import dev.jdnn.Tensor;
import dev.jdnn.image.Preprocess;
import java.io.Serializable;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.DoubleType;
import org.apache.spark.sql.types.FloatType;
import org.apache.spark.sql.types.IntegerType;
import org.apache.spark.sql.types.LongType;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.Platform;

/**
 * How one row's input column becomes one sample (one batch slot, {@code rowShape} floats) of the model's
 * input tensor. Chosen on the driver from the column's Spark type; runs on executors over Catalyst's
 * {@link InternalRow}s, so float arrays are copied straight from Spark's row memory into the off-heap batch
 * tensor, without boxing or {@code Row} conversion.
 *
 * <ul>
 *   <li>{@code array<float>} (or {@code array<double>}): the sample's values, flat in C order;</li>
 *   <li>{@code binary}: a {@code .npy} (float32, C order) of the sample's shape, with or without a leading 1, or an
 *       encoded image decoded and preprocessed into the sample ({@link ImageBytes}), as {@link JdnnInference.BinaryInput} says;</li>
 *   <li>{@code struct<shape: array<int|long>, data: array<float>>}: a tensor, checked like a {@code .npy}.</li>
 * </ul>
 */
abstract sealed class RowInput implements Serializable
        permits RowInput.Floats, RowInput.Doubles, RowInput.NpyBytes, RowInput.TensorStruct, ImageBytes {

    /** A row that cannot become a sample: the reason is what a user sees in the error column or exception. */
    static final class BadRow extends Exception {
        BadRow(String reason) {
            super(reason, null, false, false);
        }
    }

    final int ordinal;
    final String column;
    final long[] rowShape;
    final long rowElements;

    RowInput(int ordinal, String column, long[] rowShape) {
        this.ordinal = ordinal;
        this.column = column;
        this.rowShape = rowShape.clone();
        this.rowElements = Tensor.elementCount(rowShape);
    }

    /**
     * Writes row {@code row}'s sample into {@code batch} at byte offset {@code offset}.
     *
     * @throws BadRow for a null value, a wrong size or shape, nulls inside the array, or undecodable bytes
     */
    abstract void write(InternalRow row, MemorySegment batch, long offset) throws BadRow;

    /**
     * The reader for {@code schema}'s column {@code column}, whose samples have shape {@code rowShape}; a binary column
     * is read as {@code binary} says, images with {@code preprocess}, for the model input {@code modelInput}.
     */
    static RowInput of(StructType schema, String column, long[] rowShape, JdnnInference.BinaryInput binary, Preprocess preprocess,
            String modelInput) {
        int ordinal = ordinalOf(schema, column);
        org.apache.spark.sql.types.DataType type = schema.fields()[ordinal].dataType();
        if (!(type instanceof BinaryType) && binary != JdnnInference.BinaryInput.AUTO) {
            throw new IllegalArgumentException("binary input " + binary + " was chosen, but input column '" + column + "' is " + type.simpleString()
                    + ", not binary");
        }
        if (type instanceof ArrayType array && array.elementType() instanceof FloatType) return new Floats(ordinal, column, rowShape);
        if (type instanceof ArrayType array && array.elementType() instanceof DoubleType) return new Doubles(ordinal, column, rowShape);
        if (type instanceof BinaryType) {
            return switch (binary) {
                case NPY -> new NpyBytes(ordinal, column, rowShape);
                case IMAGE -> new ImageBytes(ordinal, column, rowShape, schema, preprocess, modelInput, false);
                case AUTO -> new ImageBytes(ordinal, column, rowShape, schema, preprocess, modelInput, true);
            };
        }
        if (type instanceof StructType struct) return new TensorStruct(ordinal, column, rowShape, struct);
        throw new IllegalArgumentException("input column '" + column + "' is " + type.simpleString()
                + "; jdnn reads array<float>, array<double>, binary (.npy or image bytes) or struct<shape: array<int|long>, data: array<float>>");
    }

    static int ordinalOf(StructType schema, String column) {
        for (int i = 0; i < schema.fields().length; i++) if (schema.fields()[i].name().equals(column)) return i;
        throw new IllegalArgumentException("no column '" + column + "' in " + schema.simpleString());
    }

    ArrayData arrayOrNull(InternalRow row) throws BadRow {
        if (row.isNullAt(ordinal)) throw new BadRow("column '" + column + "' is null");
        return row.getArray(ordinal);
    }

    void checkCount(int count, String what) throws BadRow {
        if (count != rowElements) {
            throw new BadRow("column '" + column + "' has " + count + " " + what + ", the model's input needs "
                    + rowElements + " (shape " + Tensor.format(rowShape) + ")");
        }
    }

    /** Whether {@code shape} is the sample shape, or it with a leading batch dimension of 1. */
    boolean sameShape(long[] shape) {
        if (Arrays.equals(shape, rowShape)) return true;
        return shape.length == rowShape.length + 1 && shape[0] == 1 && Arrays.equals(Arrays.copyOfRange(shape, 1, shape.length), rowShape);
    }

    /** Copies a float array, from Spark's memory when it is an {@link UnsafeArrayData} (the usual case). */
    static void copyFloats(ArrayData values, String column, MemorySegment batch, long offset) throws BadRow {
        int n = values.numElements();
        if (values instanceof UnsafeArrayData unsafe) {
            if (hasNull(unsafe)) throw new BadRow("column '" + column + "' holds a null element");
            long start = unsafe.getBaseOffset() + UnsafeArrayData.calculateHeaderPortionInBytes(n);
            if (unsafe.getBaseObject() instanceof byte[] bytes) {
                MemorySegment.copy(MemorySegment.ofArray(bytes), start - Platform.BYTE_ARRAY_OFFSET, batch, offset, 4L * n);
                return;
            }
        } else {
            for (int i = 0; i < n; i++) if (values.isNullAt(i)) throw new BadRow("column '" + column + "' holds a null element at " + i);
        }
        MemorySegment.copy(values.toFloatArray(), 0, batch, ValueLayout.JAVA_FLOAT_UNALIGNED, offset, n);
    }

    /** Scans an unsafe array's null bits a word at a time (its layout: count, null bits in 8-byte words, values). */
    private static boolean hasNull(UnsafeArrayData array) {
        int words = (array.numElements() + 63) / 64;
        for (int w = 0; w < words; w++) {
            if (Platform.getLong(array.getBaseObject(), array.getBaseOffset() + 8 + 8L * w) != 0) return true;
        }
        return false;
    }

    static final class Floats extends RowInput {
        Floats(int ordinal, String column, long[] rowShape) {
            super(ordinal, column, rowShape);
        }

        @Override
        void write(InternalRow row, MemorySegment batch, long offset) throws BadRow {
            ArrayData values = arrayOrNull(row);
            checkCount(values.numElements(), "floats");
            copyFloats(values, column, batch, offset);
        }
    }

    static final class Doubles extends RowInput {
        Doubles(int ordinal, String column, long[] rowShape) {
            super(ordinal, column, rowShape);
        }

        @Override
        void write(InternalRow row, MemorySegment batch, long offset) throws BadRow {
            ArrayData values = arrayOrNull(row);
            int n = values.numElements();
            checkCount(n, "doubles");
            for (int i = 0; i < n; i++) {
                if (values.isNullAt(i)) throw new BadRow("column '" + column + "' holds a null element at " + i);
                batch.set(ValueLayout.JAVA_FLOAT_UNALIGNED, offset + 4L * i, (float) values.getDouble(i));
            }
        }
    }

    static final class NpyBytes extends RowInput {
        NpyBytes(int ordinal, String column, long[] rowShape) {
            super(ordinal, column, rowShape);
        }

        @Override
        void write(InternalRow row, MemorySegment batch, long offset) throws BadRow {
            if (row.isNullAt(ordinal)) throw new BadRow("column '" + column + "' is null");
            byte[] bytes = row.getBinary(ordinal);
            Npy.Header header;
            try {
                header = Npy.header(bytes, "column '" + column + "'");
            } catch (Npy.NpyFormatException e) {
                String image = ImageBytes.imageFormat(bytes);
                if (image != null) {
                    throw new BadRow("column '" + column + "' holds a " + image + " image, not a .npy; decode images with imageInput() (or binaryInput(AUTO))");
                }
                throw new BadRow(e.getMessage());
            }
            if (!header.dtype().isFloat()) {
                throw new BadRow("column '" + column + "' holds a .npy of " + header.dtype() + "; the model's input is float32");
            }
            if (!sameShape(header.shape())) {
                throw new BadRow("column '" + column + "' holds a .npy of shape " + Tensor.format(header.shape())
                        + ", the model's input needs " + Tensor.format(rowShape) + " per row");
            }
            MemorySegment.copy(MemorySegment.ofArray(bytes), header.dataOffset(), batch, offset, 4 * rowElements);
        }
    }

    static final class TensorStruct extends RowInput {
        private final int shapeField;
        private final boolean longShape;
        private final int dataField;
        private final int fields;

        TensorStruct(int ordinal, String column, long[] rowShape, StructType struct) {
            super(ordinal, column, rowShape);
            this.shapeField = fieldOf(struct, "shape");
            this.dataField = fieldOf(struct, "data");
            this.fields = struct.size();
            org.apache.spark.sql.types.DataType shapeType = struct.fields()[shapeField].dataType();
            org.apache.spark.sql.types.DataType dataType = struct.fields()[dataField].dataType();
            boolean intShape = shapeType instanceof ArrayType a && a.elementType() instanceof IntegerType;
            this.longShape = shapeType instanceof ArrayType a && a.elementType() instanceof LongType;
            if (!(intShape || longShape) || !(dataType instanceof ArrayType d && d.elementType() instanceof FloatType)) {
                throw new IllegalArgumentException("tensor column '" + column + "' is " + struct.simpleString()
                        + "; jdnn reads struct<shape: array<int|long>, data: array<float>>");
            }
        }

        private static int fieldOf(StructType struct, String name) {
            for (int i = 0; i < struct.fields().length; i++) if (struct.fields()[i].name().equals(name)) return i;
            throw new IllegalArgumentException("tensor column struct " + struct.simpleString() + " has no field '" + name
                    + "'; jdnn reads struct<shape: array<int|long>, data: array<float>>");
        }

        @Override
        void write(InternalRow row, MemorySegment batch, long offset) throws BadRow {
            if (row.isNullAt(ordinal)) throw new BadRow("column '" + column + "' is null");
            InternalRow tensor = row.getStruct(ordinal, fields);
            if (tensor.isNullAt(shapeField) || tensor.isNullAt(dataField)) throw new BadRow("tensor column '" + column + "' has a null shape or data");
            ArrayData shapeData = tensor.getArray(shapeField);
            long[] shape = new long[shapeData.numElements()];
            for (int i = 0; i < shape.length; i++) shape[i] = longShape ? shapeData.getLong(i) : shapeData.getInt(i);
            if (!sameShape(shape)) {
                throw new BadRow("tensor column '" + column + "' has shape " + Tensor.format(shape) + ", the model's input needs "
                        + Tensor.format(rowShape) + " per row");
            }
            ArrayData data = tensor.getArray(dataField);
            checkCount(data.numElements(), "floats in data");
            copyFloats(data, column, batch, offset);
        }
    }
}
