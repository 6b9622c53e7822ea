package dev.pipelab.cluster;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The state file is what lets {@code down} find every process {@code up} started. */
class LocalClusterTest {

    static LocalCluster.Node node(int index, int port, String upLine) {
        return new LocalCluster.Node(index, "worker", "127.0.0.1", port, 1000 + index, 1_796_000_000_000L + index,
                "/tmp/node-" + index + ".log", upLine);
    }

    @Test
    void roundTripsThroughTheFile(@TempDir Path dir) throws IOException {
        UpLine up = new UpLine("worker", "pekko://pipelab@127.0.0.1:25521", "127.0.0.1", 25521, 4, "dev");
        LocalCluster cluster = new LocalCluster(List.of(node(0, 25520, ""), node(1, 25521, up.toString())));
        cluster.write(dir);
        LocalCluster read = LocalCluster.read(dir).orElseThrow();
        assertThat(read).isEqualTo(cluster);
        assertThat(read.seed().hostPort()).isEqualTo("127.0.0.1:25520");
        assertThat(read.nodes().get(0).up()).isEmpty();
        assertThat(read.nodes().get(1).up()).contains(up);
        assertThat(Files.list(dir).map(p -> p.getFileName().toString()).toList()).containsExactly(LocalCluster.FILE);
    }

    @Test
    void theClusterNameIsRecordedAndAnOlderFileWithoutOneIsTheDefaultCluster(@TempDir Path dir) throws IOException {
        LocalCluster named = new LocalCluster(List.of(node(0, 25520, "")), "lab-a");
        named.write(dir);
        assertThat(LocalCluster.read(dir).orElseThrow().clusterName()).isEqualTo("lab-a");
        assertThat(named.with(named.nodes().get(0)).clusterName()).isEqualTo("lab-a");
        Files.writeString(dir.resolve(LocalCluster.FILE), Files.readString(dir.resolve(LocalCluster.FILE))
                .replaceAll(",\\s*\"clusterName\"\\s*:\\s*\"lab-a\"", ""));
        assertThat(Files.readString(dir.resolve(LocalCluster.FILE))).doesNotContain("clusterName");
        assertThat(LocalCluster.read(dir).orElseThrow().clusterName()).isEqualTo("pipelab");
    }

    @Test
    void nothingRecordedIsEmptyAndDeleteKeepsTheLogs(@TempDir Path dir) throws IOException {
        assertThat(LocalCluster.read(dir)).isEmpty();
        new LocalCluster(List.of(node(0, 25520, ""))).write(dir);
        Files.writeString(dir.resolve("node-0.log"), "log");
        LocalCluster.delete(dir);
        assertThat(LocalCluster.read(dir)).isEmpty();
        assertThat(dir.resolve("node-0.log")).exists();
    }

    @Test
    void aDamagedFileIsReportedWithItsPath(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve(LocalCluster.FILE), "{\"nodes\": [");
        assertThatThrownBy(() -> LocalCluster.read(dir)).isInstanceOf(IOException.class)
                .hasMessageContaining(dir.resolve(LocalCluster.FILE).toString()).hasMessageContaining("stop its processes by hand");
    }

    @Test
    void withReplacesOneNodeAndKeepsTheOrder() {
        LocalCluster cluster = new LocalCluster(List.of(node(0, 25520, ""), node(1, 25521, "")));
        UpLine up = new UpLine("worker", "pekko://pipelab@127.0.0.1:25521", "127.0.0.1", 25521, 4, "dev");
        LocalCluster after = cluster.with(cluster.nodes().get(1).withUpLine(up));
        assertThat(after.nodes().get(0)).isEqualTo(cluster.nodes().get(0));
        assertThat(after.nodes().get(1).up()).contains(up);
    }

    @Test
    void rejectsAnEmptyClusterAndNodesOutOfOrder() {
        assertThatThrownBy(() -> new LocalCluster(List.of())).hasMessageContaining("at least one node");
        assertThatThrownBy(() -> new LocalCluster(List.of(node(1, 25521, ""))))
                .hasMessage("nodes[0].index: expected 0, got 1");
    }
}
