package dev.jdnn.onnx;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Splits a mapped ONNX file into its structure and its weight bytes without copying the weights: walks
 * the protobuf wire format of {@code ModelProto → graph → initializer / node.attribute.t} and writes a
 * copy of the file in which every {@code TensorProto.raw_data} is left out. In its place the tensor gets
 * an {@code external_data} entry {@value #RAW_KEY} = index into {@link Split#raw()}, which holds where the
 * bytes sit in the file. protobuf-java then parses only the small skeleton; the heap never sees a weight.
 *
 * <p>Wire format: each field is a varint tag {@code (number << 3) | wireType}, then a varint (type 0), 8
 * bytes (1), a varint length and that many bytes (2, submessages and bytes), or 4 bytes (5). Fields may come
 * in any order and a repeated field's elements need not be adjacent, so appending the entry is valid.
 */
final class ProtoSplitter {
    /** The external_data key the splitter adds; its value is an index into {@link Split#raw()}. */
    static final String RAW_KEY = "jdnn:raw";

    /** @param raw per stripped tensor, {byte offset in the file, byte length} of its raw_data */
    record Split(byte[] skeleton, List<long[]> raw) {}

    private enum Level { MODEL, GRAPH, NODE, ATTRIBUTE, TENSOR }

    private final MemorySegment file;
    private final String where;
    private final List<long[]> raw = new ArrayList<>();

    private ProtoSplitter(MemorySegment file, String where) {
        this.file = file;
        this.where = where;
    }

    static Split split(MemorySegment file, String where) {
        ProtoSplitter s = new ProtoSplitter(file, where);
        Out out = new Out();
        s.copy(0, file.byteSize(), Level.MODEL, out);
        return new Split(out.toArray(), List.copyOf(s.raw));
    }

    /** Copies the fields of the message in {@code [start, end)} into {@code out}, descending into those that can hold tensors. */
    private void copy(long start, long end, Level level, Out out) {
        long p = start;
        int rawIndex = -1;   // TENSOR: the raw_data left out (protobuf: the last occurrence wins)
        while (p < end) {
            long fieldStart = p;
            long tag = varint(p, end);
            p += varintSize(p);
            int number = (int) (tag >>> 3);
            int wireType = (int) (tag & 7);
            switch (wireType) {
                case 0 -> { varint(p, end); p += varintSize(p); }
                case 1 -> p += 8;
                case 5 -> p += 4;
                case 2 -> {
                    long length = varint(p, end);
                    p += varintSize(p);
                    if (length < 0 || length > end - p) throw malformed(fieldStart, "a field of " + length + " bytes runs past its message");
                    Level child = child(level, number);
                    if (level == Level.TENSOR && number == 9) {   // raw_data: remember where it is, leave it out
                        rawIndex = raw.size();
                        raw.add(new long[] {p, length});
                        p += length;
                        continue;
                    }
                    if (child != null) {
                        Out inner = new Out();
                        copy(p, p + length, child, inner);
                        out.varint(((long) number << 3) | 2);
                        out.varint(inner.size);
                        out.write(inner.bytes, 0, inner.size);
                        p += length;
                        continue;
                    }
                    p += length;
                }
                default -> throw malformed(fieldStart, "wire type " + wireType + " (protobuf groups or garbage) is not used by ONNX");
            }
            if (p > end) throw malformed(fieldStart, "a field runs past its message");
            out.copy(file, fieldStart, p - fieldStart);
        }
        if (rawIndex >= 0) appendRawEntry(out, rawIndex);
    }

    /** external_data (field 13) = StringStringEntryProto {key (1) = RAW_KEY, value (2) = index}. */
    private void appendRawEntry(Out out, int index) {
        byte[] key = RAW_KEY.getBytes(StandardCharsets.UTF_8);
        byte[] value = Integer.toString(index).getBytes(StandardCharsets.UTF_8);
        Out entry = new Out();
        entry.varint((1 << 3) | 2);
        entry.varint(key.length);
        entry.write(key, 0, key.length);
        entry.varint((2 << 3) | 2);
        entry.varint(value.length);
        entry.write(value, 0, value.length);
        out.varint((13 << 3) | 2);
        out.varint(entry.size);
        out.write(entry.bytes, 0, entry.size);
    }

    /** Which submessages may contain TensorProtos: ModelProto.graph (7), GraphProto.initializer (5) and node (1), NodeProto.attribute (5), AttributeProto.t (5). */
    private static Level child(Level level, int number) {
        return switch (level) {
            case MODEL -> number == 7 ? Level.GRAPH : null;
            case GRAPH -> number == 5 ? Level.TENSOR : number == 1 ? Level.NODE : null;
            case NODE -> number == 5 ? Level.ATTRIBUTE : null;
            case ATTRIBUTE -> number == 5 ? Level.TENSOR : null;
            case TENSOR -> null;
        };
    }

    private long varint(long p, long end) {
        long value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (p >= end) throw malformed(p, "a varint runs past its message");
            byte b = file.get(ValueLayout.JAVA_BYTE, p++);
            value |= (long) (b & 0x7F) << shift;
            if (b >= 0) return value;
        }
        throw malformed(p, "a varint is longer than 10 bytes");
    }

    private int varintSize(long p) {
        int n = 1;
        while (file.get(ValueLayout.JAVA_BYTE, p++) < 0) n++;
        return n;
    }

    private OnnxFormatException malformed(long at, String what) {
        return new OnnxFormatException("cannot read " + where + " as an ONNX model: malformed protobuf at byte " + at + ": " + what);
    }

    /** A growable byte array. */
    private static final class Out {
        byte[] bytes = new byte[256];
        int size;

        void varint(long v) {
            while ((v & ~0x7FL) != 0) {
                put((byte) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            put((byte) v);
        }

        void put(byte b) {
            ensure(1);
            bytes[size++] = b;
        }

        void write(byte[] b, int from, int length) {
            ensure(length);
            System.arraycopy(b, from, bytes, size, length);
            size += length;
        }

        void copy(MemorySegment from, long offset, long length) {
            ensure(Math.toIntExact(length));
            MemorySegment.copy(from, ValueLayout.JAVA_BYTE, offset, bytes, size, (int) length);
            size += (int) length;
        }

        private void ensure(int more) {
            if ((long) size + more > Integer.MAX_VALUE - 8) throw new OnnxFormatException("ONNX model structure larger than 2 GB without its weights");
            if (size + more > bytes.length) bytes = Arrays.copyOf(bytes, Math.max(size + more, bytes.length * 2));
        }

        byte[] toArray() {
            return Arrays.copyOf(bytes, size);
        }
    }
}
