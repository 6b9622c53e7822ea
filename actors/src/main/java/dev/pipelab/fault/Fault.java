package dev.pipelab.fault;

/**
 * One fault of a run, as the scenario or {@code --fault} gives it. It is injected when training step {@code atStep}
 * first starts, {@code atSeconds} of emulated time into it, and lasts {@code durationSeconds} of emulated time
 * ({@code +Infinity}: it never heals; an instant kind ignores it), unless {@code healAtStep >= 0}: then it heals
 * {@code healAtSeconds} into the first start of training step {@code healAtStep}. {@code value} is the kind's
 * parameter ({@link FaultKind#parameter()}; 0 for a kind without one), {@code seed} seeds the choice of targets and
 * the coin flips of {@code link.loss} and {@code link.duplicate}, and {@code where} names the entry for messages
 * ({@code faults[2]}, {@code --fault #1}).
 */
public record Fault(FaultKind kind, FaultTarget target, int atStep, double atSeconds, double durationSeconds, int healAtStep,
                    double healAtSeconds, double value, long seed, String where) {

    public Fault {
        if (kind == null) throw new IllegalArgumentException("kind must be given");
        if (target == null) throw new IllegalArgumentException("target must be given");
        if (atStep < 0) throw new IllegalArgumentException("atStep must be >= 0, got " + atStep);
        if (!(atSeconds >= 0) || Double.isInfinite(atSeconds)) throw new IllegalArgumentException("atSeconds must be finite and >= 0, got " + atSeconds);
        if (!(durationSeconds >= 0)) throw new IllegalArgumentException("durationSeconds must be >= 0, got " + durationSeconds);
        if (healAtStep >= 0 && (healAtStep < atStep || healAtStep == atStep && healAtSeconds < atSeconds)) {
            throw new IllegalArgumentException("the heal must come after the injection");
        }
        if (where == null) where = "fault";
    }

    /** A fault that lasts {@code durationSeconds} from its injection. */
    public static Fault of(FaultKind kind, FaultTarget target, int atStep, double atSeconds, double durationSeconds, double value,
                           long seed, String where) {
        return new Fault(kind, target, atStep, atSeconds, durationSeconds, -1, 0, value, seed, where);
    }

    /** The same fault on {@code concrete} (a choice resolved). */
    public Fault on(FaultTarget concrete) {
        return new Fault(kind, concrete, atStep, atSeconds, durationSeconds, healAtStep, healAtSeconds, value, seed, where);
    }

    /** Whether it heals at an explicit point rather than after a duration. */
    public boolean healsExplicitly() {
        return healAtStep >= 0;
    }

    /** The written form, as {@code --fault} takes it ({@code FaultSyntax.parse} reads it back to an equal fault). */
    public String describe() {
        StringBuilder b = new StringBuilder(kind.key()).append(' ').append(target).append(" at=").append(atStep);
        if (atSeconds > 0) b.append('+').append(atSeconds);
        if (!kind.instant()) {
            if (healsExplicitly()) b.append(" heal=").append(healAtStep).append(healAtSeconds > 0 ? "+" + healAtSeconds : "");
            else if (Double.isFinite(durationSeconds)) b.append(" for=").append(durationSeconds);
        }
        kind.parameter().ifPresent(p -> b.append(' ').append(p.name()).append('=').append(value));
        if (seed != 0) b.append(" seed=").append(seed);
        return b.toString();
    }
}
