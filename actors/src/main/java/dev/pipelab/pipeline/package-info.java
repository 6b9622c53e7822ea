/**
 * Running a plan: {@link dev.pipelab.pipeline.Emulator} (the blocking entry point and the behaviour factories every
 * node's host spawns from), the {@link dev.pipelab.pipeline.Trainer} coordinator (steps, deadlock detection by message
 * counting with the pure {@link dev.pipelab.pipeline.Quiescence}, and the one place that emits telemetry: each step's
 * records from every stage and link, assembled once), one {@link dev.pipelab.pipeline.Pipeline} per data-parallel
 * replica with its {@link dev.pipelab.pipeline.DataLoader}, the {@link dev.pipelab.pipeline.TelemetryChoice} of a
 * run's level, and the {@link dev.pipelab.pipeline.RunResult}.
 */
package dev.pipelab.pipeline;
