/** Prometheus metrics of a run (DESIGN §7), fed as an event sink and exposed in the text format. */
package dev.pipelab.monitoring.metrics;
