package dev.pipelab.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.apache.pekko.cluster.ConfigValidation;
import org.apache.pekko.cluster.Invalid;
import org.apache.pekko.cluster.JoinConfigCompatChecker;
import org.apache.pekko.cluster.Valid;
import scala.collection.immutable.Seq;
import scala.jdk.javaapi.CollectionConverters;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * Which nodes belong to one pipelab cluster: a node joins only where its {@value #NAME} and {@value #VERSION} equal
 * the cluster's. Pekko runs this checker on the seed that a joining node asks ({@code InitJoin}, so only a join
 * through seed nodes is checked, which is how {@link Node#start} joins): the seed logs the reasons and answers
 * "incompatible", and the joining node shuts itself down ({@code IncompatibleConfigurationDetectedReason}). Registered
 * in pipelab.conf under {@code pekko.cluster.configuration-compatibility-check.checkers}.
 */
public final class Compatibility extends JoinConfigCompatChecker {

    /** The config key naming the cluster a node belongs to (default {@value #DEFAULT_NAME}, flag --cluster-name). */
    public static final String NAME = "pipelab.cluster.name";

    /**
     * The config key carrying the pipelab version a node runs: the jar's, unless a system property or config file
     * claims another (tests do, to start a node of "another version").
     */
    public static final String VERSION = "pipelab.version";

    public static final String DEFAULT_NAME = "pipelab";

    /** Pekko instantiates checkers by reflection, with no arguments. */
    public Compatibility() {}

    private static final String JAR_VERSION = readJarVersion();

    /** The version in the jar's manifest (Implementation-Version), or {@code dev} when run from classes. */
    public static String jarVersion() {
        return JAR_VERSION;
    }

    /**
     * The Implementation-Version of the jar this class was loaded from. Not {@code Package.getImplementationVersion}:
     * a package's attributes come from whichever class of it loads first, and a test's class of the same package from
     * test-classes (no manifest) made the test JVM say {@code dev} where its node processes, on the same class path,
     * said the jar's version, and refused each other.
     */
    private static String readJarVersion() {
        try {
            CodeSource source = Compatibility.class.getProtectionDomain().getCodeSource();
            if (source == null || !source.getLocation().getPath().endsWith(".jar")) return "dev";
            try (JarFile jar = new JarFile(Path.of(source.getLocation().toURI()).toFile())) {
                Manifest m = jar.getManifest();
                String v = m == null ? null : m.getMainAttributes().getValue(Attributes.Name.IMPLEMENTATION_VERSION);
                return v == null ? "dev" : v;
            }
        } catch (IOException | URISyntaxException | RuntimeException e) {
            return "dev";
        }
    }

    /** {@value #VERSION} = {@link #jarVersion()}: the fallback under every node's config. */
    public static Config defaults() {
        return ConfigFactory.parseMap(Map.of(VERSION, jarVersion()));
    }

    @Override
    public Seq<String> requiredKeys() {
        return CollectionConverters.asScala(List.of(NAME, VERSION)).toList();
    }

    /**
     * Valid when {@code joining} (the keys the joining node sent) has both keys equal to {@code cluster}'s (this
     * node's); otherwise one reason per differing key, worded for the seed's log.
     */
    @Override
    public ConfigValidation check(Config joining, Config cluster) {
        List<String> reasons = reasons(joining, cluster);
        return reasons.isEmpty() ? Valid.getInstance() : new Invalid(CollectionConverters.asScala(reasons).toList());
    }

    /** The reasons {@link #check} gives, as sentences: {@code pipelab version 0.0.9 differs from 0.1.0}. */
    public static List<String> reasons(Config joining, Config cluster) {
        List<String> reasons = new ArrayList<>();
        compare("cluster name", NAME, joining, cluster).ifPresent(reasons::add);
        compare("pipelab version", VERSION, joining, cluster).ifPresent(reasons::add);
        return reasons;
    }

    private static Optional<String> compare(String what, String key, Config joining, Config cluster) {
        String ours = cluster.hasPath(key) ? cluster.getString(key) : "(none)";
        // a node without the key is not a pipelab node of this kind (an older pipelab, a bare Pekko system)
        if (!joining.hasPath(key)) return Optional.of(what + " missing (no " + key + "), this cluster's is " + ours);
        String theirs = joining.getString(key);
        if (!theirs.equals(ours)) return Optional.of(what + " " + theirs + " differs from this cluster's " + ours);
        return Optional.empty();
    }
}
