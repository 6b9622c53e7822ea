package dev.pipelab.cli;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Points the {@code pipelab.home} system property (where {@code pipelab cluster} keeps its state) at a fresh
 * temporary folder for each test, and restores the property and removes the folder after it. Register with
 * {@code @RegisterExtension final TempHome home = new TempHome();}.
 */
final class TempHome implements BeforeEachCallback, AfterEachCallback {

    private Path path;
    private String previous;

    @Override
    public void beforeEach(ExtensionContext context) throws IOException {
        path = Files.createTempDirectory("pipelab-home");
        previous = System.getProperty("pipelab.home");
        System.setProperty("pipelab.home", path.toString());
    }

    @Override
    public void afterEach(ExtensionContext context) throws IOException {
        if (previous == null) System.clearProperty("pipelab.home");
        else System.setProperty("pipelab.home", previous);
        try (Stream<Path> files = Files.walk(path)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }

    /** Where {@code pipelab cluster} keeps this test's state and logs. */
    Path clusterDirectory() {
        return path.resolve(".pipelab").resolve("cluster");
    }
}
