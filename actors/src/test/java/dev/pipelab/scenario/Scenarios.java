package dev.pipelab.scenario;

import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.List;

/** Test helpers: scenario files on the test class path, and errors as one comparable line each. */
final class Scenarios {

    private Scenarios() {}

    static Path file(String relative) {
        URL url = Scenarios.class.getResource("/scenarios/" + relative);
        if (url == null) {
            throw new IllegalArgumentException("no test scenario /scenarios/" + relative);
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code line:column: path: message}, the file name left out. */
    static String where(ScenarioError e) {
        return e.line() + ":" + e.column() + ": " + e.path() + ": " + e.message();
    }

    static List<String> errorsOf(Runnable load) {
        ScenarioException e = catchThrowableOfType(ScenarioException.class, load::run);
        if (e == null) {
            throw new AssertionError("expected a ScenarioException, but the scenario loaded");
        }
        return e.errors().stream().map(Scenarios::where).toList();
    }
}
