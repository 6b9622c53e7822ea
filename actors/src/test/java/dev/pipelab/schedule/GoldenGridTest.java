package dev.pipelab.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The grids {@code pipelab schedule} prints, pinned in {@code src/test/resources/schedules}. Regenerate with
 * {@code -Dpipelab.golden.update=true} and review the diff.
 */
class GoldenGridTest {

    private static final Path DIR = Path.of("src", "test", "resources", "schedules");

    static Stream<Arguments> grids() {
        return Stream.of(
                Arguments.of("gpipe-4x8.txt", Schedules.gpipe(4, 8)),
                Arguments.of("1f1b-4x8.txt", Schedules.oneFOneB(4, 8)),
                Arguments.of("interleaved-4x8-v2.txt", Schedules.interleaved(4, 2, 8)),
                Arguments.of("zb-h1-4x8.txt", Schedules.zbH1(4, 8)),
                Arguments.of("zb-h2-4x8.txt", Schedules.zbH2(4, 8)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("grids")
    void gridMatchesGolden(String file, Schedule schedule) throws IOException {
        String actual = ScheduleText.header(schedule) + "\n" + ScheduleText.grid(schedule);
        Path golden = DIR.resolve(file);
        if (Boolean.getBoolean("pipelab.golden.update")) {
            Files.createDirectories(DIR);
            Files.writeString(golden, actual, StandardCharsets.UTF_8);
        }
        assertThat(golden).as("golden file; regenerate with -Dpipelab.golden.update=true").exists();
        assertThat(actual).isEqualTo(Files.readString(golden, StandardCharsets.UTF_8));
    }
}
