package dev.pipelab.cli;

import dev.pipelab.cluster.Node;
import dev.pipelab.pipeline.Emulator;
import org.apache.pekko.actor.CoordinatedShutdown;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import sun.misc.Signal;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.Callable;

/**
 * {@code pipelab node}: one long-lived cluster node in the foreground. Invariant: stdout gets exactly one line,
 * {@code pipelab node: up ROLE pekko://pipelab@HOST:PORT slots=K version=V}, once the node is a member {@code Up}
 * (scripts parse it); everything else goes to stderr, among it one line {@code pipelab node: refused ...} for each
 * node this one refused (docs/cluster.md, Refusing nodes). SIGTERM or Ctrl-C leave the cluster through
 * CoordinatedShutdown and exit 0; a node that is downed, refused or cannot join exits 1 with the reason.
 */
@Command(name = "node", mixinStandardHelpOptions = true,
        description = "Start one pipelab cluster node in the foreground: a worker hosts the stages and links that "
                + "'pipelab run --cluster' places on it, run after run, until SIGTERM or Ctrl-C.")
final class NodeCommand implements Callable<Integer> {

    /** The shutdown reason of a node stopped by SIGTERM or Ctrl-C: the one ending that exits 0. */
    private static final CoordinatedShutdown.Reason SIGNALLED = new CoordinatedShutdown.Reason() {
        @Override
        public String toString() {
            return "signalled";
        }
    };

    @Option(names = "--role", required = true, paramLabel = "worker|coordinator", description = "What the node does.")
    String role;

    @Option(names = "--config", paramLabel = "FILE",
            description = "A HOCON file over the built-in pipelab.conf (e.g. cluster-config/loopback.conf); the flags win.")
    Path config;

    @Option(names = "--host", paramLabel = "ADDR",
            description = "Address Artery binds to and advertises (default: the --config file's, else 127.0.0.1).")
    String host;

    @Option(names = "--port", paramLabel = "N", description = "Artery port (default: the --config file's, else 0: a free port).")
    Integer port;

    @Option(names = "--seeds", split = ",", paramLabel = "HOST:PORT",
            description = "Seed nodes to join, comma-separated (default: the --config file's seeds, e.g. PIPELAB_SEEDS with "
                    + "cluster-config/multi-host.conf, else none: this node is the first seed).")
    List<String> seeds = new ArrayList<>();

    @Option(names = "--slots", paramLabel = "K",
            description = "Stages a worker offers to host (default: cores x " + Node.SLOTS_PER_CORE + ").")
    Integer slots;

    @Option(names = "--cluster-name", paramLabel = "NAME",
            description = "The cluster this node belongs to; nodes of other names are refused (default: the --config "
                    + "file's pipelab.cluster.name, else pipelab).")
    String clusterName;

    @Option(names = "--join-timeout", defaultValue = "60", paramLabel = "SECONDS",
            description = "Give up when not Up within this time (default ${DEFAULT-VALUE}).")
    int joinTimeout;

    @Option(names = "--management", paramLabel = "PORT",
            description = "Serve this node's operations endpoint (Pekko Management: GET /cluster/members, /ready, /alive; "
                    + "read-only) on this port of --host; 0: a free port (default: none).")
    String management;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Node.Role r = switch (role) {
            case "worker" -> Node.Role.WORKER;
            case "coordinator" -> Node.Role.COORDINATOR;
            default -> throw new UserException("--role must be worker or coordinator, got '" + role + "'");
        };
        if (joinTimeout < 1) throw new UserException("--join-timeout must be >= 1, got " + joinTimeout);
        Node.Options options;
        try {
            options = Node.Options.of(r, Optional.ofNullable(config), Optional.ofNullable(host), Optional.ofNullable(port),
                    seeds, slots != null ? slots : Node.Options.defaultSlots(), Optional.ofNullable(clusterName));
        } catch (IllegalArgumentException e) {
            throw new UserException(e.getMessage());
        }
        if (management != null) {
            OptionalInt p = RunCommand.managementPort(management);
            if (p.isEmpty()) throw new UserException("--management must be a port within 0..65535, got 'off'");
            options = options.withManagement(p.getAsInt());
        }
        PrintWriter err = spec.commandLine().getErr();
        Node node;
        try {
            node = Node.start(options, Emulator.ACTORS, line -> {
                err.println("pipelab node: " + line);
                err.flush();
            });
        } catch (IllegalStateException e) {
            throw new UserException("--management " + management + ": " + e.getMessage());
        }
        // stderr: stdout carries only the up line (UpLine)
        node.management().ifPresent(url -> err.println("pipelab node: management " + url + "/cluster/members " + url + "/ready"));
        try {
            node.awaitUp(Duration.ofSeconds(joinTimeout));
        } catch (IllegalStateException e) {
            node.close();
            err.println("pipelab node: " + e.getMessage());
            return 1;
        }
        // SIGTERM and Ctrl-C leave the cluster through CoordinatedShutdown and end this command with 0; without these
        // handlers the JVM's own shutdown would run the same phases but exit with 128 + the signal's number
        for (String name : List.of("TERM", "INT")) {
            Signal.handle(new Signal(name), sig -> node.shutdown(SIGNALLED));
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println("pipelab node: up " + r.label() + " " + node.address() + " slots=" + node.slots() + " version=" + node.version());
        out.flush();
        node.awaitTermination();
        boolean signalled = node.shutdownReason().map(SIGNALLED::equals).orElse(false);
        if (!signalled) err.println("pipelab node: stopped: " + node.shutdownReason().map(Object::toString).orElse("terminated"));
        return signalled ? 0 : 1;
    }
}
