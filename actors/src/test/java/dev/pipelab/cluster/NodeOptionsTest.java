package dev.pipelab.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Where a node's address and seeds come from: a flag wins over the {@code --config} file, whose seeds are the
 * comma-separated {@code pipelab.cluster.seeds} when non-empty, else its seed-nodes; multi-host.conf maps the
 * PIPELAB_* variables onto those keys. (MultiHostIT runs the whole chain with real environments.)
 */
class NodeOptionsTest {

    private static final Path MULTI_HOST = Path.of("..", "cluster-config", "multi-host.conf");

    private static Node.Options of(Path config, Optional<String> host, List<String> seeds) {
        return Node.Options.of(Node.Role.WORKER, Optional.of(config), host, Optional.empty(), seeds, 1);
    }

    @Test
    void aSeedsStringWinsOverSeedNodesAndASeedsFlagOverBoth(@TempDir Path dir) throws IOException {
        Path conf = Files.writeString(dir.resolve("c.conf"), """
                pekko.cluster.seed-nodes = ["pekko://pipelab@10.9.9.9:1"]
                pipelab.cluster.seeds = " 10.0.0.1:25520 ,10.0.0.2:25521"
                """);
        assertThat(of(conf, Optional.empty(), List.of()).seeds()).containsExactly("10.0.0.1:25520", "10.0.0.2:25521");
        assertThat(of(conf, Optional.empty(), List.of("10.0.0.7:1")).seeds()).containsExactly("10.0.0.7:1");
    }

    @Test
    void anEmptySeedsStringLeavesTheSeedNodes(@TempDir Path dir) throws IOException {
        Path conf = Files.writeString(dir.resolve("c.conf"), """
                pekko.cluster.seed-nodes = ["pekko://pipelab@10.9.9.9:1"]
                pipelab.cluster.seeds = ""
                """);
        assertThat(of(conf, Optional.empty(), List.of()).seeds()).containsExactly("pekko://pipelab@10.9.9.9:1");
    }

    @Test
    void aBadSeedInTheStringIsNamedWithItsKey(@TempDir Path dir) throws IOException {
        Path conf = Files.writeString(dir.resolve("c.conf"), "pipelab.cluster.seeds = \"10.0.0.1:25520,,10.0.0.2\"\n");
        assertThatThrownBy(() -> of(conf, Optional.empty(), List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("--config: ")
                .hasMessageContaining("c.conf: 1: Invalid value at 'pipelab.cluster.seeds'")
                .hasMessageContaining("'' is not host:port in '10.0.0.1:25520,,10.0.0.2'");
    }

    @Test
    void aFileWithoutASeedsStringGivesItsSeedNodesHostAndPort() {
        Node.Options o = of(Path.of("..", "cluster-config", "loopback.conf"), Optional.empty(), List.of());
        assertThat(o.host()).isEqualTo("127.0.0.1");
        assertThat(o.port()).isEqualTo(25520);
        assertThat(o.seeds()).containsExactly("pekko://pipelab@127.0.0.1:25520");
    }

    @Test
    void multiHostNeedsPipelabHostOrTheHostFlag() {
        assumeTrue(System.getenv("PIPELAB_HOST") == null, "PIPELAB_HOST is set in this environment");
        assertThatThrownBy(() -> of(MULTI_HOST, Optional.empty(), List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("--config: ")
                .hasMessageContaining("multi-host.conf")
                .hasMessageContaining("${PIPELAB_HOST}");
        // the flag stands in for the variable: the file resolves under it
        Node.Options o = of(MULTI_HOST, Optional.of("10.0.0.5"), List.of());
        assertThat(o.host()).isEqualTo("10.0.0.5");
        // and so does the node's own config, which layers the flags over the file before resolving it
        assertThat(Node.config(o).getString("pekko.remote.artery.canonical.hostname")).isEqualTo("10.0.0.5");
    }

    @Test
    void multiHostMapsEachVariableOntoItsKey() {
        Config vars = ConfigFactory.parseMap(Map.of("PIPELAB_HOST", "10.1.2.3", "PIPELAB_PORT", "25600",
                "PIPELAB_BIND", "0.0.0.0", "PIPELAB_SEEDS", "10.1.2.1:25520,10.1.2.2:25520"));
        // a substitution looks in the config first, then in the environment: variables at the root stand in for it
        Config c = vars.withFallback(ConfigFactory.parseFile(MULTI_HOST.toFile())).resolve();
        assertThat(c.getString("pekko.remote.artery.canonical.hostname")).isEqualTo("10.1.2.3");
        assertThat(c.getInt("pekko.remote.artery.canonical.port")).isEqualTo(25600);
        assertThat(c.getString("pekko.remote.artery.bind.hostname")).isEqualTo("0.0.0.0");
        assertThat(c.getString("pipelab.cluster.seeds")).isEqualTo("10.1.2.1:25520,10.1.2.2:25520");
    }

    @Test
    void multiHostDefaultsArePort25520BindOnTheHostAndNoSeeds() {
        assumeTrue(System.getenv("PIPELAB_PORT") == null && System.getenv("PIPELAB_BIND") == null
                && System.getenv("PIPELAB_SEEDS") == null, "a PIPELAB_* variable is set in this environment");
        Config c = ConfigFactory.parseMap(Map.of("PIPELAB_HOST", "10.1.2.3"))
                .withFallback(ConfigFactory.parseFile(MULTI_HOST.toFile())).resolve();
        assertThat(c.getInt("pekko.remote.artery.canonical.port")).isEqualTo(25520);
        assertThat(c.getString("pekko.remote.artery.bind.hostname")).as("Artery's '' = the canonical hostname").isEmpty();
        assertThat(c.getString("pipelab.cluster.seeds")).isEmpty();
        Node.Options o = of(MULTI_HOST, Optional.of("10.1.2.3"), List.of());
        assertThat(o.port()).isEqualTo(25520);
        assertThat(o.seeds()).isEmpty();
    }
}
