package dev.pipelab.protocol;

/**
 * Marker of every message that may cross a node boundary: bound to Pekko's {@code jackson-cbor} serializer in
 * {@code pipelab.conf}. Invariant: every actor message of the runtime (commands, replies, deliveries, credits,
 * ring chunks, probes, timer ticks) implements it, and tests run with {@code serialize-messages = on}.
 */
public interface CborSerializable {}
