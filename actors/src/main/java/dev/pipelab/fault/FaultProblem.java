package dev.pipelab.fault;

/**
 * One problem with one fault entry: {@code where} names the entry ({@code faults[2]} in a scenario, {@code --fault #1}
 * on the command line, empty for the body of {@code POST /api/faults}), {@code key} the key or option inside it
 * ({@code kind}, {@code heal.atStep}, {@code at}), and {@code message} says what was expected and what came.
 */
public record FaultProblem(String where, String key, String message) {

    public FaultProblem {
        if (where == null || key == null || message == null) throw new IllegalArgumentException("where, key and message must be given");
    }

    /** The key path inside a scenario: {@code faults[2].kind}. */
    public String path() {
        return key.isEmpty() ? where : where.isEmpty() ? key : where + "." + key;
    }

    /**
     * The line a user reads: {@code faults[2].kind: ...} for a scenario entry, {@code --fault #1: at: ...} for an option,
     * {@code kind: ...} for a request body.
     */
    @Override
    public String toString() {
        String at = where.endsWith("]") || where.isEmpty() || key.isEmpty() ? path() : where + ": " + key;
        return at + ": " + message;
    }
}
