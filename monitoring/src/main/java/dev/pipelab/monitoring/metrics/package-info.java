/** Prometheus metrics of a run, updated from each step's summary and exposed in the text format. */
package dev.pipelab.monitoring.metrics;
