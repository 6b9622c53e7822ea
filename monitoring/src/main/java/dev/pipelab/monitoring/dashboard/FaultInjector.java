package dev.pipelab.monitoring.dashboard;

import java.util.Map;
import java.util.Optional;

/**
 * Breaks a live run on request: what {@code POST /api/faults} hands its body to. Invariant: an entry is either taken
 * whole (empty answer: the fault will be injected) or refused with the reason and nothing changes.
 *
 * <p>The entry has the fields of a scenario's {@code faults:} entry ({@code kind}, {@code target}, {@code atStep},
 * {@code atSeconds}, {@code durationSeconds}, the kind's parameter, ...), as parsed from JSON: strings, numbers
 * ({@link Integer}, {@link Long}, {@link Double}), booleans, nested maps and lists. An entry without {@code atStep}
 * means now: the implementation picks the running step and the current emulated time. The dashboard's module knows
 * nothing of faults; the runtime implements this (a virtual-time run, which cannot be broken while it runs, has none).
 */
@FunctionalInterface
public interface FaultInjector {

    /** Injects {@code entry}, or says why not, one line per problem ({@code target: ...}). */
    Optional<String> inject(Map<String, Object> entry);
}
