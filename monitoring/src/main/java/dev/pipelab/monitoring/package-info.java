/**
 * Observing pipelab: telemetry events (plain records) and what consumes them. This module depends on no
 * Pekko class, so that recorded or synthetic event streams can be analysed without an actor system.
 */
package dev.pipelab.monitoring;
