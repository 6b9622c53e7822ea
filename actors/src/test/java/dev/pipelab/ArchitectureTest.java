package dev.pipelab;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** DESIGN.md §1: the pure packages import no Pekko class, so they can be tested and reused without an actor system. */
class ArchitectureTest {

    private static final List<String> PURE = List.of("model", "schedule", "scenario", "plan", "numerics");

    @Test
    void purePackagesImportNoPekko() throws IOException {
        Path main = Path.of("src", "main", "java", "dev", "pipelab");
        List<String> offenders = new ArrayList<>();
        int checked = 0;
        for (String pkg : PURE) {
            Path dir = main.resolve(pkg);
            if (!Files.isDirectory(dir)) continue;
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                    checked++;
                    for (String line : Files.readAllLines(f)) {
                        if (line.startsWith("import") && line.contains("org.apache.pekko")) offenders.add(f + ": " + line);
                    }
                }
            }
        }
        assertThat(checked).as("source files checked").isGreaterThan(20);
        assertThat(offenders).isEmpty();
    }

    @Test
    void monitoringImportsNoPekko() throws IOException {
        Path main = Path.of("..", "monitoring", "src", "main", "java");
        try (Stream<Path> files = Files.walk(main)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                assertThat(Files.readString(f)).as(f.toString()).doesNotContain("org.apache.pekko");
            }
        }
    }
}
