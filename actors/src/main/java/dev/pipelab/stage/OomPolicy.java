package dev.pipelab.stage;

/** What a rank whose live memory would exceed the device's does: fail the run, or only warn (emit the event). */
public enum OomPolicy { FAIL, WARN }
