package dev.pipelab.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.AddressFromURIString;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.JoinSeedNodes;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;

/**
 * One member of a pipelab cluster: an ActorSystem named {@value #SYSTEM_NAME} with Artery on a given address,
 * joined to its seeds, with role {@code worker} or {@code coordinator}. Invariant: a worker runs exactly one
 * {@link Host} at {@code /user/host} (the path {@code large-message-destinations} in pipelab.conf names), registered
 * with the Receptionist, and advertises its capacity as the role {@code slots-K}; a coordinator hosts nothing.
 */
public final class Node implements AutoCloseable {

    /** A worker's default slots per core: stages mostly wait for messages, so a core carries several. */
    public static final int SLOTS_PER_CORE = 4;

    /** The ActorSystem name every node of a pipelab cluster uses. */
    public static final String SYSTEM_NAME = "pipelab";

    /** Prefix of the role that carries a worker's slots ({@code slots-8}). */
    public static final String SLOTS_ROLE = "slots-";

    private static final String HOSTNAME = "pekko.remote.artery.canonical.hostname";
    private static final String PORT = "pekko.remote.artery.canonical.port";
    private static final String SEEDS = "pekko.cluster.seed-nodes";
    /** Seeds as one comma-separated string, the form an environment variable can give (cluster-config/multi-host.conf). */
    private static final String SEEDS_STRING = "pipelab.cluster.seeds";

    /** What a node does in the cluster. */
    public enum Role {
        WORKER, COORDINATOR;

