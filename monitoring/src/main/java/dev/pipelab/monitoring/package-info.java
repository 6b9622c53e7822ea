/**
 * Observing pipelab: what each actor recorded of a step ({@link dev.pipelab.monitoring.StageRecord},
 * {@link dev.pipelab.monitoring.LinkRecord}), the step events that carry it, and the one
 * {@link dev.pipelab.monitoring.StepSummary} per step that every consumer reads
 * ({@link dev.pipelab.monitoring.RunTelemetry}). This module depends on no Pekko class, so that recorded or synthetic
 * streams can be analysed without an actor system.
 */
package dev.pipelab.monitoring;
