package dev.pipelab.plan;

import java.util.List;

/**
 * A scenario that is well-formed but cannot be planned (more stages than layers, a schedule that does not
 * validate, ...). Invariant: {@link #problems()} holds one line per problem, each starting with the key
 * path it concerns ({@code parallelism.pipeline: 100 stages exceed the model's 80 layers}); a schedule
 * problem carries the rendered grid in {@link #detail()}.
 */
public final class PlanningException extends RuntimeException {

    private final List<String> problems;
    private final String detail;

    public PlanningException(List<String> problems, String detail) {
        super(String.join("\n", problems) + (detail.isEmpty() ? "" : "\n" + detail));
        this.problems = List.copyOf(problems);
        this.detail = detail;
    }

    public PlanningException(List<String> problems) {
        this(problems, "");
    }

    public List<String> problems() {
        return problems;
    }

    /** Extra text for the user, such as a schedule grid with the offending cells marked; may be empty. */
    public String detail() {
        return detail;
    }
}
