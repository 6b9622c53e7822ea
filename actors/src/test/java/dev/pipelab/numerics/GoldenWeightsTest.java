package dev.pipelab.numerics;

import dev.pipelab.model.Recompute;
import dev.pipelab.schedule.Schedules;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fixed-seed runs keep their exact bits across JVMs, machines and refactorings: the SHA-256 of the weights file
 * and the raw bits of every step loss are golden ({@code src/test/resources/numerics/golden.txt}). The actor
 * runtime must reproduce the same lines. Regenerate with {@code -Dpipelab.regenerateGolden=true} and review the
 * diff: any change means the numerics changed.
 */
class GoldenWeightsTest {

    private static final Path GOLDEN = Path.of("src", "test", "resources", "numerics", "golden.txt");

    private static String line(String label, TrainingResult r) throws Exception {
        StringBuilder s = new StringBuilder(label).append(" losses=");
        for (int i = 0; i < r.losses().size(); i++) {
            if (i > 0) s.append(',');
            s.append(Long.toHexString(Double.doubleToRawLongBits(r.losses().get(i))));
        }
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(WeightsFile.encode(r.weights()));
        return s.append(" weights-sha256=").append(HexFormat.of().formatHex(digest)).toString();
    }

    @Test
    void fixedSeedRunsMatchTheGoldenBits() throws Exception {
        List<String> lines = new ArrayList<>();
        for (BitExactnessTest.Kind kind : BitExactnessTest.Kind.values()) {
            TrainingResult r = new PipelineTrainer(BitExactnessTest.model(kind), BitExactnessTest.data(kind),
                    Schedules.zbH2(4, 8).withRecompute(), Recompute.FULL, 2, BitExactnessTest.optimizer(kind),
                    PipelineTrainer.Reduction.RING).train(3);
            String label = kind.name().toLowerCase() + " zb-h2 p=4 m=8 d=2 full";
            lines.add(line(label, r));
            TrainingResult reference = new SequentialTrainer(BitExactnessTest.model(kind), BitExactnessTest.data(kind), 8, 2,
                    BitExactnessTest.optimizer(kind)).train(3);
            assertThat(line(label, reference)).as("the sequential reference gives the same line").isEqualTo(line(label, r));
        }
        String text = String.join("\n", lines) + "\n";
        if (Boolean.getBoolean("pipelab.regenerateGolden")) Files.writeString(GOLDEN, text, StandardCharsets.UTF_8);
        assertThat(text).isEqualTo(Files.readString(GOLDEN, StandardCharsets.UTF_8));
    }
}
