package dev.pipelab.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.AddressFromURIString;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent.CurrentClusterState;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.JoinSeedNodes;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.StreamSupport;

/**
 * The membership of a running cluster as the cluster itself sees it, read by a short-lived node with the role
 * {@value #ROLE} that joins through the seeds, reads the gossiped state and leaves. Invariant: the observer
 * never appears in what it reports, and it has left (its ActorSystem terminated) when {@link #read} returns.
 */
public final class Membership {

    /** The role of the reading node; nothing is ever placed on it. */
    public static final String ROLE = "observer";

    /** One member: its address, roles in name order (without Pekko's data-centre role), status and reachability. */
    public record MemberView(String address, List<String> roles, String status, boolean reachable) {
        public MemberView {
            roles = roles.stream().sorted().toList();
        }
    }

    private Membership() {}

    /**
     * Joins through {@code seeds} ({@code pekko://pipelab@host:port}), waits until the observer is welcomed (at
     * most {@code patience}) and returns the other members in address order; empty when it could not join.
     */
    public static List<MemberView> read(String systemName, List<String> seeds, Config base, Duration patience) {
        Config config = ConfigFactory.parseString("""
                        pekko.loglevel = ERROR
                        pekko.remote.artery.canonical.hostname = "127.0.0.1"
                        pekko.remote.artery.canonical.port = 0
                        pekko.coordinated-shutdown.exit-jvm = off
                        """)
                .withValue("pekko.cluster.roles", ConfigValueFactory.fromIterable(List.of(ROLE)))
                .withValue("pekko.cluster.seed-nodes", ConfigValueFactory.fromIterable(List.of()))
                .withFallback(base);
        ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), systemName, ConfigFactory.load(config));
        try {
            Cluster cluster = Cluster.get(system);
            List<Address> addresses = seeds.stream().map(AddressFromURIString::parse).toList();
            cluster.manager().tell(new JoinSeedNodes(addresses));
            long deadline = System.nanoTime() + patience.toNanos();
            // the seed's welcome carries the whole gossiped state (members, reachability): once the observer is
            // Joining it knows what the cluster knows, without waiting for the leader to move it to Up
            while (System.nanoTime() < deadline && !welcomed(cluster)) sleep(50);
            if (!welcomed(cluster)) return List.of();
            return members(cluster.state(), cluster.selfMember().address());
        } finally {
            // terminating runs coordinated shutdown, whose first phases leave the cluster
            system.terminate();
            try {
                system.getWhenTerminated().toCompletableFuture().get(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException e) {
                // best effort: the observer's membership ends with this JVM anyway
            }
        }
    }

    /**
     * The membership as the operations endpoint at {@code url} ({@link Management}) reports it, without joining: empty
     * when the endpoint does not answer within {@code timeout} or answers something else (the caller joins instead).
     */
    public static Optional<List<MemberView>> readOver(String url, Duration timeout) {
        try {
            HttpClient http = HttpClient.newBuilder().connectTimeout(timeout).build();
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url + "/cluster/members")).timeout(timeout)
                    .GET().build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) return Optional.empty();
            JsonNode json = new ObjectMapper().readTree(r.body());
            Set<String> unreachable = new HashSet<>();
            json.path("unreachable").forEach(u -> unreachable.add(u.path("node").asText()));
            List<MemberView> out = new ArrayList<>();
            for (JsonNode m : json.path("members")) {
                List<String> roles = new ArrayList<>();
                m.path("roles").forEach(role -> roles.add(role.asText()));
                roles.removeIf(role -> role.startsWith("dc-"));
                String node = m.path("node").asText();
                out.add(new MemberView(node, roles, m.path("status").asText(), !unreachable.contains(node)));
            }
            out.sort((a, b) -> a.address().compareTo(b.address()));
            return out.isEmpty() ? Optional.empty() : Optional.of(out);
        } catch (IOException | IllegalArgumentException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    private static List<MemberView> members(CurrentClusterState state, Address self) {
        Set<Member> unreachable = state.getUnreachable();
        List<MemberView> out = new ArrayList<>();
        for (Member m : state.getMembers()) {
            if (m.address().equals(self)) continue;
            List<String> roles = new ArrayList<>(m.getRoles());
            roles.removeIf(r -> r.startsWith("dc-"));
            out.add(new MemberView(m.address().toString(), roles, status(m.status()), !unreachable.contains(m)));
        }
        out.sort((a, b) -> a.address().compareTo(b.address()));
        return out;
    }

    /** A member itself (not before its join, not on its way out) that has heard of another member. */
    private static boolean welcomed(Cluster cluster) {
        MemberStatus s = cluster.selfMember().status();
        boolean member = s == MemberStatus.joining() || s == MemberStatus.up() || s == MemberStatus.weaklyUp();
        Address self = cluster.selfMember().address();
        return member && StreamSupport.stream(cluster.state().getMembers().spliterator(), false).anyMatch(m -> !m.address().equals(self));
    }

    /** Pekko's status names as its docs and logs spell them: Up, Joining, WeaklyUp, Leaving, Exiting, Down, Removed. */
    private static String status(MemberStatus s) {
        return s.toString();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while joining the cluster", e);
        }
    }
}
