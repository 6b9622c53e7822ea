package dev.pipelab.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.abort;

/**
 * Hosts with addresses of their own on one machine: N Linux network namespaces, each with one {@code eth0} on a
 * private /24 ({@code 10.A.B.1}, {@code .2}, ...), joined by a bridge. Invariant: every namespace this instance made
 * is deleted by {@link #close()} (which deletes the veths and the bridge with them), and the names carry the test
 * JVM's pid, so that runs side by side never share one and {@link #create} can delete those of a JVM that died.
 *
 * <p>The bridge sits in a namespace of its own rather than in the root namespace: a bridge in the root namespace
 * passes its frames through the host's firewall when br_netfilter is loaded, and a FORWARD policy of DROP (Docker sets
 * one) then drops them; a fresh namespace has no rules at all. Nothing of the root namespace is touched, so a test
 * cannot disturb the machine's own network either.
 *
 * <p>{@link #cut} and {@link #heal} take a host's link down and up at the bridge: the way to partition a cluster for
 * real (the others see the host unreachable, its traffic is dropped, not refused).
 */
public final class Netns implements AutoCloseable {

    private static final AtomicInteger INSTANCES = new AtomicInteger();
    private static final Pattern OURS = Pattern.compile("^(pl-(\\d+)-\\d+-(?:br|h\\d+))\\b");
    private static final Pattern ROUTE = Pattern.compile("^(?:\\S+\\s+)?(\\d+\\.\\d+\\.\\d+\\.\\d+)(?:/(\\d+))?\\s");
    /** A port nobody listens on in a fresh namespace: the peer's kernel answers a connect with a reset. */
    private static final int CLOSED_PORT = 9;

    private final String bridge;
    private final List<String> hosts;
    private final String subnet;

    private Netns(String bridge, List<String> hosts, String subnet) {
        this.bridge = bridge;
        this.hosts = List.copyOf(hosts);
        this.subnet = subnet;
    }

    /** Why this machine cannot make namespaces (no {@code ip}, not root, or the kernel refused), or empty when it can. */
    public static Optional<String> unavailable() {
        if (ip().isEmpty()) return Optional.of("the 'ip' command (iproute2) is missing (Debian: apt-get install -y iproute2)");
        try {
            String uid = run(List.of("id", "-u")).strip();
            if (!uid.equals("0")) return Optional.of("network namespaces need root, and this runs as uid " + uid);
            String probe = "pl-" + ProcessHandle.current().pid() + "-probe";
            run(List.of(ip().get(), "netns", "add", probe));
            run(List.of(ip().get(), "netns", "delete", probe));
            return Optional.empty();
        } catch (IOException | IllegalStateException e) {
            return Optional.of("cannot make a network namespace: " + e.getMessage());
        }
    }

    /**
     * Returns when namespaces can be made; otherwise fails the test when {@code CI} is set (CI runs as root, and a
     * multi-host test must not pass unseen there) and skips it, saying why, when it is not.
     */
    public static void require() {
        Optional<String> why = unavailable();
        if (why.isEmpty()) return;
        if (System.getenv("CI") != null) fail(why.get() + "; CI is set, so this is a failure, not a skip");
        abort(why.get() + "; skipped because CI is not set");
    }

