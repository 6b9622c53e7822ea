/**
 * A pipeline rank of one replica: the pure {@link dev.pipelab.stage.StageProgram} (its row of the schedule and
 * the routing of its messages) and {@link dev.pipelab.stage.StageState} (the start-time rule, memory, in-flight,
 * the collective channel, the optimizer step, and the rank's own record of each step), and the
 * {@link dev.pipelab.stage.Stage} actor that moves their messages.
 */
package dev.pipelab.stage;
