package dev.pipelab.cli;

import com.typesafe.config.ConfigFactory;
import dev.pipelab.cluster.LocalCluster;
import dev.pipelab.cluster.Membership;
import dev.pipelab.cluster.Node;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real local test cluster: {@code up --nodes 2} starts two {@code pipelab node} JVMs, {@code status} reads their
 * membership from the cluster, a second {@code up} is refused, {@code down} stops them. Invariant: no process this
 * test started outlives it, also when an assertion fails (the finally block kills what is still recorded).
 */
class ClusterCommandIT {

    @RegisterExtension
    final TempHome home = new TempHome();

    @Test
    void upStatusRefusedUpDownLeavesNoProcess() throws Exception {
        Path dir = home.clusterDirectory();
        List<ProcessHandle> started = new ArrayList<>();
        try {
            CliTest.Result up = CliTest.run("cluster", "up", "--nodes", "2", "--slots", "2");
            LocalCluster.read(dir).ifPresent(c -> c.nodes().forEach(n -> ProcessHandle.of(n.pid()).ifPresent(started::add)));
            assertThat(up.code()).as(up.out() + up.err()).isZero();
            LocalCluster cluster = LocalCluster.read(dir).orElseThrow();
            assertThat(cluster.nodes()).hasSize(2);
            assertThat(started).hasSize(2).allMatch(ProcessHandle::isAlive);
            assertThat(nodeChildren()).as("the helper the timeout test relies on sees the nodes").hasSize(2);
            for (LocalCluster.Node n : cluster.nodes()) {
                assertThat(n.up()).as("node " + n.index() + " Up").isPresent();
                assertThat(n.up().orElseThrow().slots()).isEqualTo(2);
                assertThat(up.out()).contains("pekko://pipelab@127.0.0.1:" + n.port() + "  worker  2");
            }
            assertThat(up.out()).contains("pipelab cluster: 2 nodes Up after",
                    "pipelab run SCENARIO --cluster " + cluster.seed().hostPort());

            CliTest.Result status = CliTest.run("cluster", "status");
            assertThat(status.code()).as(status.out() + status.err()).isZero();
            for (LocalCluster.Node n : cluster.nodes()) {
                assertThat(status.out()).containsPattern("(?m)^" + n.index() + " +pekko://pipelab@127\\.0\\.0\\.1:" + n.port()
                        + " +\\S*worker\\S* +Up +yes +2 +\\S+ +\\d+m\\d\\ds +" + n.pid() + "$");
            }
            assertThat(status.out()).doesNotContain("observer", "dead");
            // status read the seed's operations endpoint; an observer that joins (status's fallback) sees the same
            assertThat(cluster.management()).startsWith("http://127.0.0.1:");
            assertThat(up.out()).contains("management:     " + cluster.management() + "/cluster/members");
            List<Membership.MemberView> overHttp = Membership.readOver(cluster.management(), Duration.ofSeconds(5)).orElseThrow();
            assertThat(overHttp).hasSize(2).allMatch(m -> m.status().equals("Up") && m.reachable());
            assertThat(Membership.read(Node.SYSTEM_NAME, List.of("pekko://" + Node.SYSTEM_NAME + "@" + cluster.seed().hostPort()),
                    Node.withDefaults(ConfigFactory.empty()), Duration.ofSeconds(30))).isEqualTo(overHttp);

            CliTest.Result again = CliTest.run("cluster", "up", "--nodes", "2");
            assertThat(again.code()).isEqualTo(2);
            assertThat(again.err()).contains("a cluster is already up (2 of 2 recorded nodes alive");
            assertThat(LocalCluster.read(dir)).contains(cluster);

            CliTest.Result down = CliTest.run("cluster", "down");
            assertThat(down.code()).as(down.out() + down.err()).isZero();
            assertThat(down.out()).contains("stopped 2 node(s); logs stay in");
            assertThat(down.err()).doesNotContain("SIGKILL");
            assertThat(started).noneMatch(ProcessHandle::isAlive);
            assertThat(nodeChildren()).isEmpty();
            assertThat(LocalCluster.read(dir)).isEmpty();

            assertThat(CliTest.run("cluster", "status").code()).isEqualTo(2);
        } finally {
            Optional<LocalCluster> left = LocalCluster.read(dir);
            left.ifPresent(c -> c.nodes().forEach(n -> ProcessHandle.of(n.pid()).ifPresent(started::add)));
            started.addAll(nodeChildren());
            for (ProcessHandle p : started) p.destroyForcibly();
            for (ProcessHandle p : started) p.onExit().get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aNodeNotUpInTimeIsNamedWithItsLogAndEverythingUpStartedIsStopped() throws Exception {
        Path dir = home.clusterDirectory();
        // no JVM starts Pekko and joins a cluster within 0.2 s: the timeout is certain to strike
        try {
            CliTest.Result up = CliTest.run("cluster", "up", "--nodes", "2", "--timeout", "0.2");
            assertThat(up.code()).as(up.out() + up.err()).isEqualTo(1);
            assertThat(up.err()).containsPattern("node 0 \\(pid \\d+, port \\d+\\) was not Up after")
                    .contains("see its log " + dir.resolve("node-0.log"), "stopping the 2 node(s) this 'up' started");
            assertThat(nodeChildren()).isEmpty();
            assertThat(LocalCluster.read(dir)).isEmpty();
        } finally {
            for (ProcessHandle p : nodeChildren()) p.destroyForcibly();
        }
    }

    /**
     * This JVM's {@code java} child processes: in the test JVM only an in-process {@code up} starts any. (Their
     * arguments cannot tell: ProcessHandle.Info reported none for them under failsafe's long class path.)
     */
    private static List<ProcessHandle> nodeChildren() {
        return ProcessHandle.current().children()
                .filter(p -> p.info().command().map(c -> Path.of(c).getFileName().toString().equals("java")).orElse(false))
                .toList();
    }
}