    /** {@code hosts} namespaces on a fresh bridge, with addresses {@code 10.A.B.1..hosts} on a /24 no route here uses. */
    public static Netns create(int hosts) throws IOException {
        if (hosts < 1 || hosts > 250) throw new IllegalArgumentException("hosts must be within 1..250, got " + hosts);
        deleteStale();
        String prefix = "pl-" + ProcessHandle.current().pid() + "-" + INSTANCES.getAndIncrement() + "-";
        String subnet = freeSubnet();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < hosts; i++) names.add(prefix + "h" + i);
        Netns n = new Netns(prefix + "br", names, subnet);
        try {
            n.ipRun("netns", "add", n.bridge);
            n.ipRun("-n", n.bridge, "link", "add", "br0", "type", "bridge");
            n.ipRun("-n", n.bridge, "link", "set", "br0", "up");
            for (int i = 0; i < hosts; i++) {
                String ns = names.get(i);
                n.ipRun("netns", "add", ns);
                // the veth is made inside the bridge's namespace and its peer lands in the host's: no name ever
                // appears in the root namespace, so no clash with the machine's interfaces
                n.ipRun("-n", n.bridge, "link", "add", port(i), "type", "veth", "peer", "name", "eth0", "netns", ns);
                n.ipRun("-n", n.bridge, "link", "set", port(i), "master", "br0", "up");
                n.ipRun("-n", ns, "addr", "add", n.address(i) + "/24", "dev", "eth0");
                n.ipRun("-n", ns, "link", "set", "eth0", "up");
                n.ipRun("-n", ns, "link", "set", "lo", "up");
            }
            return n;
        } catch (IOException | RuntimeException e) {
            try {
                n.close();
            } catch (IOException | RuntimeException c) {
                e.addSuppressed(c);
            }
            throw e;
        }
    }

    /** How many hosts. */
    public int size() {
        return hosts.size();
    }

    /** The namespace of {@code host}. */
    public String namespace(int host) {
        return hosts.get(host);
    }

    /** The address of {@code host} ({@code 10.A.B.host+1}). */
    public String address(int host) {
        if (host < 0 || host >= hosts.size()) throw new IndexOutOfBoundsException("host " + host + " of " + hosts.size());
        return subnet + "." + (host + 1);
    }

    /** {@code command} run inside {@code host}'s namespace ({@code ip netns exec} replaces itself with the command). */
    public List<String> inside(int host, List<String> command) {
        List<String> all = new ArrayList<>(List.of(ip().orElseThrow(), "netns", "exec", namespace(host)));
        all.addAll(command);
        return all;
    }

    /** Runs {@code command} inside {@code host}'s namespace; its output, or an exception with it when it fails. */
    public String exec(int host, String... command) throws IOException {
        return run(inside(host, List.of(command)));
    }

    /** Takes {@code host}'s link down at the bridge: its packets to and from every other host are dropped. */
    public void cut(int host) throws IOException {
        ipRun("-n", bridge, "link", "set", port(host), "down");
    }

    /** Brings {@code host}'s link back up (the bridge runs no STP, so it forwards at once). */
    public void heal(int host) throws IOException {
        ipRun("-n", bridge, "link", "set", port(host), "up");
    }

    /**
     * Whether a TCP connect from {@code from} reaches {@code to} within 2 s: a refused connect counts, since the reset
     * came from {@code to}'s kernel; a silent drop or an unreachable network does not.
     */
    public boolean reaches(int from, int to) throws IOException {
        Process p = new ProcessBuilder(inside(from, List.of("timeout", "2", "bash", "-c",
                "exec 3<>/dev/tcp/" + address(to) + "/" + CLOSED_PORT))).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return false;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        return p.exitValue() == 0 || out.contains("Connection refused");
    }

    /** Deletes every namespace this instance made; their veths and the bridge go with them. */
    @Override
    public void close() throws IOException {
        List<String> failed = new ArrayList<>();
        List<String> all = new ArrayList<>(hosts);
        all.add(bridge);
        for (String ns : all) {
            if (!exists(ns)) continue;
            try {
                ipRun("netns", "delete", ns);
            } catch (IOException | IllegalStateException e) {
                failed.add(e.getMessage());
            }
        }
        if (!failed.isEmpty()) throw new IOException("could not delete namespaces: " + String.join("; ", failed));
    }

    /** Whether a namespace of that name exists now. */
    public static boolean exists(String namespace) throws IOException {
        return run(List.of(ip().orElseThrow(), "netns", "list")).lines()
                .anyMatch(l -> l.equals(namespace) || l.startsWith(namespace + " "));
    }

    private static String port(int host) {
        return "h" + host;
    }

    /** Deletes the namespaces of test JVMs that are gone (killed before their close ran). */
    private static void deleteStale() throws IOException {
        for (String line : run(List.of(ip().orElseThrow(), "netns", "list")).lines().toList()) {
            Matcher m = OURS.matcher(line);
            if (m.find() && ProcessHandle.of(Long.parseLong(m.group(2))).isEmpty()) {
                run(List.of(ip().orElseThrow(), "netns", "delete", m.group(1)));
            }
        }
    }

    /** A random 10.A.B (A within 100..254) whose /24 overlaps no route of the root namespace. */
    private static String freeSubnet() throws IOException {
        List<long[]> routes = new ArrayList<>();
        for (String line : run(List.of(ip().orElseThrow(), "-4", "route", "show", "table", "all")).lines().toList()) {
            Matcher m = ROUTE.matcher(line + " ");
            if (m.find()) routes.add(new long[] {toLong(m.group(1)), m.group(2) == null ? 32 : Integer.parseInt(m.group(2))});
        }
        for (int attempt = 0; attempt < 100; attempt++) {
            int a = ThreadLocalRandom.current().nextInt(100, 255);
            int b = ThreadLocalRandom.current().nextInt(0, 256);
            long net = toLong("10." + a + "." + b + ".0");
            boolean clash = routes.stream().anyMatch(r -> {
                int len = (int) Math.min(24, r[1]);
                long mask = len == 0 ? 0 : (0xFFFFFFFFL << (32 - len)) & 0xFFFFFFFFL;
                return (net & mask) == (r[0] & mask);
            });
            if (!clash) return "10." + a + "." + b;
        }
        throw new IllegalStateException("no free 10.x.y.0/24 found among the routes of this machine");
    }

    private static long toLong(String dotted) {
        long v = 0;
        for (String part : dotted.split("\\.")) v = v << 8 | Integer.parseInt(part);
        return v;
    }

    private void ipRun(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(ip().orElseThrow()));
        cmd.addAll(List.of(args));
        run(cmd);
    }

    /** The {@code ip} binary: on PATH, or in the sbin folders that a non-root PATH often lacks. */
    private static Optional<String> ip() {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(":")));
        dirs.addAll(List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin"));
        return dirs.stream().filter(d -> !d.isEmpty()).map(d -> Path.of(d, "ip")).filter(Files::isExecutable)
                .map(Path::toString).findFirst();
    }

    /** Runs {@code cmd}; its output, or an exception naming the command and its output when it fails. */
    private static String run(List<String> cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", cmd) + ": no answer within 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        if (p.exitValue() != 0) throw new IllegalStateException(String.join(" ", cmd) + ": exit " + p.exitValue() + ": " + out.strip());
        return out;
    }
}
