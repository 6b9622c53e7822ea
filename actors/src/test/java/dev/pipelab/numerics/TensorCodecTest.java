package dev.pipelab.numerics;

import org.ejml.data.DMatrixRMaj;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TensorCodecTest {

    @Test
    void roundTripKeepsShapeAndRawBits() {
        DMatrixRMaj m = new DMatrixRMaj(new double[][] {{-0.0, Double.MIN_VALUE, Double.longBitsToDouble(0x7ff8_0000_0000_1234L)},
                {1.0 / 3, -Double.MAX_VALUE, Double.NEGATIVE_INFINITY}});
        byte[] bytes = TensorCodec.encode(m);
        assertThat(bytes).hasSize(8 + 6 * 8);
        assertThat(Tensors.bitEqual(TensorCodec.decode(bytes), m)).isTrue();
    }

    @Test
    void vectorsForRingChunksRoundTrip() {
        double[] v = {1.5, -0.0, Double.MIN_NORMAL};
        byte[] bytes = TensorCodec.encodeVector(v);
        assertThat(bytes).hasSize(8 + 3 * 8);
        double[] back = TensorCodec.decodeVector(bytes);
        for (int i = 0; i < v.length; i++) assertThat(Double.doubleToRawLongBits(back[i])).isEqualTo(Double.doubleToRawLongBits(v[i]));
        assertThat(TensorCodec.decodeVector(TensorCodec.encodeVector(new double[0]))).isEmpty();
    }

    @Test
    void frameLimits() {
        assertThat(TensorCodec.maxElementsPerFrame()).isEqualTo(32255);
        assertThat(TensorCodec.fitsFrame(TensorCodec.encodedBytes(1, 32255))).isTrue();
        assertThat(TensorCodec.fitsFrame(TensorCodec.encodedBytes(1, 32256))).isFalse();
        // the toy transformer's activation (b=8, T=6, h=16) is tiny; one LLaMA-2 70B micro-batch (s=4096, h=8192) is not
        assertThat(TensorCodec.needsLargeMessageLane(8 * 6, 16)).isFalse();
        assertThat(TensorCodec.needsLargeMessageLane(4096, 8192)).isTrue();
    }

    @Test
    void aPayloadWhoseLengthDisagreesWithItsHeaderIsRejected() {
        byte[] bytes = TensorCodec.encode(new DMatrixRMaj(2, 2));
        byte[] cut = Arrays.copyOf(bytes, bytes.length - 1);
        assertThatThrownBy(() -> TensorCodec.decode(cut)).hasMessageContaining("says 2 × 2 (40 bytes) but has 39 bytes");
    }
}
