/**
 * Links between stages: the pure {@link dev.pipelab.link.CreditWindow} (credit bookkeeping, stalls) and
 * {@link dev.pipelab.link.LinkState} (FIFO timing), and the {@link dev.pipelab.link.Link} actor that carries
 * activations, gradients and all-reduce ring chunks with their arrival time in the message.
 */
package dev.pipelab.link;
