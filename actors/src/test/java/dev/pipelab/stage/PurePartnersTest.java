package dev.pipelab.stage;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The decisions live in pure partners: no Pekko import in them, so plain unit tests drive them. */
class PurePartnersTest {

    @Test
    void thePurePartnersImportNoPekko() throws IOException {
        Path main = Path.of("src", "main", "java", "dev", "pipelab");
        List<Path> pure = List.of(main.resolve("stage/StageState.java"), main.resolve("stage/StageProgram.java"),
                main.resolve("stage/StageReport.java"), main.resolve("link/CreditWindow.java"), main.resolve("link/LinkState.java"),
                main.resolve("pipeline/Quiescence.java"), main.resolve("pipeline/DataLoader.java"),
                main.resolve("pipeline/StepRecords.java"), main.resolve("pipeline/TelemetryChoice.java"),
                main.resolve("protocol/Payload.java"), main.resolve("protocol/Control.java"), main.resolve("clock/Clock.java"),
                main.resolve("clock/VirtualClock.java"), main.resolve("clock/WallClock.java"));
        for (Path p : pure) {
            assertThat(Files.readString(p)).as(p.toString()).doesNotContain("org.apache.pekko");
        }
    }
}
