package dev.pipelab.cli;

import dev.pipelab.cluster.LocalCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code pipelab cluster} without starting a node: flags, and what it says about a recorded cluster. */
class ClusterCommandTest {

    @RegisterExtension
    final TempHome home = new TempHome();

    Path dir() {
        return home.clusterDirectory();
    }

    @Test
    void badFlagsAreAUsersMistakeAndStartNothing() {
        for (List<String> args : List.<List<String>>of(List.of("--nodes", "0"), List.of("--nodes", "65"), List.of("--nodes", "2", "--slots", "0"),
                List.of("--nodes", "2", "--base-port", "80"), List.of("--nodes", "3", "--base-port", "65534"),
                List.of("--nodes", "2", "--timeout", "0"), List.of())) {
            String[] full = Stream.concat(Stream.of("cluster", "up"), args.stream()).toArray(String[]::new);
            CliTest.Result r = CliTest.run(full);
            assertThat(r.code()).as(String.join(" ", args) + ": " + r.err()).isEqualTo(2);
            assertThat(r.err()).as(String.join(" ", args)).startsWith("pipelab: ").doesNotContain("Exception");
            assertThat(dir().resolve(LocalCluster.FILE)).doesNotExist();
        }
        assertThat(CliTest.run("cluster", "up", "--nodes", "2", "--slots", "0").err())
                .contains("--slots must be >= 1, got 0");
        assertThat(CliTest.run("cluster", "up", "--nodes", "3", "--base-port", "65534").err())
                .contains("--base-port must leave ports P..P+2 in 1024..65535, got 65534");
    }

    @Test
    void statusWithNothingRecordedSaysSoAndExits2() {
        CliTest.Result r = CliTest.run("cluster", "status");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("no cluster is up", dir().toString(), "pipelab cluster up --nodes N");
    }

    @Test
    void downWithNothingRecordedSaysSoAndExits0() {
        CliTest.Result r = CliTest.run("cluster", "down");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("no cluster is up", "nothing to stop");
    }

    @Test
    void upWhileARecordedProcessLivesIsRefusedAndChangesNothing() throws IOException {
        // this test's own JVM stands in for a live node: it is alive and is the process the state names
        ProcessHandle self = ProcessHandle.current();
        long start = self.info().startInstant().orElseThrow().toEpochMilli();
        LocalCluster alive = new LocalCluster(List.of(new LocalCluster.Node(0, "worker", "127.0.0.1", 25520, self.pid(), start,
                dir().resolve("node-0.log").toString(), "")));
        alive.write(dir());
        try {
            CliTest.Result r = CliTest.run("cluster", "up", "--nodes", "2");
            assertThat(r.code()).isEqualTo(2);
            assertThat(r.err()).contains("a cluster is already up (1 of 1 recorded nodes alive, seed 127.0.0.1:25520",
                    "pipelab cluster down");
            assertThat(LocalCluster.read(dir())).contains(alive);
        } finally {
            LocalCluster.delete(dir());   // never let a later 'down' aim at this JVM
        }
    }

    @Test
    void deadRecordedProcessesAreSaidSoByStatusAndClearedByDown() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        long start = gone.info().startInstant().map(t -> t.toEpochMilli()).orElse(0L);
        new LocalCluster(List.of(new LocalCluster.Node(0, "worker", "127.0.0.1", 25520, gone.pid(), start,
                dir().resolve("node-0.log").toString(), ""))).write(dir());

        CliTest.Result status = CliTest.run("cluster", "status");
        assertThat(status.code()).isEqualTo(2);
        assertThat(status.err()).contains("all 1 recorded processes have exited", "'pipelab cluster down' clears the state");

        CliTest.Result down = CliTest.run("cluster", "down");
        assertThat(down.code()).as(down.err()).isZero();
        assertThat(down.out()).contains("stopped 0 node(s), 1 had already exited");
        assertThat(LocalCluster.read(dir())).isEmpty();
    }

    @Test
    void downKillsANodeThatIgnoresSigtermAndSaysSo() throws Exception {
        // SIG_IGN survives exec: this 'sleep' ignores SIGTERM, as a node stuck in its shutdown would
        Process stuck = new ProcessBuilder("sh", "-c", "trap '' TERM; exec sleep 60").start();
        try {
            Thread.sleep(300);   // let the shell set the trap and exec
            long start = stuck.info().startInstant().orElseThrow().toEpochMilli();
            new LocalCluster(List.of(new LocalCluster.Node(0, "worker", "127.0.0.1", 25520, stuck.pid(), start,
                    dir().resolve("node-0.log").toString(), ""))).write(dir());

            CliTest.Result down = CliTest.run("cluster", "down", "--timeout", "0.5");
            assertThat(down.code()).as(down.err()).isZero();
            assertThat(down.err()).contains("node 0 (pid " + stuck.pid() + ") did not stop within 0.5 s of SIGTERM; killing it (SIGKILL)");
            assertThat(down.out()).contains("stopped 1 node(s) (1 killed with SIGKILL)");
            assertThat(stuck.isAlive()).isFalse();
            assertThat(LocalCluster.read(dir())).isEmpty();
        } finally {
            stuck.destroyForcibly();
        }
    }
}
