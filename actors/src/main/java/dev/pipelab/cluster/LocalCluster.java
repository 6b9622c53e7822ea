package dev.pipelab.cluster;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;

/**
 * What {@code pipelab cluster up} started on this machine, as recorded in {@code .pipelab/cluster/state.json}:
 * one entry per node process, the first being the seed, and the cluster's name (its nodes refuse any other, so
 * {@code status} joins with it), and the seed's operations endpoint ({@link Management}: {@code status} reads the
 * membership there; "" for none). Invariant: every process {@code up} starts is recorded
 * here before {@code up} waits for it, so that {@code down} can stop it even when {@code up} itself was killed.
 */
public record LocalCluster(List<Node> nodes, String clusterName, String management) {

    /** The file name of the state inside the cluster directory. */
    public static final String FILE = "state.json";

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /**
     * One node process. {@code processStartEpochMillis} tells the process apart from a later one that reuses its
     * pid; {@code upLine} is the line the node printed once {@code Up}, empty while it has not.
     */
    public record Node(int index, String role, String host, int port, long pid, long processStartEpochMillis,
                       String log, String upLine) {
        public Node {
            if (index < 0) throw new IllegalArgumentException("index must be >= 0, got " + index);
            if (port < 1 || port > 65535) throw new IllegalArgumentException("port must be in 1..65535, got " + port);
            if (pid < 1) throw new IllegalArgumentException("pid must be >= 1, got " + pid);
        }

        /** {@code host:port}, the form {@code --seeds} and {@code --cluster} take. */
        public String hostPort() {
            return host + ":" + port;
        }

        /** What the node said about itself once Up (its slots and version), empty before. */
        public Optional<UpLine> up() {
            return UpLine.parse(upLine);
        }

        public Node withUpLine(UpLine line) {
            return new Node(index, role, host, port, pid, processStartEpochMillis, log, line.toString());
        }
    }

    /** A cluster of the default name. */
    public LocalCluster(List<Node> nodes) {
        this(nodes, Compatibility.DEFAULT_NAME);
    }

    /** A cluster whose seed serves no operations endpoint. */
    public LocalCluster(List<Node> nodes, String clusterName) {
        this(nodes, clusterName, "");
    }

    public LocalCluster {
        // a state file written before clusters had names has none: it was the default
        if (clusterName == null) clusterName = Compatibility.DEFAULT_NAME;
        // nor an operations endpoint, which came later still
        if (management == null) management = "";
        nodes = List.copyOf(nodes);
        if (nodes.isEmpty()) throw new IllegalArgumentException("a cluster has at least one node");
        for (int i = 0; i < nodes.size(); i++) {
            if (nodes.get(i).index() != i) {
                throw new IllegalArgumentException("nodes[" + i + "].index: expected " + i + ", got " + nodes.get(i).index());
            }
        }
    }

    /** The seed: the first node, the one every other node joins through. */
    public Node seed() {
        return nodes.get(0);
    }

    /** This cluster with node {@code index} replaced. */
    public LocalCluster with(Node node) {
        Node[] copy = nodes.toArray(Node[]::new);
        copy[node.index()] = node;
        return new LocalCluster(List.of(copy), clusterName, management);
    }

    /** The cluster recorded in {@code dir}, or empty when none is. */
    public static Optional<LocalCluster> read(Path dir) throws IOException {
        Path file = dir.resolve(FILE);
        if (!Files.exists(file)) return Optional.empty();
        try {
            return Optional.of(JSON.readValue(file.toFile(), LocalCluster.class));
        } catch (IOException | IllegalArgumentException e) {
            throw new IOException(file + " is not a cluster state (" + e.getMessage().lines().findFirst().orElse("")
                    + "); stop its processes by hand, then delete it", e);
        }
    }

    /** Writes the state so that a reader sees either the old or the new file, never half of one. */
    public void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path tmp = dir.resolve(FILE + ".tmp");
        JSON.writeValue(tmp.toFile(), this);
        Files.move(tmp, dir.resolve(FILE), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Removes the state (not the logs, which say what the nodes did). */
    public static void delete(Path dir) throws IOException {
        Files.deleteIfExists(dir.resolve(FILE));
    }
}
