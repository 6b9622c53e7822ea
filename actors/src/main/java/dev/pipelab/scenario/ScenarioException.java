package dev.pipelab.scenario;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A scenario that cannot be used, with every problem found at once: {@link #errors()} is never empty.
 *
 * <p>Unchecked because a bad file is the user's mistake, reported by the CLI as one line per error and exit
 * code 2, not a condition callers recover from; {@link #getMessage()} is those lines joined by newlines.
 */
public final class ScenarioException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final transient List<ScenarioError> errors;

    public ScenarioException(List<ScenarioError> errors) {
        super(render(errors), null, false, false);
        this.errors = List.copyOf(errors);
    }

    /** The problems, in file order (errors without a position last). */
    public List<ScenarioError> errors() {
        return errors;
    }

    private static String render(List<ScenarioError> errors) {
        if (errors.isEmpty()) {
            throw new IllegalArgumentException("a ScenarioException needs at least one error, got none");
        }
        return errors.stream().map(ScenarioError::toString).collect(Collectors.joining("\n"));
    }
}
