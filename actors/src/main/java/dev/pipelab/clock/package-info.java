/**
 * The one source of time: {@link dev.pipelab.clock.VirtualClock} (deterministic, as fast as messages flow) and
 * {@link dev.pipelab.clock.WallClock} (emulated seconds scaled by a speed, durations as timers). Pure.
 */
package dev.pipelab.clock;
