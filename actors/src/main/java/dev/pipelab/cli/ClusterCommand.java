package dev.pipelab.cli;

import dev.pipelab.cluster.Compatibility;
import dev.pipelab.cluster.LocalCluster;
import dev.pipelab.cluster.Membership;
import dev.pipelab.cluster.Node;
import dev.pipelab.cluster.UpLine;
import dev.pipelab.pipeline.Emulator;
import com.typesafe.config.ConfigFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.math.BigDecimal;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * {@code pipelab cluster up|status|down}: a local test cluster of real {@code pipelab node} processes on 127.0.0.1,
 * recorded under {@code .pipelab/cluster/} of the project home. Invariant: every process {@code up} starts is in
 * the state file before {@code up} waits for it, and {@code down} stops every recorded process that is still the
 * one recorded (same pid and start time), so no node outlives {@code down}.
 */
@Command(name = "cluster", mixinStandardHelpOptions = true,
        description = "A local test cluster of real JVMs: up, status, down.",
        subcommands = {ClusterCommand.Up.class, ClusterCommand.Status.class, ClusterCommand.Down.class})
final class ClusterCommand implements Runnable {

    /** The ActorSystem name every node uses (a node of another name is another cluster). */
    static final String SYSTEM = Emulator.SYSTEM_NAME;
    static final String HOST = "127.0.0.1";

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** {@code .pipelab/cluster} under the project home the launcher names ({@code pipelab.home}), else the cwd. */
    static Path directory() {
        return Path.of(System.getProperty("pipelab.home", "")).toAbsolutePath().resolve(".pipelab").resolve("cluster");
    }

    static Optional<LocalCluster> recorded(Path dir) {
        try {
            return LocalCluster.read(dir);
        } catch (IOException e) {
            throw new UserException(e.getMessage());
        }
    }

    /** The live process of {@code node}, empty when it has exited or its pid now belongs to another process. */
    static Optional<ProcessHandle> live(LocalCluster.Node node) {
        return ProcessHandle.of(node.pid()).filter(ProcessHandle::isAlive).filter(h -> h.info().startInstant()
                // the kernel counts start times in clock ticks: allow a second between two readings
                .map(t -> Math.abs(t.toEpochMilli() - node.processStartEpochMillis()) < 1000).orElse(true));
    }

    static String address(LocalCluster.Node n) {
        return "pekko://" + SYSTEM + "@" + n.hostPort();
    }

    @Command(name = "up", mixinStandardHelpOptions = true,
            description = "Start N worker nodes on 127.0.0.1, wait until all are Up, print them and the --cluster value.")
    static final class Up implements Callable<Integer> {

        static final int MAX_NODES = 64;

        @Option(names = "--nodes", required = true, paramLabel = "N", description = "Worker processes to start (1.." + MAX_NODES + ").")
        int nodes;

        @Option(names = "--slots", paramLabel = "K", description = "Slots per worker (default: the node's own default).")
        Integer slots;

        @Option(names = "--base-port", paramLabel = "P", description = "Ports P, P+1, ... (default: free ports the kernel picks).")
        Integer basePort;

        @Option(names = "--cluster-name", paramLabel = "NAME", defaultValue = Compatibility.DEFAULT_NAME,
                description = "The cluster's name, given to every node: nodes of other names are refused "
                        + "(default ${DEFAULT-VALUE}).")
        String clusterName = Compatibility.DEFAULT_NAME;   // also when built without picocli (ClusterBench)

        @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "90",
                description = "How long to wait for all nodes to be Up (default ${DEFAULT-VALUE}).")
        double timeoutSeconds;

        @Spec
        CommandSpec spec;

        /** Checks the flags; the messages name the flag, what it needs and what came. */
        void validate() {
            if (nodes < 1 || nodes > MAX_NODES) throw new UserException("--nodes must be in 1.." + MAX_NODES + ", got " + nodes);
            if (slots != null && slots < 1) throw new UserException("--slots must be >= 1, got " + slots);
            if (basePort != null && (basePort < 1024 || basePort + nodes - 1 > 65535)) {
                throw new UserException("--base-port must leave ports " + "P..P+" + (nodes - 1) + " in 1024..65535, got " + basePort);
            }
            if (!(timeoutSeconds > 0)) throw new UserException("--timeout must be > 0, got " + timeoutSeconds);
            if (clusterName.isBlank()) throw new UserException("--cluster-name must not be blank");
        }

