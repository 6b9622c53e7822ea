package dev.pipelab.monitoring;

/**
 * Where telemetry goes. Invariant: implementations are thread-safe (actors on many threads emit) and cheap
 * enough to leave on; {@link #NONE} discards.
 */
@FunctionalInterface
public interface EventSink {

    void emit(Event event);

    EventSink NONE = event -> { };
}
