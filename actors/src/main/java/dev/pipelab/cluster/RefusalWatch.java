package dev.pipelab.cluster;

import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.eventstream.EventStream;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.event.Logging;

import java.util.function.Consumer;

/**
 * Reads the node's warnings and errors off the event stream and hands every {@link Refusal} among them to
 * {@code sink}. Pekko says that it refused a node, or that a TLS handshake failed, only in its log; this is how a
 * pipelab node notices and says so itself. Invariant: a log event is looked at once and never changed or consumed
 * (the SLF4J logger still prints it).
 */
final class RefusalWatch {

    private RefusalWatch() {}

    static Behavior<Logging.LogEvent> create(Consumer<Refusal> sink) {
        return Behaviors.setup(ctx -> {
            ctx.getSystem().eventStream().tell(new EventStream.Subscribe<>(Logging.LogEvent.class, ctx.getSelf()));
            return Behaviors.receive(Logging.LogEvent.class)
                    .onMessage(Logging.LogEvent.class, e -> onLogEvent(e, sink))
                    .build();
        });
    }

    private static Behavior<Logging.LogEvent> onLogEvent(Logging.LogEvent e, Consumer<Refusal> sink) {
        if (e.level() <= Logging.WarningLevel() && e.message() != null) Refusal.parse(e.message().toString()).ifPresent(sink);
        return Behaviors.same();
    }
}
