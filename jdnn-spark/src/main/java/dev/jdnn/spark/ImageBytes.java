package dev.jdnn.spark;

import dev.jdnn.Tensor;
import dev.jdnn.image.FloatImage;
import dev.jdnn.image.ImageDecodeException;
import dev.jdnn.image.ImageDecoder;
import dev.jdnn.image.Preprocess;
import dev.jdnn.image.RgbImage;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructType;

/**
 * A binary column of encoded images (PNG, JPEG, BMP, GIF: what {@code spark.read.format("binaryFile")} puts in
 * {@code content}), each decoded by {@link ImageDecoder} and preprocessed by a {@link Preprocess} into one sample,
 * exactly as {@code ./jdnn classify} and {@link dev.jdnn.image.Classifier} prepare a file with the same bytes.
 * Under {@link JdnnInference.BinaryInput#AUTO} a value that starts with the {@code .npy} magic is read as a
 * {@code .npy} instead; under {@link JdnnInference.BinaryInput#IMAGE} it is a bad row saying so.
 *
 * <p>A bad row's reason names the file when the rows carry binaryFile's string {@code path} column, else the column.
 */
final class ImageBytes extends RowInput {
    /** {@code \x93NUMPY}, the first bytes of every {@code .npy} file. */
    private static final byte[] NPY_MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};

    private final Preprocess preprocess;
    private final String modelInput;
    /** binaryFile's {@code path} column, or -1 when the rows have no string column of that name. */
    private final int pathOrdinal;
    /** Where {@code .npy} values go under AUTO; null: the column holds images only. */
    private final RowInput.NpyBytes npy;

    ImageBytes(int ordinal, String column, long[] rowShape, StructType schema, Preprocess preprocess, String modelInput, boolean acceptNpy) {
        super(ordinal, column, rowShape);
        this.preprocess = preprocess;
        this.modelInput = modelInput;
        int path = -1;
        for (int i = 0; i < schema.fields().length; i++) {
            if (schema.fields()[i].name().equals("path") && schema.fields()[i].dataType() instanceof StringType) path = i;
        }
        this.pathOrdinal = path;
        this.npy = acceptNpy ? new RowInput.NpyBytes(ordinal, column, rowShape) : null;
    }

    @Override
    void write(InternalRow row, MemorySegment batch, long offset) throws BadRow {
        if (row.isNullAt(ordinal)) throw new BadRow("column '" + column + "' is null");
        byte[] bytes = row.getBinary(ordinal);
        String source = pathOrdinal >= 0 && !row.isNullAt(pathOrdinal)
                ? "column '" + column + "' of " + row.getUTF8String(pathOrdinal) : "column '" + column + "'";
        if (isNpy(bytes)) {
            if (npy == null) throw new BadRow(source + " holds .npy bytes, not an image; read them with npyInput() (or binaryInput(AUTO))");
            npy.write(row, batch, offset);
            return;
        }
        if (npy != null && imageFormat(bytes) == null) {
            throw new BadRow(source + " is neither a .npy file (no \\x93NUMPY magic) nor a PNG, JPEG, BMP or GIF image");
        }
        FloatImage sample;
        try {
            RgbImage decoded = ImageDecoder.read(bytes, source, preprocess.decodeOptions());
            sample = preprocess.transform(decoded);
        } catch (ImageDecodeException e) {
            throw new BadRow(e.getMessage());
        } catch (RuntimeException e) {
            throw new BadRow(source + ": preprocessing " + preprocess + " failed: " + e.getMessage());
        }
        long[] shape = {sample.channels(), sample.height(), sample.width()};
        if (!Arrays.equals(shape, rowShape)) throw new BadRow(source + ": " + shapeMismatch(shape));
        sample.copyTo(batch, offset);
    }

    private String shapeMismatch(long[] shape) {
        return "preprocessed to " + Tensor.format(shape) + " by " + preprocess + ", the model's input '" + modelInput + "' needs "
                + Tensor.format(rowShape) + " per row";
    }

    static boolean isNpy(byte[] bytes) {
        return bytes.length >= NPY_MAGIC.length && Arrays.equals(bytes, 0, NPY_MAGIC.length, NPY_MAGIC, 0, NPY_MAGIC.length);
    }

    /** The image format whose signature {@code bytes} start with (PNG, JPEG, GIF, BMP), or null. */
    static String imageFormat(byte[] bytes) {
        if (startsWith(bytes, 0x89, 'P', 'N', 'G')) return "PNG";
        if (startsWith(bytes, 0xFF, 0xD8, 0xFF)) return "JPEG";
        if (startsWith(bytes, 'G', 'I', 'F', '8')) return "GIF";
        if (startsWith(bytes, 'B', 'M')) return "BMP";
        return null;
    }

    private static boolean startsWith(byte[] bytes, int... prefix) {
        if (bytes.length < prefix.length) return false;
        for (int i = 0; i < prefix.length; i++) if ((bytes[i] & 0xFF) != prefix[i]) return false;
        return true;
    }

    /**
     * The sample shape {@code preprocess} gives every image, found on the driver by preprocessing two blank test
     * images of opposite aspect ratios; null when they come out in different shapes (no crop or fixed resize).
     *
     * @throws IllegalArgumentException if the preprocessing fails on them (e.g. no ToTensor step)
     */
    static long[] fixedShape(Preprocess preprocess) {
        long[] first = null;
        for (int[] wh : new int[][] {{97, 61}, {61, 97}}) {
            FloatImage out;
            try {
                out = preprocess.transform(RgbImage.of(new byte[wh[0] * wh[1] * 3], wh[0], wh[1]));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("the image preprocessing " + preprocess + " fails on a " + wh[0] + "×" + wh[1] + " test image: "
                        + e.getMessage(), e);
            }
            long[] shape = {out.channels(), out.height(), out.width()};
            if (first != null && !Arrays.equals(first, shape)) return null;
            first = shape;
        }
        return first;
    }
}
