package dev.pipelab.numerics;

import org.ejml.data.DMatrixRMaj;

import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * All weights of a model in one binary file, so that two runs can be compared bit for bit. Invariant:
 * {@code read(write(ps))} has the same names, shapes and raw bits as {@code ps}, and any corruption (bad magic,
 * unknown version, truncation, flipped bit) is reported as a {@link WeightsFormatException}, never as wrong
 * weights.
 *
 * <p>Format, version 1, all integers little-endian:
 * <pre>
 *   magic      4 bytes  "PLWT"
 *   version    int32    1
 *   count      int32    number of tensors
 *   per tensor:
 *     nameLen  int32    bytes of the name
 *     name     UTF-8    (the {@link Param#name()})
 *     rows     int32
 *     cols     int32
 *     data     rows·cols × 8 bytes: IEEE-754 binary64 raw bits ({@code doubleToRawLongBits}), little-endian, row-major
 *   crc32      int32    CRC-32 of every byte before it
 * </pre>
 */
public final class WeightsFile {

    private static final byte[] MAGIC = {'P', 'L', 'W', 'T'};
    public static final int VERSION = 1;

    private WeightsFile() {}

    /** A weights file that cannot be read; the message says what was expected and what came. */
    public static final class WeightsFormatException extends IOException {
        public WeightsFormatException(String message) {
            super(message);
        }
    }

    public static byte[] encode(List<Param> params) {
        int size = 4 + 4 + 4 + 4;
        List<byte[]> names = new ArrayList<>();
        for (Param p : params) {
            byte[] n = p.name().getBytes(StandardCharsets.UTF_8);
            names.add(n);
            size += 4 + n.length + 8 + 8 * p.value().getNumElements();
        }
        ByteBuffer buf = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        buf.put(MAGIC).putInt(VERSION).putInt(params.size());
        for (int i = 0; i < params.size(); i++) {
            DMatrixRMaj m = params.get(i).value();
            buf.putInt(names.get(i).length).put(names.get(i)).putInt(m.numRows).putInt(m.numCols);
            for (int k = 0; k < m.getNumElements(); k++) buf.putLong(Double.doubleToRawLongBits(m.data[k]));
        }
        CRC32 crc = new CRC32();
        crc.update(buf.array(), 0, size - 4);
        buf.putInt((int) crc.getValue());
        return buf.array();
    }

    public static void write(Path file, List<Param> params) throws IOException {
        Files.write(file, encode(params));
    }

    public static List<Param> read(Path file) throws IOException {
        return decode(Files.readAllBytes(file), file.toString());
    }

    /** @param source where the bytes came from, for messages */
    public static List<Param> decode(byte[] bytes, String source) throws WeightsFormatException {
        if (bytes.length < 16) throw new WeightsFormatException(source + ": " + bytes.length + " bytes is too short for a weights file (at least 16)");
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        byte[] magic = new byte[4];
        buf.get(magic);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new WeightsFormatException(source + ": not a pipelab weights file (magic " + hex(magic) + ", expected 504C5754 \"PLWT\")");
        }
        int version = buf.getInt();
        if (version != VERSION) throw new WeightsFormatException(source + ": weights file version " + version + ", this reader knows " + VERSION);
        CRC32 crc = new CRC32();
        crc.update(bytes, 0, bytes.length - 4);
        int stored = ByteBuffer.wrap(bytes, bytes.length - 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        if (stored != (int) crc.getValue()) {
            throw new WeightsFormatException(source + ": checksum mismatch (stored " + Integer.toHexString(stored) + ", computed "
                    + Long.toHexString(crc.getValue()) + "): the file is truncated or corrupted");
        }
        int count = buf.getInt();
        List<Param> out = new ArrayList<>();
        try {
            for (int i = 0; i < count; i++) {
                int len = buf.getInt();
                if (len <= 0 || len > buf.remaining()) throw new WeightsFormatException(source + ": tensor " + i + " has a bad name length " + len);
                byte[] name = new byte[len];
                buf.get(name);
                int rows = buf.getInt();
                int cols = buf.getInt();
                if (rows < 0 || cols < 0 || 8L * rows * cols > buf.remaining() - 4) {
                    throw new WeightsFormatException(source + ": tensor " + i + " claims " + rows + " × " + cols + " but the file has only "
                            + (buf.remaining() - 4) + " bytes left");
                }
                DMatrixRMaj m = new DMatrixRMaj(rows, cols);
                for (int k = 0; k < rows * cols; k++) m.data[k] = Double.longBitsToDouble(buf.getLong());
                out.add(new Param(new String(name, StandardCharsets.UTF_8), m));
            }
        } catch (BufferUnderflowException e) {
            throw new WeightsFormatException(source + ": truncated while reading tensor " + out.size() + " of " + count);
        }
        if (buf.remaining() != 4) throw new WeightsFormatException(source + ": " + (buf.remaining() - 4) + " unexpected bytes after the last tensor");
        return out;
    }

    /**
     * Copies {@code source} into {@code target} by name (for loading a checkpoint into live params).
     *
     * @throws IllegalArgumentException naming the first param that is missing or shaped differently
     */
    public static void copyInto(List<Param> target, List<Param> source) {
        Map<String, DMatrixRMaj> byName = new HashMap<>();
        for (Param p : source) byName.put(p.name(), p.value());
        for (Param p : target) {
            DMatrixRMaj m = byName.get(p.name());
            if (m == null) throw new IllegalArgumentException("checkpoint has no tensor " + p.name());
            if (m.numRows != p.value().numRows || m.numCols != p.value().numCols) {
                throw new IllegalArgumentException(p.name() + ": checkpoint has " + m.numRows + " × " + m.numCols
                        + ", model expects " + p.value().numRows + " × " + p.value().numCols);
            }
            p.value().setTo(m);
        }
    }

    private static String hex(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (byte x : b) s.append(String.format("%02X", x));
        return s.toString();
    }
}
