package dev.pipelab.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.apache.pekko.cluster.Invalid;
import org.apache.pekko.cluster.Valid;
import org.junit.jupiter.api.Test;
import scala.jdk.javaapi.CollectionConverters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** Which joining configs the seed lets in: the same cluster name and pipelab version, nothing else. */
class CompatibilityTest {

    private static Config node(String name, String version) {
        return ConfigFactory.parseMap(Map.of(Compatibility.NAME, name, Compatibility.VERSION, version));
    }

    private final Compatibility check = new Compatibility();

    @Test
    void requiresTheNameAndTheVersion() {
        assertThat(CollectionConverters.asJava(check.requiredKeys())).containsExactly(Compatibility.NAME, Compatibility.VERSION);
    }

    @Test
    void aNodeOfTheSameNameAndVersionIsLetIn() {
        assertThat(check.check(node("pipelab", "0.1.0"), node("pipelab", "0.1.0"))).isEqualTo(Valid.getInstance());
    }

    @Test
    void eachDifferingKeyIsOneReasonNamingBothValues() {
        assertThat(Compatibility.reasons(node("other", "0.1.0"), node("pipelab", "0.1.0")))
                .containsExactly("cluster name other differs from this cluster's pipelab");
        assertThat(Compatibility.reasons(node("pipelab", "0.0.9"), node("pipelab", "0.1.0")))
                .containsExactly("pipelab version 0.0.9 differs from this cluster's 0.1.0");
        Object both = check.check(node("other", "0.0.9"), node("pipelab", "0.1.0"));
        assertThat(both).isInstanceOf(Invalid.class);
        assertThat(CollectionConverters.asJava(((Invalid) both).errorMessages())).containsExactly(
                "cluster name other differs from this cluster's pipelab", "pipelab version 0.0.9 differs from this cluster's 0.1.0");
    }

    @Test
    void aNodeWithoutTheKeysIsNotOneOfUs() {
        // e.g. a bare Pekko system named pipelab: Pekko sends only the keys the joining node has
        assertThat(Compatibility.reasons(ConfigFactory.empty(), node("pipelab", "0.1.0"))).containsExactly(
                "cluster name missing (no pipelab.cluster.name), this cluster's is pipelab",
                "pipelab version missing (no pipelab.version), this cluster's is 0.1.0");
    }

    @Test
    void everyNodeConfigCarriesTheDefaultNameTheJarVersionAndTheCheck() {
        Config c = Node.withDefaults(ConfigFactory.empty());
        assertThat(c.getString(Compatibility.NAME)).isEqualTo("pipelab");
        assertThat(c.getString(Compatibility.VERSION)).isEqualTo(Compatibility.jarVersion());
        assertThat(c.getString("pekko.cluster.configuration-compatibility-check.checkers.pipelab"))
                .isEqualTo(Compatibility.class.getName());
        assertThat(c.getBoolean("pekko.cluster.configuration-compatibility-check.enforce-on-join")).isTrue();
    }

    @Test
    void theFlagsNameWinsOverTheConfigFilesAndAConfigFileMayClaimAVersion() throws Exception {
        Path file = Files.createTempFile("other", ".conf");
        try {
            Files.writeString(file, "pipelab.cluster.name = from-file\npipelab.version = \"0.0.9\"\n");
            Node.Options fromFile = Node.Options.of(Node.Role.WORKER, Optional.of(file), Optional.empty(),
                    Optional.empty(), List.of(), 1, Optional.empty());
            assertThat(Node.config(fromFile).getString(Compatibility.NAME)).isEqualTo("from-file");
            assertThat(Node.config(fromFile).getString(Compatibility.VERSION)).isEqualTo("0.0.9");
            Node.Options flag = fromFile.withClusterName(Optional.of("from-flag"));
            assertThat(Node.config(flag).getString(Compatibility.NAME)).isEqualTo("from-flag");
        } finally {
            Files.delete(file);
        }
    }
}
