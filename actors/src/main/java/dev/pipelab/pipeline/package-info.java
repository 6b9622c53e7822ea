/**
 * Running a plan: {@link dev.pipelab.pipeline.Emulator} (the blocking entry point), the
 * {@link dev.pipelab.pipeline.Trainer} coordinator (steps, deadlock detection by message counting with the pure
 * {@link dev.pipelab.pipeline.Quiescence}), one {@link dev.pipelab.pipeline.Pipeline} per data-parallel replica
 * with its {@link dev.pipelab.pipeline.DataLoader}, and the {@link dev.pipelab.pipeline.RunResult}.
 */
package dev.pipelab.pipeline;
