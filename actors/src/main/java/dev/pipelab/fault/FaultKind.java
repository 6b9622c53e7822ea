package dev.pipelab.fault;

import java.util.Arrays;
import java.util.Optional;

/**
 * What breaks. The names follow the vocabulary of fault-injection tools (Toxiproxy's toxics, Chaos Mesh's experiments,
 * Jepsen's nemeses): a stage (one rank of one replica), a link (one direction between two ranks, or a ring link between
 * replicas), or a node (a worker JVM, cluster runs only). Each kind has at most one parameter, with a default and a
 * range ({@link #parameter()}).
 */
public enum FaultKind {
    /** The stage's actor throws at the moment; its supervisor restarts it empty (device memory lost). */
    STAGE_CRASH("stage.crash", Target.STAGE, true, null, 0, 0, 0),
    /** A straggler: the stage's compute takes {@code factor} times as long while the fault lasts. */
    STAGE_SLOWDOWN("stage.slowdown", Target.STAGE, false, "factor", 2.0, 1.0, Double.POSITIVE_INFINITY),
    /** Another tenant takes {@code fraction} of the device's memory while the fault lasts (the OOM path can fire). */
    STAGE_MEMORY_PRESSURE("stage.memory_pressure", Target.STAGE, false, "fraction", 0.5, 0.0, 1.0),
    /** Every message on the link takes {@code seconds} longer to arrive. */
    LINK_LATENCY("link.latency", Target.LINK, false, "seconds", 0.001, 0.0, Double.POSITIVE_INFINITY),
    /** The link's bandwidth is multiplied by {@code factor} (≤ 1). */
    LINK_BANDWIDTH("link.bandwidth", Target.LINK, false, "factor", 0.1, 0.0, 1.0),
    /** Each transmission on the link is really dropped with {@code probability}; the sender retransmits on timeout. */
    LINK_LOSS("link.loss", Target.LINK, false, "probability", 0.01, 0.0, 1.0),
    /** Each message on the link is really delivered twice with {@code probability}; the receiver drops the copy. */
    LINK_DUPLICATE("link.duplicate", Target.LINK, false, "probability", 0.01, 0.0, 1.0),
    /** The link carries nothing while the fault lasts; the sender retransmits until it heals or gives up. */
    LINK_PARTITION("link.partition", Target.LINK, false, null, 0, 0, 0),
    /** A worker JVM is killed ({@code kill -9}): cluster runs only. */
    NODE_KILL("node.kill", Target.NODE, true, null, 0, 0, 0),
    /** A worker JVM is stopped (SIGSTOP) for the fault's duration, then continued (SIGCONT): cluster runs only. */
    NODE_PAUSE("node.pause", Target.NODE, false, null, 0, 0, 0);

    /** What a kind breaks. */
    public enum Target { STAGE, LINK, NODE }

    /**
     * A kind's parameter: its name in scenario files and on the command line, its default, and its range: a value must be
     * finite, {@code > min} and {@code <= max} (a slowdown factor above 1, a probability or fraction in (0, 1]).
     */
    public record Parameter(String name, double defaultValue, double min, double max) {

        /** Whether {@code value} is in the range: finite, {@code > min}, {@code <= max}. */
        public boolean allows(double value) {
            return Double.isFinite(value) && value > min && value <= max;
        }

        /** The range as an error message gives it: {@code > 1}, {@code in (0, 1]}. */
        public String range() {
            return Double.isInfinite(max) ? "> " + number(min) : "in (" + number(min) + ", " + number(max) + "]";
        }

        private static String number(double v) {
            return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
        }
    }

    private final String key;
    private final Target target;
    private final boolean instant;
    private final Parameter parameter;

    FaultKind(String key, Target target, boolean instant, String parameter, double defaultValue, double min, double max) {
        this.key = key;
        this.target = target;
        this.instant = instant;
        this.parameter = parameter == null ? null : new Parameter(parameter, defaultValue, min, max);
    }

    /** The kind's name in scenario files, on the command line and in reports, e.g. {@code link.loss}. */
    public String key() { return key; }

    public Target target() { return target; }

    /** Whether the fault happens at an instant (a crash, a kill) rather than lasting a while. */
    public boolean instant() { return instant; }

    /** The kind's parameter, if it has one. */
    public Optional<Parameter> parameter() { return Optional.ofNullable(parameter); }

    /** The kind named {@code key}, if there is one. */
    public static Optional<FaultKind> of(String key) {
        return Arrays.stream(values()).filter(k -> k.key.equals(key)).findFirst();
    }

    /** Every kind's name, for error messages. */
    public static String keys() {
        return String.join(", ", Arrays.stream(values()).map(FaultKind::key).toList());
    }
}
