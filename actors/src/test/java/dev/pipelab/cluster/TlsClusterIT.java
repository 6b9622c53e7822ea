package dev.pipelab.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pipelab.cli.Main;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A TLS cluster made the way docs/cluster.md says: {@code cluster-config/make-keys.sh} makes a CA and the nodes' keys,
 * two {@code pipelab node} workers (real JVMs) run with {@code cluster-config/tls.conf}, and a coordinator's
 * {@code pipelab run} of the quickstart over TLS completes. Nodes that do not belong are refused, each with its one
 * line on both sides and within its join timeout: keys from another CA (with that CA's trust store, or with the
 * cluster's), and the right keys with another cluster name. Invariant: every process the test starts is reaped, also
 * when an assertion fails (SIGTERM, then SIGKILL).
 */
class TlsClusterIT {

    private static final Path OUT = Path.of("target", "tls-cluster-it").toAbsolutePath();
    private static final Path CONFIG = Path.of("..", "cluster-config").toAbsolutePath().normalize();
    private static final Path KEYS = OUT.resolve("keys");
    private static final Path OTHER_CA = OUT.resolve("other-ca");
    private static final int JOIN_TIMEOUT_SECONDS = 20;

    private static final List<Process> started = new ArrayList<>();
    private static int seedPort;
    private static final List<String> workers = new ArrayList<>();

    /** A started node: its process and the files its stdout and stderr go to. */
    private record NodeProcess(Process process, Path out, Path err) {
        String stdout() {
            return read(out);
        }

        String stderr() {
            return read(err);
        }

        private static String read(Path f) {
            try {
                return Files.exists(f) ? Files.readString(f, StandardCharsets.UTF_8) : "";
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        /** The line of stdout or stderr starting with {@code prefix}, waiting for it at most {@code seconds}. */
        Optional<String> awaitLine(String prefix, int seconds) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (true) {
                Optional<String> line = Stream.concat(stdout().lines(), stderr().lines()).filter(l -> l.startsWith(prefix)).findFirst();
                if (line.isPresent() || System.nanoTime() > deadline) return line;
                if (!process.isAlive()) {
                    // the process may have written its last line as it exited
                    return Stream.concat(stdout().lines(), stderr().lines()).filter(l -> l.startsWith(prefix)).findFirst();
                }
                Thread.sleep(100);
            }
        }
    }

    @BeforeAll
    static void startTheTlsCluster() throws Exception {
        Files.createDirectories(OUT);
        deleteTree(KEYS);
        deleteTree(OTHER_CA);
        // two CAs side by side: keytool starts a JVM per call
        Process cluster = makeKeys(KEYS, "node-0", "node-1", "coordinator", "node-2");
        Process other = makeKeys(OTHER_CA, "intruder");
        assertMadeKeys(cluster, KEYS, "node-0", "node-1", "coordinator", "node-2");
        assertMadeKeys(other, OTHER_CA, "intruder");

        seedPort = freePort();
        NodeProcess seed = startNode("node-0", KEYS.resolve("node-0.p12"), KEYS, seedPort, List.of());
        workers.add(awaitUp(seed));
        NodeProcess second = startNode("node-1", KEYS.resolve("node-1.p12"), KEYS, freePort(), List.of());
        workers.add(awaitUp(second));
        seedProcess = seed;
    }

    private static NodeProcess seedProcess;

    @AfterAll
    static void reap() throws InterruptedException {
        for (Process p : started) p.destroy();
        for (Process p : started) {
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private static Process makeKeys(Path dir, String... nodes) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("bash", CONFIG.resolve("make-keys.sh").toString(), dir.toString()));
        cmd.addAll(List.of(nodes));
        Process p = new ProcessBuilder(cmd).redirectError(OUT.resolve(dir.getFileName() + "-make-keys.err").toFile()).start();
        synchronized (started) {
            started.add(p);
        }
        return p;
    }

    private static void assertMadeKeys(Process p, Path dir, String... nodes) throws Exception {
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(300, TimeUnit.SECONDS)).as("make-keys.sh %s finished within 300 s", dir).isTrue();
        assertThat(p.exitValue()).as("make-keys.sh %s: %s", dir, out).isZero();
        assertThat(out.lines()).contains("make-keys: made " + dir.resolve("truststore.p12"));
        for (String n : nodes) assertThat(out.lines()).contains("make-keys: made " + dir.resolve(n + ".p12"));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }

    /**
     * {@code pipelab node --role worker --config cluster-config/tls.conf} on {@code port}, its keys in the environment
     * as docs/cluster.md says; the first seed is the seed itself.
     */
    private static NodeProcess startNode(String name, Path keyStore, Path trustDir, int port, List<String> extra) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "node", "--role", "worker", "--config", CONFIG.resolve("tls.conf").toString(),
                "--host", "127.0.0.1", "--port", String.valueOf(port), "--seeds", "127.0.0.1:" + (seedPort),
                "--slots", "4", "--join-timeout", String.valueOf(JOIN_TIMEOUT_SECONDS)));
        cmd.addAll(extra);
        Path out = OUT.resolve(name + ".out");
        Path err = OUT.resolve(name + ".err");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
        Map<String, String> env = pb.environment();
        env.put("PIPELAB_TLS_KEYSTORE", keyStore.toString());
        env.put("PIPELAB_TLS_TRUSTSTORE", trustDir.resolve("truststore.p12").toString());
        Process p = pb.start();
        p.getOutputStream().close();
        synchronized (started) {
            started.add(p);
        }
        return new NodeProcess(p, out, err);
    }

    /** The node's address, once it printed its up line. */
    private static String awaitUp(NodeProcess n) throws InterruptedException {
        Optional<String> up = n.awaitLine(UpLine.PREFIX, 120);
        assertThat(up).as("up line; stderr:\n%s", n.stderr()).isPresent();
        return UpLine.parse(up.get()).orElseThrow().address();
    }

    @Test
    void aCoordinatorRunsTheQuickstartOnTheTlsWorkers() throws IOException {
        // the coordinator's keys by file rather than environment: the run is in this JVM
        Path conf = OUT.resolve("coordinator.conf");
        Files.writeString(conf, "include file(\"" + CONFIG.resolve("tls.conf") + "\")\n"
                + "pekko.remote.artery.ssl.config-ssl-engine.key-store = \"" + KEYS.resolve("coordinator.p12") + "\"\n"
                + "pekko.remote.artery.ssl.config-ssl-engine.trust-store = \"" + KEYS.resolve("truststore.p12") + "\"\n"
                + "pekko.cluster.seed-nodes = [\"pekko://pipelab@127.0.0.1:" + seedPort + "\"]\n");
        Path out = OUT.resolve("run");
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        int code = Main.execute(new PrintWriter(o), new PrintWriter(e), "run", Path.of("..", "scenarios", "quickstart.yaml").toString(),
                "--cluster", conf.toString(), "--steps", "2", "--no-dashboard", "--quiet", "--out", out.toString());
        assertThat(code).as("stdout: %s\nstderr: %s", o, e).isZero();
        JsonNode report = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        Set<String> nodes = new HashSet<>();
        report.path("placement").forEach(p -> nodes.add(p.path("node").asText()));
        assertThat(nodes).isNotEmpty().isSubsetOf(workers);
    }

    @Test
    void nodesThatDoNotBelongAreRefusedAndBothSidesSaySo() throws Exception {
        // keys and trust store of another CA: this node refuses the seed's certificate
        int alienPort = freePort();
        NodeProcess alien = startNode("alien", OTHER_CA.resolve("intruder.p12"), OTHER_CA, alienPort, List.of());
        // its own key from another CA, but the cluster's (public) CA certificate: the seed refuses this node's certificate
        int intruderPort = freePort();
        NodeProcess intruder = startNode("intruder", OTHER_CA.resolve("intruder.p12"), KEYS, intruderPort, List.of());
        // the cluster's keys, another cluster name: refused by the Compatibility check, over TLS
        int strangerPort = freePort();
        NodeProcess stranger = startNode("stranger", KEYS.resolve("node-2.p12"), KEYS, strangerPort, List.of("--cluster-name", "other"));

        String seed = "pekko://pipelab@127.0.0.1:" + seedPort;
        for (NodeProcess n : List.of(alien, intruder, stranger)) {
            // JVM start on a busy machine, then at most the join timeout, then leaving
            assertThat(n.process().waitFor(JOIN_TIMEOUT_SECONDS + 120, TimeUnit.SECONDS)).as("exited; stderr %s", n.err()).isTrue();
            assertThat(n.process().exitValue()).as("exit code; stderr %s", n.err()).isEqualTo(1);
            assertThat(n.stdout().lines().filter(l -> l.startsWith(UpLine.PREFIX))).as("never Up").isEmpty();
        }
        assertThat(alien.awaitLine("pipelab node: ", 0)).hasValueSatisfying(l -> assertThat(l)
                .startsWith("pipelab node: node pekko://pipelab@127.0.0.1:" + alienPort + " did not become Up within "
                        + JOIN_TIMEOUT_SECONDS + " s: TLS handshake with 127.0.0.1:" + seedPort + " failed: its certificate "
                        + "[CN=node-0,O=pipelab] issued by [CN=pipelab cluster CA]: not signed by a CA in this node's trust store (")
                .endsWith("): are this node's trust store and the cluster's from the same CA (make-keys.sh)?"));
        assertThat(intruder.awaitLine("pipelab node: ", 0)).hasValueSatisfying(l -> assertThat(l)
                .startsWith("pipelab node: node pekko://pipelab@127.0.0.1:" + intruderPort + " did not become Up within "
                        + JOIN_TIMEOUT_SECONDS + " s: TLS handshake with the seed " + seed + " ")
                .endsWith(": is this node's certificate signed by the cluster's CA?"));
        assertThat(stranger.awaitLine("pipelab node: ", 0)).hasValue("pipelab node: refused by the cluster at " + seed
                + ": its cluster name or pipelab version differs from this node's (cluster name other, pipelab version "
                + Compatibility.jarVersion() + "); the seed's log says which");

        // the seed: one line per refused node (the alien never shows its certificate: it hangs up first)
        List<String> said = seedProcess.stderr().lines().filter(l -> l.startsWith("pipelab node: refused")).toList();
        assertThat(said).hasSize(2).contains(
                "pipelab node: refused pekko://pipelab@127.0.0.1:" + strangerPort + ": cluster name other differs from this cluster's pipelab");
        assertThat(said).anySatisfy(l -> assertThat(l).startsWith("pipelab node: refused a TLS peer with certificate "
                + "[CN=intruder,O=pipelab] issued by [CN=pipelab cluster CA]: not signed by this cluster's CA (PKIX path "));
        assertThat(seedProcess.process().isAlive()).isTrue();
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.sorted((a, b) -> b.compareTo(a)).toList()) Files.delete(f);
        }
    }
}