        @Override
        public Integer call() throws IOException {
            validate();
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            Path dir = directory();
            Optional<LocalCluster> old = recorded(dir);
            if (old.isPresent()) {
                List<LocalCluster.Node> alive = old.get().nodes().stream().filter(n -> live(n).isPresent()).toList();
                if (!alive.isEmpty()) {
                    throw new UserException("a cluster is already up (" + alive.size() + " of " + old.get().nodes().size()
                            + " recorded nodes alive, seed " + old.get().seed().hostPort() + ", state in " + dir
                            + "); 'pipelab cluster status' shows it, 'pipelab cluster down' stops it");
                }
                err.println("pipelab cluster: the recorded cluster's processes have all exited; starting a new one");
                LocalCluster.delete(dir);
            }
            List<Integer> ports = ports();
            // the seed serves the operations endpoint: 'status' reads the membership there instead of joining
            int managementPort = freePort();
            managementPorts.put(0, managementPort);
            String management = "http://" + HOST + ":" + managementPort;
            Files.createDirectories(dir);
            long started = System.nanoTime();
            LocalCluster cluster;
            List<LocalCluster.Node> launched = new ArrayList<>();
            try {
                for (int i = 0; i < nodes; i++) {
                    launched.add(launch(dir, i, ports));
                    // recorded before waiting: an interrupted 'up' leaves nothing that 'down' cannot find
                    new LocalCluster(launched, clusterName, management).write(dir);
                }
                cluster = awaitUp(new LocalCluster(launched, clusterName, management), dir, Duration.ofMillis((long) (timeoutSeconds * 1000)));
            } catch (NotUp e) {
                err.println("pipelab cluster: " + e.getMessage());
                err.println("pipelab cluster: stopping the " + launched.size() + " node(s) this 'up' started");
                Stopper.stop(launched, Duration.ofSeconds(10), err);
                LocalCluster.delete(dir);
                return 1;
            } catch (RuntimeException | IOException e) {
                Stopper.stop(launched, Duration.ofSeconds(10), err);
                LocalCluster.delete(dir);
                throw e;
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            out.printf(Locale.ROOT, "pipelab cluster: %d node%s Up after %.1f s%n", nodes, nodes == 1 ? "" : "s", seconds);
            Table table = new Table("node", "address", "role", "slots", "version", "pid");
            for (LocalCluster.Node n : cluster.nodes()) {
                UpLine up = n.up().orElseThrow();
                table.row(String.valueOf(n.index()), up.address(), up.role(), String.valueOf(up.slots()), up.version(),
                        String.valueOf(n.pid()));
            }
            table.print(out);
            out.println("logs and state: " + dir);
            // the nodes refuse a coordinator of another name: the run needs this one
            out.println("run on it:      pipelab run SCENARIO --cluster " + cluster.seed().hostPort()
                    + (clusterName.equals(Compatibility.DEFAULT_NAME) ? "" : " --cluster-name " + clusterName));
            out.println("management:     " + management + "/cluster/members  (the seed's, read-only)");
            out.println("stop it:        pipelab cluster down");
            return 0;
        }

        /** Ports of the operations endpoints this 'up' gives, by node index (the seed's only). */
        private final Map<Integer, Integer> managementPorts = new HashMap<>();

        private static int freePort() throws IOException {
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
                return s.getLocalPort();
            }
        }

