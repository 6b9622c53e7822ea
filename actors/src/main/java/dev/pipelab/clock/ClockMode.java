package dev.pipelab.clock;

/** How emulated time relates to wall time: {@code VIRTUAL} runs as fast as messages flow, {@code WALL} uses timers. */
public enum ClockMode { VIRTUAL, WALL }
