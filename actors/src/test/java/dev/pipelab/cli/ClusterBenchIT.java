package dev.pipelab.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code pipelab bench cluster} end to end, as a process: it starts its workers, measures, and stops them all. A short
 * round (quickstart, two workers, no warm-up) so that the path is exercised, not the numbers (speed is never asserted).
 */
class ClusterBenchIT {

    @Test
    void measuresEveryPlacementAndLeavesNoWorkerBehind(@TempDir Path tmp) throws IOException, InterruptedException {
        Set<Long> before = workerPids();
        Path out = tmp.resolve("bench.out");
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dpipelab.bench.warmups=0", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "bench", "cluster", "--rounds", "1", "--nodes", "2",
                "--scenario", Path.of("..", "scenarios", "quickstart.yaml").toAbsolutePath().normalize().toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        try {
            assertThat(p.waitFor(240, TimeUnit.SECONDS)).as("bench cluster ended within 240 s").isTrue();
        } finally {
            p.destroyForcibly();
        }
        String text = Files.readString(out, StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(text).isZero();
        assertThat(text).contains("medians: all Up", "medians: embedded", "pack/embedded", "spread/embedded",
                "every run gave the analytic step time");
        // a worker the bench stopped may take a moment to exit on a loaded machine: give it 15 s, not forever
        Set<Long> left = workerPids();
        for (int i = 0; i < 30 && !before.containsAll(left); i++) {
            Thread.sleep(500);
            left = workerPids();
        }
        assertThat(left).as("worker processes left behind 15 s after the bench").isSubsetOf(before);
    }

    /** Live {@code pipelab node} processes of this machine. */
    private static Set<Long> workerPids() {
        return ProcessHandle.allProcesses().filter(ProcessHandle::isAlive)
                .filter(h -> h.info().commandLine().map(c -> c.contains(Main.class.getName() + " node ")).orElse(false))
                .map(ProcessHandle::pid).collect(Collectors.toSet());
    }
}
