/** {@code report.html}: the self-contained page of a finished run. */
package dev.pipelab.monitoring.report;
