/**
 * Faults as data: what breaks ({@link dev.pipelab.fault.Fault}: a kind, a target, when, for how long), the choice of
 * targets a seeded {@code one}/{@code all}/{@code percent} resolves to, and the windows of emulated time in which a
 * fault acts inside one step ({@link dev.pipelab.fault.FaultWindow}), with the recovery settings a run is given
 * ({@link dev.pipelab.fault.RecoverySpec}). Pure: nothing here recovers anything; recovery lives in
 * {@code pipeline} (docs/faults.md).
 */
package dev.pipelab.fault;
