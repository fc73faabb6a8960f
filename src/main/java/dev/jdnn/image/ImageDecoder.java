package dev.jdnn.image;

import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.DataBufferByte;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.color.ColorSpace;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.IntSupplier;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Decodes PNG, JPEG (baseline, progressive, CMYK/YCCK through TwelveMonkeys' reader), BMP and GIF (the
 * first frame) into an 8-bit {@link RgbImage}, the way torchvision's loader ({@code PIL.Image.open(f)
 * .convert("RGB")}) does:
 * <ul>
 *   <li>grayscale is repeated into R, G and B; palette images are looked up in their palette;</li>
 *   <li>alpha is dropped, not composited (PIL's convert("RGB") keeps the colour under a transparent pixel);</li>
 *   <li>16-bit colour and gray+alpha samples keep their high byte (PIL reads those PNGs as "RGB;16B",
 *       "LA;16B"); a plain 16-bit grayscale image is saturated at 255 (PIL opens it as a 32-bit integer
 *       "I" image, whose conversion to RGB clips), unless {@link Options#rescale16BitGray()} asks for the
 *       high byte instead;</li>
 *   <li>no colour management: samples are taken as stored (PIL ignores ICC profiles and gamma);</li>
 *   <li>EXIF orientation is ignored unless {@link Options#exifOrientation()} is on (PIL ignores it too;
 *       on, the image is transposed as {@code ImageOps.exif_transpose} does).</li>
 * </ul>
 * Anything unreadable throws {@link ImageDecodeException} naming the file; no partial image is returned.
 */
public final class ImageDecoder {
    /**
     * Decoding options.
     *
     * @param exifOrientation  transpose JPEGs as their EXIF orientation tag says (PIL: off)
     * @param rescale16BitGray map 16-bit grayscale to 0–255 by its high byte instead of saturating as PIL does
     */
    public record Options(boolean exifOrientation, boolean rescale16BitGray) implements java.io.Serializable {
        /** PIL's behaviour: EXIF orientation ignored, 16-bit grayscale saturated. */
        public static Options defaults() {
            return new Options(false, false);
        }

        public Options withExifOrientation(boolean on) {
            return new Options(on, rescale16BitGray);
        }

        public Options withRescale16BitGray(boolean on) {
            return new Options(exifOrientation, on);
        }
    }

    static {
        ImageIO.scanForPlugins(); // registers TwelveMonkeys' JPEG reader when it is on the class path
        ImageIO.setUseCache(false);
    }

    private ImageDecoder() {}

    /** {@link #read(Path, Options)} with the default options. */
    public static RgbImage read(Path file) {
        return read(file, Options.defaults());
    }

    /**
     * Decodes an image file.
     *
     * @throws ImageDecodeException naming the file if it is missing, unreadable, of an unknown format or corrupt
     */
    public static RgbImage read(Path file, Options options) {
        if (!Files.isRegularFile(file)) throw new ImageDecodeException(file, Files.exists(file) ? "not a regular file" : "no such file");
        return read(() -> ImageIO.createImageInputStream(file.toFile()), () -> Exif.orientation(file),
                (message, cause) -> new ImageDecodeException(file, message, cause), options);
    }

    /**
     * Decodes an image held in memory (the bytes of a PNG, JPEG, BMP or GIF file, e.g. a row of Spark's
     * {@code binaryFile} source), exactly as {@link #read(Path, Options)} decodes the same bytes from a file.
     *
     * @param source what the bytes are, for error messages (a file name or URI, a column)
     * @throws ImageDecodeException naming {@code source} if the bytes are of an unknown format or corrupt
     */
    public static RgbImage read(byte[] bytes, String source, Options options) {
        return read(() -> ImageIO.createImageInputStream(new ByteArrayInputStream(bytes)), () -> Exif.orientation(new ByteArrayInputStream(bytes)),
                (message, cause) -> new ImageDecodeException(source, message, cause), options);
    }

    /** Where the image's bytes come from (a file or memory). */
    private interface Opener {
        ImageInputStream open() throws IOException;
    }

    /** The first image of {@code opener}'s stream as 8-bit RGB; {@code error} makes the exception naming the file or source. */
    private static RgbImage read(Opener opener, IntSupplier exifOrientation, BiFunction<String, Throwable, ImageDecodeException> error,
            Options options) {
        BufferedImage image;
        try (ImageInputStream in = opener.open()) {
            if (in == null) throw error.apply("cannot open for reading", null);
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) throw error.apply("not a PNG, JPEG, BMP or GIF image (no decoder recognises it)", null);
            ImageReader reader = readers.next();
            List<String> warnings = new ArrayList<>();
            try {
                reader.addIIOReadWarningListener((source, warning) -> {
                    // TwelveMonkeys notes a CMYK JPEG without an ICC profile; it then converts as PIL does.
                    if (!warning.matches("(?is).*(ICC|colou?r profile).*")) warnings.add(warning);
                });
                reader.setInput(in, true, true);
                image = reader.read(0);
            } finally {
                reader.dispose();
            }
            // The JDK's readers report a truncated or corrupt stream as a warning and return the image with the
            // missing part left grey; that would be a half-decoded image, so it is an error here.
            if (!warnings.isEmpty()) throw error.apply("corrupt or truncated image: " + String.join("; ", warnings), null);
        } catch (ImageDecodeException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw error.apply("cannot decode: " + e, e);
        }
        if (image == null) throw error.apply("the decoder returned no image", null);
        RgbImage rgb;
        try {
            rgb = convert(image, options.rescale16BitGray());
        } catch (IllegalArgumentException e) {
            throw error.apply(e.getMessage(), e);
        }
        if (options.exifOrientation()) {
            int orientation = exifOrientation.getAsInt();
            if (orientation > 1) rgb = Exif.transpose(rgb, orientation);
        }
        return rgb;
    }

    /**
     * Converts an AWT image to 8-bit RGB as PIL's convert("RGB") would: samples as stored (gray repeated,
     * palette looked up, alpha dropped, 16-bit to the high byte except plain 16-bit gray, saturated); images in other colour spaces (CMYK)
     * are converted to sRGB by AWT.
     */
    public static RgbImage fromBufferedImage(BufferedImage image) {
        return convert(image, false);
    }

    private static RgbImage convert(BufferedImage image, boolean rescale16BitGray) {
        int w = image.getWidth(), h = image.getHeight();
        RgbImage.checkSize(w, h);
        byte[] out = new byte[w * h * 3];
        Raster raster = image.getRaster();
        ColorModel cm = image.getColorModel();
        int type = image.getType();
        if (type == BufferedImage.TYPE_3BYTE_BGR && raster.getDataBuffer() instanceof DataBufferByte db
                && raster.getSampleModelTranslateX() == 0 && raster.getSampleModelTranslateY() == 0 && db.getNumBanks() == 1) {
            byte[] bgr = db.getData();
            for (int i = 0; i < w * h; i++) {
                out[3 * i] = bgr[3 * i + 2];
                out[3 * i + 1] = bgr[3 * i + 1];
                out[3 * i + 2] = bgr[3 * i];
            }
        } else if (cm instanceof IndexColorModel icm) {
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                raster.getSamples(0, y, w, 1, 0, row);
                for (int x = 0, o = y * w * 3; x < w; x++, o += 3) {
                    int idx = row[x];
                    out[o] = (byte) icm.getRed(idx);
                    out[o + 1] = (byte) icm.getGreen(idx);
                    out[o + 2] = (byte) icm.getBlue(idx);
                }
            }
        } else if (cm instanceof ComponentColorModel
                && (cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY || cm.getColorSpace().getType() == ColorSpace.TYPE_RGB)) {
            boolean gray = cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY;
            int shift = raster.getTransferType() == DataBuffer.TYPE_USHORT ? 8 : 0;
            if (raster.getTransferType() != DataBuffer.TYPE_BYTE && raster.getTransferType() != DataBuffer.TYPE_USHORT) {
                throw new IllegalArgumentException("unsupported sample type " + raster.getTransferType() + " (only 8- and 16-bit images)");
            }
            int bands = raster.getNumBands();
            boolean saturate = gray && bands == 1 && shift == 8 && !rescale16BitGray;
            int[] row = new int[w * bands];
            for (int y = 0; y < h; y++) {
                raster.getPixels(0, y, w, 1, row);
                for (int x = 0, o = y * w * 3; x < w; x++, o += 3) {
                    int p = x * bands;
                    if (saturate) {
                        out[o] = out[o + 1] = out[o + 2] = (byte) Math.min(row[p], 255);
                    } else if (gray) {
                        out[o] = out[o + 1] = out[o + 2] = (byte) (row[p] >> shift);
                    } else {
                        out[o] = (byte) (row[p] >> shift);
                        out[o + 1] = (byte) (row[p + 1] >> shift);
                        out[o + 2] = (byte) (row[p + 2] >> shift);
                    }
                }
            }
        } else {
            // Packed int RGB(A) (non-premultiplied: getRGB returns the stored bits), or another colour space converted by AWT.
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                image.getRGB(0, y, w, 1, row, 0, w);
                for (int x = 0, o = y * w * 3; x < w; x++, o += 3) {
                    int argb = row[x];
                    out[o] = (byte) (argb >> 16);
                    out[o + 1] = (byte) (argb >> 8);
                    out[o + 2] = (byte) argb;
                }
            }
        }
        return new RgbImage(w, h, out);
    }
}
