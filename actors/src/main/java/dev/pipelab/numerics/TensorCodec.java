package dev.pipelab.numerics;

import org.ejml.data.DMatrixRMaj;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Activations and gradients as compact message payloads. Invariant: {@code decode(encode(m))} has the shape
 * and the raw bits of m, so sending a tensor through a message changes nothing.
 *
 * <p>Format (little-endian): int32 rows, int32 cols, then rows·cols IEEE-754 doubles row-major — 8 + 8·n
 * bytes. Pekko's ordinary remote lane drops payloads over {@link #FRAME_BYTES} (256 KiB, its default {@code maximum-frame-size}, dropped silently); larger
 * payloads must go through {@code large-message-destinations} ({@link #needsLargeMessageLane}).
 */
public final class TensorCodec {

    /** Pekko Artery's default {@code maximum-frame-size}: 256 KiB. */
    public static final int FRAME_BYTES = 256 * 1024;

    /** Header bytes: rows and cols. */
    public static final int HEADER_BYTES = 8;

    /**
     * Bytes reserved for the envelope around the payload (CBOR record fields, actor paths, sequence numbers):
     * a conservative margin so that "fits" means fits with the message around it.
     */
    public static final int ENVELOPE_MARGIN_BYTES = 4 * 1024;

    private TensorCodec() {}

    /** The encoded size of a {@code rows × cols} tensor. */
    public static long encodedBytes(int rows, int cols) {
        return HEADER_BYTES + 8L * rows * cols;
    }

    public static byte[] encode(DMatrixRMaj m) {
        long size = encodedBytes(m.numRows, m.numCols);
        if (size > Integer.MAX_VALUE) throw new IllegalArgumentException("tensor too large to encode: " + size + " bytes");
        ByteBuffer buf = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
        buf.putInt(m.numRows).putInt(m.numCols);
        int n = m.numRows * m.numCols;
        for (int i = 0; i < n; i++) buf.putLong(Double.doubleToRawLongBits(m.data[i]));
        return buf.array();
    }

    /** A gradient chunk (ring all-reduce message) as a {@code 1 × n} tensor payload. */
    public static byte[] encodeVector(double[] values) {
        return encode(DMatrixRMaj.wrap(1, values.length, values));
    }

    /** The inverse of {@link #encodeVector}. */
    public static double[] decodeVector(byte[] bytes) {
        DMatrixRMaj m = decode(bytes);
        if (m.numRows != 1 && m.getNumElements() != 0) throw new IllegalArgumentException("expected a 1 × n vector payload, got " + m.numRows + " × " + m.numCols);
        return m.data.length == m.getNumElements() ? m.data : Arrays.copyOf(m.data, m.getNumElements());
    }

    public static DMatrixRMaj decode(byte[] bytes) {
        if (bytes.length < HEADER_BYTES) throw new IllegalArgumentException("tensor payload of " + bytes.length + " bytes is shorter than its 8-byte header");
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int rows = buf.getInt();
        int cols = buf.getInt();
        if (rows < 0 || cols < 0 || encodedBytes(rows, cols) != bytes.length) {
            throw new IllegalArgumentException("tensor payload says " + rows + " × " + cols + " (" + encodedBytes(rows, cols)
                    + " bytes) but has " + bytes.length + " bytes");
        }
        DMatrixRMaj m = new DMatrixRMaj(rows, cols);
        for (int i = 0; i < rows * cols; i++) m.data[i] = Double.longBitsToDouble(buf.getLong());
        return m;
    }

    /** Whether an encoded payload of {@code payloadBytes} (plus the envelope margin) fits Pekko's ordinary frame. */
    public static boolean fitsFrame(long payloadBytes) {
        return payloadBytes + ENVELOPE_MARGIN_BYTES <= FRAME_BYTES;
    }

    /** Whether a {@code rows × cols} tensor must travel on the large-message lane. */
    public static boolean needsLargeMessageLane(int rows, int cols) {
        return !fitsFrame(encodedBytes(rows, cols));
    }

    /** The largest number of doubles whose payload fits the ordinary frame: (256 KiB − 4 KiB − 8) / 8 = 32255. */
    public static int maxElementsPerFrame() {
        return (FRAME_BYTES - ENVELOPE_MARGIN_BYTES - HEADER_BYTES) / 8;
    }
}
