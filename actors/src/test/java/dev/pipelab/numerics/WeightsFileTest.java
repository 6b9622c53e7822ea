package dev.pipelab.numerics;

import org.ejml.data.DMatrixRMaj;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WeightsFileTest {

    private static List<Param> trainedTransformer() {
        RealModel model = RealModel.transformer(8, 4, 8, 2, 2, Activation.GELU, true, 3);
        SequentialTrainer t = new SequentialTrainer(model, SequenceData.forModel(model, 2, 1), 2, 1, OptimizerSpec.Adam.of(0.01));
        return t.train(2).weights();
    }

    @Test
    void roundTripIsBitExact(@TempDir Path dir) throws Exception {
        List<Param> params = new ArrayList<>(trainedTransformer());
        params.add(new Param("odd", new DMatrixRMaj(new double[][] {{-0.0, Double.longBitsToDouble(0x7ff8_0000_0000_0042L), Double.MIN_VALUE}})));
        Path file = dir.resolve("w.plwt");
        WeightsFile.write(file, params);
        List<Param> back = WeightsFile.read(file);
        assertThat(back).hasSameSizeAs(params);
        for (int k = 0; k < params.size(); k++) {
            assertThat(back.get(k).name()).isEqualTo(params.get(k).name());
            assertThat(Tensors.bitEqual(back.get(k).value(), params.get(k).value())).as(params.get(k).name()).isTrue();
        }
        assertThat(WeightsFile.encode(back)).isEqualTo(Files.readAllBytes(file));
    }

    @Test
    void layoutIsTheDocumentedOne() throws Exception {
        byte[] b = WeightsFile.encode(List.of(new Param("w", new DMatrixRMaj(new double[][] {{1.0}}))));
        // magic, version 1, count 1, nameLen 1, 'w', rows 1, cols 1, 1.0 as LE bits, crc
        assertThat(b).hasSize(4 + 4 + 4 + 4 + 1 + 4 + 4 + 8 + 4);
        assertThat(new String(b, 0, 4, StandardCharsets.US_ASCII)).isEqualTo("PLWT");
        assertThat(b[4]).isEqualTo((byte) 1);
        assertThat(b[8]).isEqualTo((byte) 1);
        assertThat(b[16]).isEqualTo((byte) 'w');
        assertThat(b[25 + 6]).isEqualTo((byte) 0xF0); // 1.0 = 0x3FF0000000000000, little-endian
        assertThat(b[25 + 7]).isEqualTo((byte) 0x3F);
    }

    @Test
    void corruptionIsAClearError(@TempDir Path dir) throws Exception {
        byte[] good = WeightsFile.encode(trainedTransformer());

        byte[] flipped = good.clone();
        flipped[good.length / 2] ^= 0x01;
        assertThatThrownBy(() -> WeightsFile.decode(flipped, "flipped.plwt"))
                .isInstanceOf(WeightsFile.WeightsFormatException.class)
                .hasMessageStartingWith("flipped.plwt: checksum mismatch");

        byte[] truncated = Arrays.copyOf(good, good.length - 100);
        assertThatThrownBy(() -> WeightsFile.decode(truncated, "cut.plwt")).hasMessageContaining("truncated or corrupted");

        byte[] magic = good.clone();
        magic[0] = 'X';
        assertThatThrownBy(() -> WeightsFile.decode(magic, "m.plwt")).hasMessageContaining("not a pipelab weights file");

        byte[] version = good.clone();
        version[4] = 9;
        assertThatThrownBy(() -> WeightsFile.decode(version, "v.plwt")).hasMessageContaining("version 9, this reader knows 1");

        Path empty = Files.write(dir.resolve("empty.plwt"), new byte[0]);
        assertThatThrownBy(() -> WeightsFile.read(empty)).hasMessageContaining("too short");
    }
}
