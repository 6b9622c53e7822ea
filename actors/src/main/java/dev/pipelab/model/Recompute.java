package dev.pipelab.model;

import java.util.Optional;

/**
 * Activation recomputation policy (Korthikanti et al. 2022, "Reducing Activation Recomputation in
 * Large Transformer Models"). Invariant: each constant has exactly one scenario name.
 */
public enum Recompute {
    /** Keep every activation the backward pass needs (§4, eq. 1). */
    NONE("none"),
    /** Recompute only the attention core (softmax, dropout, attention over V); §5. */
    SELECTIVE("selective"),
    /** Keep only each layer's input and re-run its forward before the backward; §2 / §5. */
    FULL("full");

    private final String scenarioName;

    Recompute(String scenarioName) {
        this.scenarioName = scenarioName;
    }

    /** The name used in scenario files: {@code none}, {@code selective}, {@code full}. */
    public String scenarioName() {
        return scenarioName;
    }

    /** The policy named {@code name} in a scenario file (exact, lower case), or empty. */
    public static Optional<Recompute> parse(String name) {
        for (Recompute r : values()) {
            if (r.scenarioName.equals(name)) return Optional.of(r);
        }
        return Optional.empty();
    }
}
