/**
 * The live dashboard: {@link dev.pipelab.monitoring.dashboard.DashboardState} keeps what each step summary shows,
 * {@link dev.pipelab.monitoring.dashboard.DashboardServer} serves the page, {@code /api/state}, {@code /events} and
 * {@code /metrics} over the JDK's HTTP server. The page's assets live in {@code dev/pipelab/dashboard/} on the
 * classpath.
 */
package dev.pipelab.monitoring.dashboard;
