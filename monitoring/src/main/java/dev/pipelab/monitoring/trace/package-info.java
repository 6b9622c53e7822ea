/**
 * Perfetto / chrome://tracing output: {@link dev.pipelab.monitoring.trace.TraceWriter} streams a run's step records as Chrome
 * trace-event JSON, {@link dev.pipelab.monitoring.trace.TraceCheck} checks such a file's structure in tests.
 */
package dev.pipelab.monitoring.trace;
