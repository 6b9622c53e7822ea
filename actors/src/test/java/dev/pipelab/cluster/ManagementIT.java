package dev.pipelab.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pipelab.pipeline.Emulator;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The coordinator's operations endpoint is Pekko Management's: membership ({@code /cluster/members}) and health
 * ({@code /ready}, {@code /alive}) over HTTP on the node's own address, read-only. Two nodes in this JVM (a worker, the
 * first seed, and a coordinator with the endpoint on a free port).
 */
class ManagementIT {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void theCoordinatorServesMembershipAndHealthOverHttp() throws Exception {
        List<Node> nodes = new ArrayList<>();
        try {
            Node worker = Node.start(new Node.Options(Node.Role.WORKER, Optional.empty(), "127.0.0.1", 0, List.of(), 2),
                    Emulator.ACTORS);
            nodes.add(worker);
            worker.awaitUp(Duration.ofSeconds(30));
            String seed = worker.address().substring(worker.address().indexOf('@') + 1);
            Node coordinator = Node.start(new Node.Options(Node.Role.COORDINATOR, Optional.empty(), "127.0.0.1", 0,
                    List.of(seed), 1).withManagement(0), Emulator.ACTORS);
            nodes.add(coordinator);
            coordinator.awaitUp(Duration.ofSeconds(30));
            assertThat(worker.management()).isEmpty();
            String base = coordinator.management().orElseThrow();
            assertThat(base).startsWith("http://127.0.0.1:").doesNotEndWith(":0");

            HttpResponse<String> members = get(base + "/cluster/members");
            assertThat(members.statusCode()).isEqualTo(200);
            JsonNode json = new ObjectMapper().readTree(members.body());
            List<String> addresses = new ArrayList<>();
            List<String> roles = new ArrayList<>();
            json.get("members").forEach(m -> {
                addresses.add(m.get("node").asText());
                assertThat(m.get("status").asText()).isEqualTo("Up");
                m.get("roles").forEach(r -> roles.add(r.asText()));
            });
            assertThat(addresses).containsExactlyInAnyOrder(worker.address(), coordinator.address());
            assertThat(roles).contains("worker", "slots-2", "coordinator");
            assertThat(json.get("unreachable")).isEmpty();

            // what 'pipelab cluster status' reads there instead of joining
            assertThat(Membership.readOver(base, Duration.ofSeconds(5))).hasValueSatisfying(views -> assertThat(views)
                    .containsExactlyInAnyOrder(
                            new Membership.MemberView(worker.address(), List.of("slots-2", "worker"), "Up", true),
                            new Membership.MemberView(coordinator.address(), List.of("coordinator"), "Up", true)));
            assertThat(Membership.readOver("http://127.0.0.1:1", Duration.ofSeconds(2))).as("no endpoint: join instead").isEmpty();

            assertThat(get(base + "/ready").statusCode()).isEqualTo(200);
            assertThat(get(base + "/alive").statusCode()).isEqualTo(200);
            // read-only: nobody downs a node over HTTP
            HttpResponse<String> down = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/cluster/members/" + worker.address()))
                            .PUT(HttpRequest.BodyPublishers.ofString("operation=Down"))
                            .header("Content-Type", "application/x-www-form-urlencoded").build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(down.statusCode()).isEqualTo(405);
        } finally {
            for (Node n : reversed(nodes)) n.close();
        }
    }

    private static List<Node> reversed(List<Node> nodes) {
        List<Node> r = new ArrayList<>(nodes);
        java.util.Collections.reverse(r);
        return r;
    }

    private static HttpResponse<String> get(String url) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
