package dev.pipelab.numerics;

/**
 * An element-wise nonlinearity and its derivative; each constant has exactly one scenario name. Transcendental
 * functions use {@link StrictMath} so that every JVM computes the same bits.
 */
public enum Activation {
    /** max(0, x); derivative 0 at x = 0. */
    RELU("relu"),
    /** tanh(x). */
    TANH("tanh"),
    /**
     * GELU, tanh approximation (Hendrycks and Gimpel 2016, "Gaussian Error Linear Units", §2):
     * {@code 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))}.
     */
    GELU("gelu");

    private static final double SQRT_2_OVER_PI = StrictMath.sqrt(2.0 / StrictMath.PI);
    private static final double GELU_CUBIC = 0.044715;

    private final String scenarioName;

    Activation(String scenarioName) {
        this.scenarioName = scenarioName;
    }

    public String scenarioName() {
        return scenarioName;
    }

    /** The activation a scenario names, or an exception naming the choices. */
    public static Activation parse(String name) {
        for (Activation a : values()) if (a.scenarioName.equals(name)) return a;
        throw new IllegalArgumentException("unknown activation '" + name + "': expected relu, tanh or gelu");
    }

    public double apply(double x) {
        return switch (this) {
            case RELU -> x > 0 ? x : 0.0;
            case TANH -> StrictMath.tanh(x);
            case GELU -> 0.5 * x * (1 + StrictMath.tanh(SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x)));
        };
    }

    public double derivative(double x) {
        return switch (this) {
            case RELU -> x > 0 ? 1.0 : 0.0;
            case TANH -> {
                double t = StrictMath.tanh(x);
                yield 1 - t * t;
            }
            case GELU -> {
                double u = SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x);
                double t = StrictMath.tanh(u);
                double du = SQRT_2_OVER_PI * (1 + 3 * GELU_CUBIC * x * x);
                yield 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du;
            }
        };
    }
}