        /** The cluster role name ({@code worker}, {@code coordinator}). */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * How to start a node. Invariant: {@code port} within 0..65535 (0 = a free port), {@code slots >= 1}, every seed
     * a {@code host:port}; no seeds means the node is the first seed and joins itself.
     *
     * @param config a HOCON file layered over pipelab.conf (e.g. cluster-config/loopback.conf); the flags win over it
     * @param clusterName the cluster the node belongs to ({@value Compatibility#NAME}); empty: the config file's, else
     *                    {@value Compatibility#DEFAULT_NAME}
     * @param management the port of the node's operations endpoint ({@link Management}) on {@code host}, 0 for a free
     *                   one; empty: none
     */
    public record Options(Role role, Optional<Path> config, String host, int port, List<String> seeds, int slots,
                          Optional<String> clusterName, OptionalInt management) {
        public Options {
            if (port < 0 || port > 65535) throw new IllegalArgumentException("--port must be within 0..65535, got " + port);
            if (management.isPresent() && (management.getAsInt() < 0 || management.getAsInt() > 65535)) {
                throw new IllegalArgumentException("--management must be within 0..65535, got " + management.getAsInt());
            }
            if (slots < 1) throw new IllegalArgumentException("--slots must be >= 1, got " + slots);
            if (host.isBlank()) throw new IllegalArgumentException("--host must not be blank");
            clusterName.ifPresent(n -> {
                if (n.isBlank()) throw new IllegalArgumentException("--cluster-name must not be blank");
            });
            seeds = List.copyOf(seeds);
            for (String s : seeds) seedAddress(s);
            config.ifPresent(f -> {
                if (!Files.isRegularFile(f)) throw new IllegalArgumentException("--config: no file at " + f);
            });
        }

        /** Options of a node of the cluster its config file names, else the default one, without an operations endpoint. */
        public Options(Role role, Optional<Path> config, String host, int port, List<String> seeds, int slots) {
            this(role, config, host, port, seeds, slots, Optional.empty(), OptionalInt.empty());
        }

        /** These options with the operations endpoint on {@code port} (0: a free one). */
        public Options withManagement(int port) {
            return new Options(role, config, host, this.port, seeds, slots, clusterName, OptionalInt.of(port));
        }

        /**
         * Options from flags, where a flag not given takes the {@code config} file's value (its canonical hostname and
         * port; its seeds: {@code pipelab.cluster.seeds} when non-empty, else its seed-nodes), else the default: 127.0.0.1, a
         * free port, no seeds. The file resolves {@code ${VAR}} from the environment (cluster-config/multi-host.conf
         * takes its address and seeds so), under the flags: a flag given stands in for a variable the file requires.
         */
        public static Options of(Role role, Optional<Path> config, Optional<String> host, Optional<Integer> port,
                                 List<String> seeds, int slots) {
            config.ifPresent(f -> {
                if (!Files.isRegularFile(f)) throw new IllegalArgumentException("--config: no file at " + f);
            });
            Config flags = ConfigFactory.empty();
            if (host.isPresent()) flags = flags.withValue(HOSTNAME, ConfigValueFactory.fromAnyRef(host.get()));
            if (port.isPresent()) flags = flags.withValue(PORT, ConfigValueFactory.fromAnyRef(port.get()));
            try {
                Config under = flags;
                Config file = config.map(f -> under.withFallback(ConfigFactory.parseFile(f.toFile()))
                        .withFallback(ConfigFactory.parseResources("pipelab.conf")).resolve()).orElse(ConfigFactory.empty());
                String h = host.orElseGet(() -> file.hasPath(HOSTNAME) ? file.getString(HOSTNAME) : "127.0.0.1");
                int p = port.orElseGet(() -> file.hasPath(PORT) ? file.getInt(PORT) : 0);
                return new Options(role, config, h, p, seeds.isEmpty() ? seedsOf(file) : seeds, slots);
            } catch (ConfigException e) {
                throw new IllegalArgumentException("--config: " + e.getMessage());
            }
        }

        /** The file's seeds: the comma-separated {@code pipelab.cluster.seeds} when non-empty, else its seed-nodes. */
        private static List<String> seedsOf(Config file) {
            if (!file.hasPath(SEEDS_STRING) || file.getString(SEEDS_STRING).isBlank()) {
                return file.hasPath(SEEDS) ? file.getStringList(SEEDS) : List.of();
            }
            List<String> seeds = Arrays.stream(file.getString(SEEDS_STRING).split(",", -1)).map(String::strip).toList();
            for (String s : seeds) {
                try {
                    seedAddress(s);
                } catch (IllegalArgumentException e) {
                    throw new ConfigException.BadValue(file.getValue(SEEDS_STRING).origin(), SEEDS_STRING,
                            "'" + s + "' is not host:port in '" + file.getString(SEEDS_STRING) + "'");
                }
            }
            return seeds;
        }

        /** {@link #of(Role, Optional, Optional, Optional, List, int)} of the cluster {@code clusterName}, if given. */
        public static Options of(Role role, Optional<Path> config, Optional<String> host, Optional<Integer> port,
                                 List<String> seeds, int slots, Optional<String> clusterName) {
            return of(role, config, host, port, seeds, slots).withClusterName(clusterName);
        }

        /** These options with {@code clusterName} instead of the config's, if given. */
        public Options withClusterName(Optional<String> name) {
            return name.isEmpty() ? this : new Options(role, config, host, port, seeds, slots, name, management);
        }

        /** A worker's default slots on this machine: cores × {@link #SLOTS_PER_CORE}. */
        public static int defaultSlots() {
            return Runtime.getRuntime().availableProcessors() * SLOTS_PER_CORE;
        }
    }

    /** A worker as the coordinator sees it: its host, its address and its slots. */
    public record Worker(ActorRef<Host.Command> host, String address, int slots) {}

    private final ActorSystem<Void> system;
    private final Role role;
    private final int slots;
    private Optional<String> management = Optional.empty();
    private final List<Address> seeds;
    private final Refusals refusals;

    private Node(ActorSystem<Void> system, Role role, int slots, List<Address> seeds, Refusals refusals) {
        this.system = system;
        this.role = role;
        this.slots = slots;
        this.seeds = List.copyOf(seeds);
        this.refusals = refusals;
    }

    /**
     * What this node saw of refusals: each refusal it made is told to {@code listener} once (a refused node retries
     * every few seconds), and the last one that kept this node out is kept for {@link #awaitUp}'s message.
     */
    private static final class Refusals implements Consumer<Refusal> {
        private final Consumer<String> listener;
        private final Set<String> told = ConcurrentHashMap.newKeySet();
        private final AtomicReference<Optional<Refusal>> keptOut = new AtomicReference<>(Optional.empty());

        Refusals(Consumer<String> listener) {
            this.listener = listener;
        }

        @Override
        public void accept(Refusal r) {
            switch (r.kind()) {
                case JOIN_REFUSED, PEER_CERTIFICATE_REFUSED -> {
                    if (told.add(r.line())) listener.accept(r.line());
                }
                // keep what says the most: a refused certificate, then a failed handshake, then a closed connection
                case SEED_CERTIFICATE_REFUSED, HANDSHAKE_FAILED, CONNECTION_CLOSED -> keptOut.updateAndGet(
                        kept -> kept.filter(k -> k.kind().compareTo(r.kind()) < 0).or(() -> Optional.of(r)));
            }
        }
    }

    /** {@code host:port} (or a full {@code pekko://pipelab@host:port}) as a cluster address. */
    public static Address seedAddress(String seed) {
        String uri = seed.startsWith("pekko://") ? seed : "pekko://" + SYSTEM_NAME + "@" + seed;
        Address a;
        try {
            a = AddressFromURIString.parse(uri);
        } catch (Exception e) {
            // Scala throws MalformedURLException undeclared
            throw new IllegalArgumentException("--seeds: '" + seed + "' is not host:port");
        }
        if (a.host().isEmpty() || a.port().isEmpty()) throw new IllegalArgumentException("--seeds: '" + seed + "' is not host:port");
        return a;
    }

    /**
     * This machine's address on its route to {@code host} (what the kernel would pick as the source address of a packet
     * to it; nothing is sent), so that a node joining a seed on another host advertises an address that host can reach:
     * 127.0.0.1 towards loopback. Falls back to 127.0.0.1 when {@code host} does not resolve or has no route.
     */
    public static String addressTowards(String host) {
        try (DatagramSocket probe = new DatagramSocket()) {
            probe.connect(InetAddress.getByName(host), 9);
            InetAddress local = probe.getLocalAddress();
            return local == null || local.isAnyLocalAddress() ? "127.0.0.1" : local.getHostAddress();
        } catch (IOException | RuntimeException e) {
            return "127.0.0.1";
        }
    }

    /** The node's config: the flags over {@code --config} over pipelab.conf. */
    public static Config config(Options o) {
        List<String> roles = new ArrayList<>(List.of(o.role().label()));
        if (o.role() == Role.WORKER) roles.add(SLOTS_ROLE + o.slots());
        Config flags = ConfigFactory.empty()
                .withValue(HOSTNAME, ConfigValueFactory.fromAnyRef(o.host()))
                .withValue(PORT, ConfigValueFactory.fromAnyRef(o.port()))
                .withValue("pekko.cluster.roles", ConfigValueFactory.fromIterable(roles))
                // the seeds are joined explicitly (start), so that "itself" can mean the port it bound
                .withValue(SEEDS, ConfigValueFactory.fromIterable(List.of()))
                // the command that started the node decides how its process ends (pipelab node: exit 0 after a signal,
                // 1 when downed; pipelab run: its own exit code), never CoordinatedShutdown
                .withValue("pekko.coordinated-shutdown.exit-jvm", ConfigValueFactory.fromAnyRef("off"));
        if (o.management().isPresent()) {
            // the endpoint listens on the node's own address (127.0.0.1 unless the node is given another)
            flags = flags.withValue("pekko.management.http.hostname", ConfigValueFactory.fromAnyRef(o.host()))
                    .withValue("pekko.management.http.port", ConfigValueFactory.fromAnyRef(o.management().getAsInt()));
        }
        if (o.clusterName().isPresent()) flags = flags.withValue(Compatibility.NAME, ConfigValueFactory.fromAnyRef(o.clusterName().get()));
        Config file = o.config().map(f -> ConfigFactory.parseFile(f.toFile())).orElse(ConfigFactory.empty());
        return withDefaults(flags.withFallback(file));
    }

    /**
     * {@code pipelab.conf} (then the jar's version, then Pekko's reference) under {@code overrides}, all under the
     * system properties: every node's config. A {@code -Dpipelab.version=...} therefore makes a node claim another
     * version (a test's way to start a node that must be refused).
     */
    public static Config withDefaults(Config overrides) {
        return ConfigFactory.load(overrides.withFallback(ConfigFactory.parseResources("pipelab.conf"))
                .withFallback(Compatibility.defaults()));
    }

    /**
     * {@link #start(Options, Host.Factories, Consumer)} that logs the nodes it refuses (a warning through SLF4J).
     */
    public static Node start(Options o, Host.Factories actors) {
        return start(o, actors, line -> LoggerFactory.getLogger(Node.class).warn(line));
    }

    /**
     * Starts the node and joins its seeds (itself when none); returns before it is {@code Up} (see {@link #awaitUp}).
     * A worker's {@link Host} spawns the actors {@code actors} makes (the runtime's, from the caller: this package knows
     * no actor but the host). Each node this one refuses (another cluster name or version, a certificate its CA did
     * not sign) is told to {@code refused} once, as one line ({@link Refusal#line}).
     */
    public static Node start(Options o, Host.Factories actors, Consumer<String> refused) {
        Refusals refusals = new Refusals(refused);
        Behavior<Void> guardian = Behaviors.setup(ctx -> {
            ctx.spawn(RefusalWatch.create(refusals), "refusal-watch");
            if (o.role() == Role.WORKER) ctx.spawn(Host.create(actors), "host");
            return Behaviors.empty();
        });
        ActorSystem<Void> system = ActorSystem.create(guardian, SYSTEM_NAME, config(o));
        Cluster cluster = Cluster.get(system);
        // always through JoinSeedNodes, also for the first seed (itself): a join through seeds is the one Pekko checks
        // with Compatibility, and the bare Join would skip it
        List<Address> seeds = o.seeds().isEmpty() ? List.of(cluster.selfMember().address())
                : o.seeds().stream().map(Node::seedAddress).toList();
        cluster.manager().tell(new JoinSeedNodes(seeds));
        Node node = new Node(system, o.role(), o.slots(), seeds, refusals);
        if (o.management().isPresent()) {
            try {
                node.management = Optional.of(Management.start(system));
            } catch (IllegalStateException e) {
                node.close();
                throw e;
            }
        }
        return node;
    }

    /** The base URL of this node's operations endpoint ({@link Management}), if it has one. */
    public Optional<String> management() {
        return management;
    }

    public ActorSystem<Void> system() {
        return system;
    }

    public Role role() {
        return role;
    }

    public int slots() {
        return slots;
    }

    /** The cluster this node belongs to ({@value Compatibility#NAME}). */
    public String clusterName() {
        return system.settings().config().getString(Compatibility.NAME);
    }

    /** The pipelab version this node claims ({@value Compatibility#VERSION}): the jar's unless overridden. */
    public String version() {
        return system.settings().config().getString(Compatibility.VERSION);
    }

    /** {@code pekko://pipelab@HOST:PORT}. */
    public String address() {
        return Cluster.get(system).selfMember().address().toString();
    }

    /**
     * Blocks until this node is a member {@code Up}; fails with a one-line reason as soon as the cluster refused it,
     * else after {@code timeout}: the TLS handshake that kept it out if one did, else its status.
     */
    public void awaitUp(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Cluster cluster = Cluster.get(system);
        while (cluster.selfMember().status() != MemberStatus.up()) {
            // a node the cluster refused shuts itself down; on a busy machine that can outlast the timeout, so the
            // shutdown's start (its reason), not its end, is what says the node will never be Up
            if (system.whenTerminated().isCompleted() || shutdownReason().isPresent()) {
                throw new IllegalStateException(stoppedBeforeUp());
            }
            if (System.nanoTime() > deadline) {
                String within = "node " + address() + " did not become Up within " + timeout.toSeconds() + " s";
                throw new IllegalStateException(refusals.keptOut.get().flatMap(this::keptOutBy).map(r -> within + ": " + r)
                        .orElse(within + " (status " + cluster.selfMember().status() + "): are the seeds reachable?"));
            }
            sleep(50);
        }
    }

    /** Why the node shut down before it was Up: a refusal by the cluster, said with what this node claims. */
    private String stoppedBeforeUp() {
        String seedList = seeds.stream().map(Address::toString).collect(Collectors.joining(", "));
        Optional<CoordinatedShutdown.Reason> reason = shutdownReason();
        if (reason.equals(Optional.of(CoordinatedShutdown.incompatibleConfigurationDetectedReason()))) {
            // the seed logs which of the two differs; it sends the joining node only "incompatible"
            return "refused by the cluster at " + seedList + ": its cluster name or pipelab version differs from this node's "
                    + "(cluster name " + clusterName() + ", pipelab version " + version() + "); the seed's log says which";
        }
        return "node " + address() + " stopped before it was Up (" + reason.map(Object::toString).orElse("terminated")
                + "), joining " + seedList;
    }

    /** The TLS trouble behind {@code r}, as a sentence; empty when the transport is not TLS (a plain closed connection). */
    private Optional<String> keptOutBy(Refusal r) {
        return switch (r.kind()) {
            case SEED_CERTIFICATE_REFUSED -> Optional.of("TLS handshake with " + r.peer() + " failed: its certificate "
                    + r.reason() + ": are this node's trust store and the cluster's from the same CA (make-keys.sh)?");
            case HANDSHAKE_FAILED -> Optional.of("TLS handshake with the seed " + r.peer() + " failed (" + r.reason()
                    + "): is this node's certificate signed by the cluster's CA?");
            case CONNECTION_CLOSED -> tls() ? Optional.of("TLS handshake with the seed failed: " + r.peer()
                    + " closed every connection from this node: is this node's certificate signed by the cluster's CA?")
                    : Optional.empty();
            case JOIN_REFUSED, PEER_CERTIFICATE_REFUSED -> Optional.empty();
        };
    }

    private boolean tls() {
        return system.settings().config().getString("pekko.remote.artery.transport").equals("tls-tcp");
    }

    /**
     * Blocks until every {@code Up} worker member has its {@link Host} in the Receptionist and there is at least one;
     * returns them ordered by address, so that a placement is the same run after run.
     */
    public List<Worker> awaitWorkers(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Cluster cluster = Cluster.get(system);
        String last = "no worker member";
        while (System.nanoTime() < deadline) {
            List<Member> members = StreamSupport.stream(cluster.state().getMembers().spliterator(), false)
                    .filter(m -> m.status() == MemberStatus.up() && m.hasRole(Role.WORKER.label())).toList();
            Set<ActorRef<Host.Command>> hosts = listing(Duration.ofSeconds(3));
            List<Worker> workers = new ArrayList<>();
            for (Member m : members) {
                hosts.stream().filter(h -> h.path().address().equals(m.address())).findFirst()
                        .ifPresent(h -> workers.add(new Worker(h, m.address().toString(), slotsOf(m))));
            }
            if (!members.isEmpty() && workers.size() == members.size()) {
                workers.sort(Comparator.comparing((Worker w) -> w.host().path().address().getHost().orElse(""))
                        .thenComparing(w -> w.host().path().address().getPort().orElse(0)));
                return workers;
            }
            last = members.size() + " worker member(s) Up, " + workers.size() + " with a host";
            sleep(200);
        }
        throw new IllegalStateException("no workers seen within " + timeout.toSeconds() + " s (" + last
                + "): start them with 'pipelab cluster up' or 'pipelab node --role worker --seeds ...'");
    }

    /**
     * The first of {@code workers} that is no longer an {@code Up} member (it left, was downed or removed), as a
     * sentence; empty while all are Up. An unreachable worker counts once the split-brain resolver has downed it.
     */
    public Optional<String> lost(List<Worker> workers) {
        Set<Address> up = new HashSet<>();
        for (Member m : Cluster.get(system).state().getMembers()) if (m.status() == MemberStatus.up()) up.add(m.address());
        return workers.stream().filter(w -> !up.contains(w.host().path().address())).findFirst()
                .map(w -> "worker " + w.address() + " left the cluster during the run");
    }

    private Set<ActorRef<Host.Command>> listing(Duration timeout) {
        try {
            Receptionist.Listing l = AskPattern.<Receptionist.Command, Receptionist.Listing>ask(system.receptionist(),
                    reply -> Receptionist.find(Host.KEY, reply), timeout, system.scheduler()).toCompletableFuture().get();
            return l.getServiceInstances(Host.KEY);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while looking for workers", e);
        } catch (ExecutionException e) {
            return Set.of();
        }
    }

    private static int slotsOf(Member m) {
        return m.getRoles().stream().filter(r -> r.startsWith(SLOTS_ROLE)).findFirst()
                .map(r -> Integer.parseInt(r.substring(SLOTS_ROLE.length()))).orElse(1);
    }

    /** Blocks until the ActorSystem has terminated (a leave, a downing or {@link #close}). */
    public void awaitTermination() throws InterruptedException {
        try {
            system.getWhenTerminated().toCompletableFuture().get();
        } catch (ExecutionException e) {
            // terminated with a failure is still terminated
        }
    }

    /** Why the node shut down, once it did (e.g. {@link CoordinatedShutdown#jvmExitReason()} for a signal). */
    public Optional<CoordinatedShutdown.Reason> shutdownReason() {
        return CoordinatedShutdown.get(system).getShutdownReason();
    }

    /** Leaves the cluster and terminates the ActorSystem through CoordinatedShutdown; waits up to 30 s. */
    @Override
    public void close() {
        shutdown(CoordinatedShutdown.clusterLeavingReason());
    }

    /**
     * Leaves the cluster and terminates the ActorSystem through CoordinatedShutdown, with {@code reason} (the first
     * reason given wins); waits up to 30 s.
     */
    public void shutdown(CoordinatedShutdown.Reason reason) {
        // CoordinatedShutdown's cluster-leave phase leaves gracefully, so the others remove this node at once
        try {
            CoordinatedShutdown.get(system).runAll(reason)
                    .toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            system.terminate();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
