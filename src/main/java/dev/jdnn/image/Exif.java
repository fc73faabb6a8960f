package dev.jdnn.image;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** The EXIF orientation tag of a JPEG file, and the transposition it asks for. */
final class Exif {
    private Exif() {}

    /** The orientation (1–8) in a JPEG's APP1 Exif segment; 1 when there is none or the file is not a JPEG. */
    static int orientation(Path file) {
        try {
            return orientation(Files.newInputStream(file));
        } catch (IOException e) {
            return 1;
        }
    }

    /** As {@link #orientation(Path)}, for a JPEG's bytes; closes {@code stream}. */
    static int orientation(InputStream stream) {
        try (InputStream in = stream) {
            byte[] head = in.readNBytes(2);
            if (head.length < 2 || (head[0] & 0xFF) != 0xFF || (head[1] & 0xFF) != 0xD8) return 1;
            while (true) {
                int marker = in.read();
                while (marker == 0xFF) marker = in.read(); // fill bytes
                if (marker < 0 || marker == 0xDA || marker == 0xD9) return 1; // start of scan: no more metadata
                int hi = in.read(), lo = in.read();
                if (lo < 0) return 1;
                int length = (hi << 8 | lo) - 2;
                if (length < 0) return 1;
                byte[] segment = in.readNBytes(length);
                if (marker == 0xE1 && segment.length > 14 && segment[0] == 'E' && segment[1] == 'x' && segment[2] == 'i' && segment[3] == 'f') {
                    return fromTiff(segment, 6);
                }
            }
        } catch (IOException e) {
            return 1;
        }
    }

    /** Tag 0x0112 of IFD0 of the TIFF structure at {@code base}. */
    private static int fromTiff(byte[] b, int base) {
        if (base + 8 > b.length) return 1;
        boolean little = b[base] == 'I';
        int ifd = base + (int) u32(b, base + 4, little);
        if (ifd < base || ifd + 2 > b.length) return 1;
        int entries = u16(b, ifd, little);
        for (int i = 0; i < entries; i++) {
            int e = ifd + 2 + 12 * i;
            if (e + 12 > b.length) return 1;
            if (u16(b, e, little) == 0x0112) {
                int v = u16(b, e + 8, little);
                return v >= 1 && v <= 8 ? v : 1;
            }
        }
        return 1;
    }

    private static int u16(byte[] b, int p, boolean little) {
        return little ? (b[p] & 0xFF) | (b[p + 1] & 0xFF) << 8 : (b[p] & 0xFF) << 8 | (b[p + 1] & 0xFF);
    }

    private static long u32(byte[] b, int p, boolean little) {
        return little ? (long) u16(b, p, true) | (long) u16(b, p + 2, true) << 16 : (long) u16(b, p, false) << 16 | u16(b, p + 2, false);
    }

    /** The image as {@code ImageOps.exif_transpose} shows it for orientation 2–8. */
    static RgbImage transpose(RgbImage in, int orientation) {
        int w = in.width(), h = in.height();
        boolean swap = orientation >= 5;
        int ow = swap ? h : w, oh = swap ? w : h;
        byte[] out = new byte[ow * oh * 3];
        for (int y = 0; y < oh; y++) {
            for (int x = 0; x < ow; x++) {
                int sx, sy;
                switch (orientation) {
                    case 2 -> { sx = w - 1 - x; sy = y; }          // mirror left-right
                    case 3 -> { sx = w - 1 - x; sy = h - 1 - y; }  // rotate 180
                    case 4 -> { sx = x; sy = h - 1 - y; }          // mirror top-bottom
                    case 5 -> { sx = y; sy = x; }                  // transpose
                    case 6 -> { sx = y; sy = h - 1 - x; }          // rotate 90° clockwise
                    case 7 -> { sx = w - 1 - y; sy = h - 1 - x; }  // transverse
                    default -> { sx = w - 1 - y; sy = x; }         // 8: rotate 90° counter-clockwise
                }
                System.arraycopy(in.pixels, (sy * w + sx) * 3, out, (y * ow + x) * 3, 3);
            }
        }
        return new RgbImage(ow, oh, out);
    }
}
