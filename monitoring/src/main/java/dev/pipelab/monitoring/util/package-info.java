/** Small primitive collections the live consumers (dashboard state, metrics) share; internal to pipelab. */
package dev.pipelab.monitoring.util;
