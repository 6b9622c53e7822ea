package dev.pipelab.monitoring.trace;

import dev.pipelab.monitoring.Event;
import dev.pipelab.monitoring.synthetic.SyntheticRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class LargeTraceTest {

    @Test
    void twoThousandFortyEightDevicesStreamIntoASoundTrace(@TempDir Path dir) throws Exception {
        SyntheticRun run = new SyntheticRun(16, 128, 8, 0.01, 0.3, 8);
        Path file = dir.resolve("trace.json");
        long events = 0;
        long t0 = System.nanoTime();
        try (TraceWriter writer = new TraceWriter(run.info(), file)) {
            for (int step = 0; step < 1; step++) {
                List<Event> e = run.nextStep();
                events += SyntheticRun.spans(e);
                e.forEach(writer::emit);
            }
        }
        long t1 = System.nanoTime();
        assertThat(events).isGreaterThan(90_000);
        assertThat(TraceCheck.check(file, run.busyMicros)).isEmpty();
        System.out.printf("trace of %d events: written in %.0f ms, %d MB, checked in %.0f ms%n", events, (t1 - t0) / 1e6,
                Files.size(file) >> 20, (System.nanoTime() - t1) / 1e6);
    }
}