        List<Integer> ports() throws IOException {
            List<Integer> ports = new ArrayList<>();
            if (basePort != null) {
                for (int i = 0; i < nodes; i++) {
                    int port = basePort + i;
                    if (!free(port)) throw new UserException("--base-port: port " + port + " on " + HOST + " is in use");
                    ports.add(port);
                }
                return ports;
            }
            // hold every socket until all are picked, so that the kernel hands out N distinct ports
            List<ServerSocket> held = new ArrayList<>();
            try {
                for (int i = 0; i < nodes; i++) {
                    ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(HOST));
                    held.add(s);
                    ports.add(s.getLocalPort());
                }
            } finally {
                for (ServerSocket s : held) s.close();
            }
            return ports;
        }

        private static boolean free(int port) {
            try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getByName(HOST))) {
                return true;
            } catch (IOException e) {
                return false;
            }
        }

        LocalCluster.Node launch(Path dir, int index, List<Integer> ports) throws IOException {
            Path log = dir.resolve("node-" + index + ".log");
            Files.deleteIfExists(log);
            List<String> cmd = new ArrayList<>(javaCommand());
            cmd.addAll(List.of("node", "--role", "worker", "--host", HOST, "--port", String.valueOf(ports.get(index))));
            if (index > 0) cmd.addAll(List.of("--seeds", HOST + ":" + ports.get(0)));
            if (slots != null) cmd.addAll(List.of("--slots", String.valueOf(slots)));
            cmd.addAll(List.of("--cluster-name", clusterName));
            Integer management = managementPorts.get(index);
            if (management != null) cmd.addAll(List.of("--management", String.valueOf(management)));
            Process p;
            try {
                p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            } catch (IOException e) {
                throw new NotUp("could not start node " + index + ": " + e.getMessage());
            }
            p.getOutputStream().close();   // the node reads no input: give it end-of-file, not a pipe left open
            long start = p.toHandle().info().startInstant().map(t -> t.toEpochMilli()).orElse(System.currentTimeMillis());
            return new LocalCluster.Node(index, "worker", HOST, ports.get(index), p.pid(), start, log.toString(), "");
        }

        /**
         * {@code java} of this JVM, its GC and heap options (the launcher's {@code -XX:+UseParallelGC} among them),
         * {@code pipelab.home}, and this JVM's class path (the running jar, or the classes under test).
         */
        static List<String> javaCommand() {
            List<String> cmd = new ArrayList<>();
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
                if (arg.startsWith("-XX:") || arg.startsWith("-Xmx") || arg.startsWith("-Xms") || arg.startsWith("-Xss")) cmd.add(arg);
            }
            String home = System.getProperty("pipelab.home");
            if (home != null) cmd.add("-Dpipelab.home=" + home);
            cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
            return cmd;
        }

        static LocalCluster awaitUp(LocalCluster cluster, Path dir, Duration timeout) throws IOException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                boolean all = true;
                for (LocalCluster.Node n : cluster.nodes()) {
                    if (n.up().isPresent()) continue;
                    Optional<UpLine> up = upLine(Path.of(n.log()));
                    if (up.isPresent()) {
                        cluster = cluster.with(n.withUpLine(up.get()));
                        cluster.write(dir);
                        continue;
                    }
                    all = false;
                    if (live(n).isEmpty()) {
                        throw new NotUp("node " + n.index() + " (pid " + n.pid() + ", port " + n.port()
                                + ") exited before it was Up; its log " + n.log() + " ends with:" + tail(Path.of(n.log())));
                    }
                    if (System.nanoTime() > deadline) {
                        throw new NotUp("node " + n.index() + " (pid " + n.pid() + ", port " + n.port() + ") was not Up after "
                                + seconds(timeout) + " s; see its log " + n.log() + ", which ends with:" + tail(Path.of(n.log())));
                    }
                }
                if (all) return cluster;
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new NotUp("interrupted while waiting for the nodes to be Up");
                }
            }
        }

        static Optional<UpLine> upLine(Path log) throws IOException {
            if (!Files.exists(log)) return Optional.empty();
            return new String(Files.readAllBytes(log), StandardCharsets.UTF_8).lines()
                    .filter(l -> l.startsWith(UpLine.PREFIX)).findFirst().flatMap(UpLine::parse);
        }

        private static String tail(Path log) {
            try {
                List<String> lines = Files.exists(log)
                        ? new String(Files.readAllBytes(log), StandardCharsets.UTF_8).lines().toList() : List.of();
                if (lines.isEmpty()) return " (nothing)";
                return lines.subList(Math.max(0, lines.size() - 10), lines.size()).stream()
                        .map(l -> "\n    " + l).collect(Collectors.joining());
            } catch (IOException e) {
                return " (unreadable: " + e.getMessage() + ")";
            }
        }

        /** A node that did not come up: the message names it and its log. */
        private static final class NotUp extends RuntimeException {
            NotUp(String message) {
                super(message);
            }
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Each member as the cluster sees it: address, roles, status, reachability, slots, version, "
                    + "uptime. Exit 2 when no cluster is up.")
    static final class Status implements Callable<Integer> {

        @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "20",
                description = "How long to try joining the cluster to read its membership (default ${DEFAULT-VALUE}).")
        double timeoutSeconds;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            if (!(timeoutSeconds > 0)) throw new UserException("--timeout must be > 0, got " + timeoutSeconds);
            PrintWriter out = spec.commandLine().getOut();
            Path dir = directory();
            LocalCluster cluster = recorded(dir).orElseThrow(() -> new UserException(
                    "no cluster is up (nothing recorded in " + dir + "); 'pipelab cluster up --nodes N' starts one"));
            Map<Integer, ProcessHandle> alive = new HashMap<>();
            for (LocalCluster.Node n : cluster.nodes()) live(n).ifPresent(h -> alive.put(n.index(), h));
            if (alive.isEmpty()) {
                throw new UserException("no cluster is up: all " + cluster.nodes().size() + " recorded processes have exited"
                        + " (their logs are in " + dir + "); 'pipelab cluster down' clears the state");
            }
            List<String> seeds = cluster.nodes().stream().filter(n -> alive.containsKey(n.index()))
                    .map(ClusterCommand::address).toList();
            // the seed's operations endpoint answers in milliseconds; when it does not (the seed is gone, or an older
            // 'up' gave none), an observer joins as a member of this cluster's name and this jar's version
            boolean seedAlive = alive.containsKey(0);
            List<Membership.MemberView> members = (seedAlive && !cluster.management().isEmpty()
                    ? Membership.readOver(cluster.management(), Duration.ofSeconds(3)) : Optional.<List<Membership.MemberView>>empty())
                    .orElseGet(() -> Membership.read(SYSTEM, seeds,
                            Node.withDefaults(ConfigFactory.parseMap(Map.of(Compatibility.NAME, cluster.clusterName()))),
                            Duration.ofMillis((long) (timeoutSeconds * 1000))));
            Map<String, Membership.MemberView> byAddress = new HashMap<>();
            for (Membership.MemberView m : members) byAddress.put(m.address(), m);

            Table table = new Table("node", "address", "roles", "status", "reachable", "slots", "version", "uptime", "pid");
            for (LocalCluster.Node n : cluster.nodes()) {
                Optional<Membership.MemberView> m = Optional.ofNullable(byAddress.remove(address(n)));
                Optional<UpLine> up = n.up();
                boolean running = alive.containsKey(n.index());
                String status = !running ? "dead (process exited)"
                        : m.map(Membership.MemberView::status).orElse(members.isEmpty() ? "unknown" : "not a member");
                table.row(String.valueOf(n.index()), address(n), m.map(v -> String.join(",", v.roles())).orElse(n.role()),
                        status, m.map(v -> v.reachable() ? "yes" : "NO").orElse("-"),
                        up.map(u -> String.valueOf(u.slots())).orElse("-"), up.map(UpLine::version).orElse("-"),
                        running ? uptime(n) : "-", String.valueOf(n.pid()));
            }
            // members the cluster knows but 'up' did not start (a coordinator of a run, another observer)
            for (Membership.MemberView m : byAddress.values()) {
                table.row("-", m.address(), String.join(",", m.roles()), m.status(), m.reachable() ? "yes" : "NO",
                        "-", "-", "-", "-");
            }
            table.print(out);
            int dead = cluster.nodes().size() - alive.size();
            if (dead > 0) out.println(dead + " recorded node(s) dead; their logs are in " + dir);
            if (members.isEmpty()) {
                out.println("could not join the cluster through " + String.join(", ", seeds) + " within "
                        + (long) timeoutSeconds + " s: membership unknown (see the nodes' logs in " + dir + ")");
            }
            return 0;
        }

        private static String uptime(LocalCluster.Node n) {
            long s = Math.max(0, (System.currentTimeMillis() - n.processStartEpochMillis()) / 1000);
            return s < 3600 ? String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60)
                    : String.format(Locale.ROOT, "%dh%02dm", s / 3600, s / 60 % 60);
        }
    }

    @Command(name = "down", mixinStandardHelpOptions = true,
            description = "Stop every recorded node (SIGTERM, then SIGKILL after the timeout) and remove the state. "
                    + "Exit 0 also when no cluster is up.")
    static final class Down implements Callable<Integer> {

        @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "30",
                description = "How long the nodes get to leave the cluster before they are killed (default ${DEFAULT-VALUE}).")
        double timeoutSeconds;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            if (!(timeoutSeconds > 0)) throw new UserException("--timeout must be > 0, got " + timeoutSeconds);
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            Path dir = directory();
            Optional<LocalCluster> cluster = recorded(dir);
            if (cluster.isEmpty()) {
                out.println("pipelab cluster: no cluster is up (nothing recorded in " + dir + "); nothing to stop");
                return 0;
            }
            Stopper.Result r = Stopper.stop(cluster.get().nodes(), Duration.ofMillis((long) (timeoutSeconds * 1000)), err);
            if (!r.survivors().isEmpty()) {
                err.println("pipelab cluster: still alive after SIGKILL: pids " + r.survivors() + "; the state stays in " + dir);
                return 1;
            }
            LocalCluster.delete(dir);
            out.printf(Locale.ROOT, "pipelab cluster: stopped %d node(s)%s%s; logs stay in %s%n", r.stopped() + r.killed(),
                    r.killed() > 0 ? " (" + r.killed() + " killed with SIGKILL)" : "",
                    r.gone() > 0 ? ", " + r.gone() + " had already exited" : "", dir);
            return 0;
        }
    }

    /** Stops node processes: SIGTERM to all at once (they leave the cluster), SIGKILL to those still there later. */
    static final class Stopper {

        record Result(int stopped, int killed, int gone, List<Long> survivors) {}

        private Stopper() {}

        static Result stop(List<LocalCluster.Node> nodes, Duration grace, PrintWriter err) {
            Map<LocalCluster.Node, ProcessHandle> running = new LinkedHashMap<>();
            for (LocalCluster.Node n : nodes) live(n).ifPresent(h -> running.put(n, h));
            int gone = nodes.size() - running.size();
            running.values().forEach(ProcessHandle::destroy);
            List<LocalCluster.Node> stubborn = awaitExit(running, grace);
            for (LocalCluster.Node n : stubborn) {
                err.printf(Locale.ROOT, "pipelab cluster: node %d (pid %d) did not stop within %s s of SIGTERM; killing it (SIGKILL)%n",
                        n.index(), n.pid(), seconds(grace));
                running.get(n).destroyForcibly();
            }
            Map<LocalCluster.Node, ProcessHandle> killed = new LinkedHashMap<>();
            for (LocalCluster.Node n : stubborn) killed.put(n, running.get(n));
            List<Long> survivors = awaitExit(killed, Duration.ofSeconds(10)).stream().map(LocalCluster.Node::pid).toList();
            return new Result(running.size() - stubborn.size(), stubborn.size() - survivors.size(), gone, survivors);
        }

        /** The nodes whose process is still alive after {@code patience}. */
        private static List<LocalCluster.Node> awaitExit(Map<LocalCluster.Node, ProcessHandle> processes, Duration patience) {
            long deadline = System.nanoTime() + patience.toNanos();
            List<LocalCluster.Node> alive = new ArrayList<>();
            for (Map.Entry<LocalCluster.Node, ProcessHandle> e : processes.entrySet()) {
                CompletableFuture<ProcessHandle> exit = e.getValue().onExit();
                try {
                    exit.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                } catch (Exception ex) {
                    // timed out (or the wait failed): decided by isAlive below
                }
                if (e.getValue().isAlive()) alive.add(e.getKey());
            }
            return alive;
        }
    }

    /** {@code 0.5}, {@code 30}: seconds as the user wrote them in a flag. */
    static String seconds(Duration d) {
        return BigDecimal.valueOf(d.toMillis(), 3).stripTrailingZeros().toPlainString();
    }

    /** A left-aligned text table, columns as wide as their widest cell. */
    static final class Table {
        private final List<String[]> rows = new ArrayList<>();

        Table(String... header) {
            rows.add(header);
        }

        void row(String... cells) {
            rows.add(cells);
        }

        void print(PrintWriter out) {
            int[] width = new int[rows.get(0).length];
            for (String[] r : rows) for (int i = 0; i < r.length; i++) width[i] = Math.max(width[i], r[i].length());
            for (String[] r : rows) {
                StringBuilder line = new StringBuilder();
                for (int i = 0; i < r.length; i++) {
                    line.append(r[i]);
                    if (i < r.length - 1) line.append(" ".repeat(width[i] - r[i].length() + 2));
                }
                out.println(line);
            }
        }
    }
}
