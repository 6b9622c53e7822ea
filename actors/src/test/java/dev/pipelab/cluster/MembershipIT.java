package dev.pipelab.cluster;

import dev.pipelab.pipeline.Emulator;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.AddressFromURIString;
import org.apache.pekko.cluster.ClusterEvent.CurrentClusterState;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The membership tuning of pipelab.conf on real processes: three workers and a coordinator in this JVM; {@code kill -9}
 * of the first worker (the first seed) makes it unreachable, then downed by the split-brain resolver and removed
 * within {@link #REMOVED_WITHIN}, while the two other workers and the coordinator stay Up. With Pekko's defaults
 * (stable-after 20 s) the removal takes 27-29 s, so this test fails if the tuning is lost. Invariant: every process
 * it starts is reaped, also when an assertion fails.
 */
class MembershipIT {

    /**
     * docs/cluster.md: unreachable after 6-7 s (heartbeat 1 s + acceptable pause 5 s + the detector's margin), downed
     * stable-after (5 s) and a leader action later, removed 1-2 s after that: 13-15 s (14.3 s measured at a load average
     * of 24 on 2 cores). 22 s leaves room for a loaded machine and still fails with Pekko's defaults (27-29 s).
     */
    private static final Duration REMOVED_WITHIN = Duration.ofSeconds(22);
    private static final Path OUT = Path.of("target", "membership-it").toAbsolutePath();

    private static final WorkerProcesses processes = new WorkerProcesses(OUT);
    private static final List<Process> killed = new ArrayList<>();
    private static Node coordinator;

    @AfterAll
    static void reap() throws InterruptedException {
        if (coordinator != null) coordinator.close();
        assertThat(processes.reap(killed)).as("worker logs in " + OUT).isEmpty();
    }

    @Test
    void aWorkerKilledWithSigkillIsRemovedWithinTheDocumentedTimeAndTheOthersStayUp() throws Exception {
        List<WorkerProcesses.Worker> workers = processes.startCluster(3);
        coordinator = Node.start(new Node.Options(Node.Role.COORDINATOR, Optional.empty(), "127.0.0.1", 0,
                List.of(workers.get(1).hostPort()), 1), Emulator.ACTORS);
        coordinator.awaitUp(Duration.ofSeconds(60));
        assertThat(coordinator.awaitWorkers(Duration.ofSeconds(60))).hasSize(3);
        Cluster cluster = Cluster.get(coordinator.system());
        WorkerProcesses.Worker victim = workers.get(0);
        Address gone = AddressFromURIString.parse(victim.address());

        killed.add(victim.process());
        long t0 = System.nanoTime();
        victim.process().destroyForcibly(); // SIGKILL: no leave, no goodbye; the others only stop hearing from it
        double unreachable = Double.NaN;
        double downed = Double.NaN;
        double removed = Double.NaN;
        long deadline = t0 + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            CurrentClusterState state = cluster.state();
            double now = (System.nanoTime() - t0) / 1e9;
            Optional<Member> m = StreamSupport.stream(state.getMembers().spliterator(), false)
                    .filter(x -> x.address().equals(gone)).findFirst();
            if (Double.isNaN(unreachable) && state.getUnreachable().stream().anyMatch(x -> x.address().equals(gone))) unreachable = now;
            if (Double.isNaN(downed) && m.map(x -> x.status() == MemberStatus.down()).orElse(false)) downed = now;
            if (m.isEmpty()) {
                removed = now;
                break;
            }
            Thread.sleep(100);
        }
        System.out.printf("MembershipIT: kill -9 of the first seed: unreachable after %.1f s, Down after %.1f s, removed after %.1f s%n",
                unreachable, downed, removed);
        assertThat(removed).as("seconds from kill -9 to removal (unreachable %.1f s, Down %.1f s)", unreachable, downed)
                .isLessThanOrEqualTo(REMOVED_WITHIN.toSeconds());
        // the majority of workers (2 of 3) kept going, and the transient coordinator with them
        List<String> up = StreamSupport.stream(cluster.state().getMembers().spliterator(), false)
                .filter(x -> x.status() == MemberStatus.up()).map(x -> x.address().toString()).toList();
        assertThat(up).contains(workers.get(1).address(), workers.get(2).address(), coordinator.address()).hasSize(3);
        assertThat(workers.get(1).process().isAlive()).isTrue();
        assertThat(workers.get(2).process().isAlive()).isTrue();
    }
}
