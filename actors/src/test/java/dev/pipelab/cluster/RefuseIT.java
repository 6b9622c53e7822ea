package dev.pipelab.cluster;

import dev.pipelab.cli.Main;
import dev.pipelab.pipeline.Emulator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A seed node and nodes that ask to join it, as ActorSystems in this JVM (the check is the same as between
 * processes: Pekko sends the keys over Artery): a node of another cluster name or pipelab version is refused, and
 * both sides say so in one line, the joining node at once rather than at its join timeout; a node of the same name
 * and version gets in. Invariant: every node a test starts is closed after it, the seed after the class.
 */
class RefuseIT {

    private static final Duration JOIN = Duration.ofSeconds(60);
    private static final Path OUT = Path.of("target", "refuse-it").toAbsolutePath();

    private static final List<String> seedSaid = new CopyOnWriteArrayList<>();
    private static Node seed;
    private static String seedHostPort;
    private final List<Node> joiners = new ArrayList<>();

    @BeforeAll
    static void startSeed() throws IOException {
        Files.createDirectories(OUT);
        seed = Node.start(new Node.Options(Node.Role.WORKER, Optional.empty(), "127.0.0.1", 0, List.of(), 2),
                Emulator.ACTORS, seedSaid::add);
        seed.awaitUp(JOIN);
        seedHostPort = seed.address().substring(seed.address().indexOf('@') + 1);
    }

    @AfterAll
    static void stopSeed() {
        if (seed != null) seed.close();
    }

    @AfterEach
    void stopJoiners() {
        joiners.forEach(Node::close);
    }

    private Node join(Optional<Path> config, Optional<String> clusterName) {
        Node n = Node.start(new Node.Options(Node.Role.COORDINATOR, config, "127.0.0.1", 0, List.of(seedHostPort), 1, clusterName, java.util.OptionalInt.empty()),
                Emulator.ACTORS, line -> {});
        joiners.add(n);
        return n;
    }

    private static Path file(String name, String hocon) throws IOException {
        Path f = OUT.resolve(name);
        Files.writeString(f, hocon);
        return f;
    }

    /** Waits (bounded) for the seed's line about {@code joiner}; the refusal reaches the seed before the joiner's end. */
    private static void assertSeedSaid(String line) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!seedSaid.contains(line) && System.nanoTime() < deadline) Thread.sleep(50);
        assertThat(seedSaid).contains(line);
    }

    @Test
    void aNodeOfAnotherClusterNameIsRefusedAndBothSidesSaySo() throws InterruptedException {
        Node other = join(Optional.empty(), Optional.of("other"));
        // the refusal ends the wait long before the join timeout: the message is the refusal, not "not Up after"
        assertThatThrownBy(() -> other.awaitUp(JOIN)).hasMessage("refused by the cluster at pekko://pipelab@" + seedHostPort
                + ": its cluster name or pipelab version differs from this node's (cluster name other, pipelab version "
                + Compatibility.jarVersion() + "); the seed's log says which");
        assertSeedSaid("refused " + other.address() + ": cluster name other differs from this cluster's pipelab");
    }

    @Test
    void aNodeOfAnotherVersionIsRefusedAndBothSidesSaySo() throws Exception {
        Node old = join(Optional.of(file("old.conf", "pipelab.version = \"0.0.9\"\n")), Optional.empty());
        assertThatThrownBy(() -> old.awaitUp(JOIN)).hasMessageStartingWith("refused by the cluster at pekko://pipelab@" + seedHostPort)
                .hasMessageContaining("(cluster name pipelab, pipelab version 0.0.9)");
        assertSeedSaid("refused " + old.address() + ": pipelab version 0.0.9 differs from this cluster's " + Compatibility.jarVersion());
    }

    @Test
    void aNodeOfTheSameNameAndVersionGetsIn() {
        Node same = join(Optional.empty(), Optional.of("pipelab"));
        same.awaitUp(JOIN);
        assertThat(seedSaid).noneMatch(l -> l.contains(same.address()));
    }

    @Test
    void aRunWhoseClusterFileNamesAnotherClusterFailsWithTheRefusal() throws IOException {
        Path conf = file("other-cluster.conf", "pipelab.cluster.name = elsewhere\n"
                + "pekko.cluster.seed-nodes = [\"pekko://pipelab@" + seedHostPort + "\"]\n");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.execute(new PrintWriter(out), new PrintWriter(err), "run", Path.of("..", "scenarios", "quickstart.yaml").toString(),
                "--cluster", conf.toString(), "--steps", "1", "--no-dashboard", "--quiet", "--out", OUT.resolve("run").toString());
        assertThat(code).as(err.toString()).isEqualTo(2);
        assertThat(err.toString().lines().filter(l -> l.startsWith("pipelab: ")).toList()).containsExactly("pipelab: --cluster "
                + conf + ": refused by the cluster at pekko://pipelab@" + seedHostPort + ": its cluster name or pipelab version "
                + "differs from this node's (cluster name elsewhere, pipelab version " + Compatibility.jarVersion()
                + "); the seed's log says which");
        assertThat(err.toString()).doesNotContain("Exception");
    }
}
