/**
 * What a run leaves behind: {@link dev.pipelab.monitoring.report.RunReport} (the content of {@code report.json},
 * written by {@link dev.pipelab.monitoring.report.ReportJson}), the terminal's summary table and text Gantt chart, and
 * {@code report.html}, the self-contained page of a finished run.
 */
package dev.pipelab.monitoring.report;
