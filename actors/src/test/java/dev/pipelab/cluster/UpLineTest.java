package dev.pipelab.cluster;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The node's up line is the contract between {@code pipelab node} and {@code pipelab cluster up}. */
class UpLineTest {

    @Test
    void parsesTheLineANodePrintsAndGivesItBack() {
        String line = "pipelab node: up worker pekko://pipelab@127.0.0.1:25521 slots=8 version=0.1.0-SNAPSHOT";
        UpLine up = UpLine.parse(line).orElseThrow();
        assertThat(up).isEqualTo(new UpLine("worker", "pekko://pipelab@127.0.0.1:25521", "127.0.0.1", 25521, 8, "0.1.0-SNAPSHOT"));
        assertThat(up.toString()).isEqualTo(line);
    }

    @Test
    void ignoresLogLinesAndHalfWrittenLines() {
        assertThat(UpLine.parse("14:02:11.120 WARN  o.a.p.r.a.Association - pipelab node: up worker")).isEmpty();
        assertThat(UpLine.parse("pipelab node: up worker pekko://pipelab@127.0.0.1:25521 slots=8")).isEmpty();
        assertThat(UpLine.parse("")).isEmpty();
    }

    @Test
    void rejectsNumbersNoNodeCanHave() {
        assertThat(UpLine.parse("pipelab node: up worker pekko://pipelab@127.0.0.1:70000 slots=8 version=dev")).isEmpty();
        assertThat(UpLine.parse("pipelab node: up worker pekko://pipelab@127.0.0.1:25521 slots=0 version=dev")).isEmpty();
    }
}
