/**
 * What every actor package shares and nothing else: the {@link dev.pipelab.protocol.CborSerializable} marker every
 * message implements, the {@link dev.pipelab.protocol.Payload} bytes messages carry, and the {@link
 * dev.pipelab.protocol.Control} replies (quiescence probes, flushes) that stages and links give their coordinator. A
 * leaf: it imports no other actor package, so protocols never reach upward.
 */
package dev.pipelab.protocol;
