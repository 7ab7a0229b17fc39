import type { MigrationProgress, PowerState } from '../../shared/model.js';
import { activePowerStates } from './power-states.js';

/**
 * The states of one migration attempt: `preparing` (the destination is being
 * made ready; the source is untouched), `migrating` (the source was asked to
 * migrate, or may have been), then one of the ends: `succeeded` (the VM is
 * handed over to the destination), `failed` (it stays on the source) or
 * `cancelled` (stopped before the source began).
 */
export const migrationStates = ['preparing', 'migrating', 'succeeded', 'failed', 'cancelled'] as const;
export type MigrationState = (typeof migrationStates)[number];

export const openMigrationStates: ReadonlySet<MigrationState> = new Set(['preparing', 'migrating']);

/**
 * What one host of a migration says of the VM's domain, by an inspection:
 * `silent` when it cannot be asked (not responding, or its agent cannot
 * reach the hypervisor), `confirmed_down` when an administrator confirmed
 * the host is down (fence), and `reported` with what the host has: no
 * domain, or a domain in a power state, with the migration id its metadata
 * carries and whether a migration job of it runs there.
 */
export type HostWord =
  | { kind: 'silent'; why: string }
  | { kind: 'confirmed_down' }
  | { kind: 'reported'; domain?: { state: PowerState; migrationId?: string; jobActive: boolean } };

/** What the source's MIGRATE answered in this run of the controller: `ok`, `failed`, or unknown (not answered, or the controller restarted since). */
export type MigrateAnswer = 'ok' | 'failed' | undefined;

/**
 * What to do with an attempt: hand the VM over to the destination, end the
 * attempt with the VM on the source (first discarding the copy the attempt
 * left on the destination, when `discard`), or wait and ask again.
 */
export type Verdict = { verdict: 'succeeded'; why: string } | { verdict: 'failed'; discard: boolean; why: string } | { verdict: 'wait'; why: string };

/**
 * Decides a migration attempt on evidence only, never on an RPC's return
 * alone:
 * - it succeeded when the destination runs the domain with this attempt's id
 *   in its metadata, or when the source's MIGRATE succeeded and the source no
 *   longer has the domain (in libvirt's peer-to-peer protocol the source
 *   undefines it only after the destination confirmed it runs);
 * - it failed when the source runs the domain with no migration job and the
 *   destination has no running copy of this attempt (a paused one it left
 *   is discarded first), or when a host confirmed down held what the other
 *   host lacks;
 * - otherwise it waits: a migration job still runs, the destination is
 *   switching over, or a host that could hold the VM is silent. Nothing is
 *   resumed, started or destroyed while it waits.
 */
export function judgeMigration(attemptId: string, source: HostWord, destination: HostWord, migrate: MigrateAnswer): Verdict {
  const ours = (word: HostWord) => (word.kind === 'reported' && word.domain?.migrationId === attemptId ? word.domain : undefined);
  const arrived = ours(destination);
  if (arrived?.state === 'running') return { verdict: 'succeeded', why: 'the destination runs the VM' };

  if (source.kind === 'reported' && source.domain?.jobActive) return { verdict: 'wait', why: 'the migration job still runs on the source' };
  if (destination.kind === 'reported' && destination.domain?.jobActive) return { verdict: 'wait', why: 'the incoming migration job still runs on the destination' };

  const sourceGone = source.kind === 'confirmed_down' || (source.kind === 'reported' && !source.domain);
  const sourceActive = source.kind === 'reported' && source.domain !== undefined && activePowerStates.has(source.domain.state);
  const sourceStopped = source.kind === 'reported' && source.domain !== undefined && !sourceActive;

  if (source.kind === 'reported' && !source.domain && migrate === 'ok') {
    if (arrived && destination.kind === 'reported') return { verdict: 'wait', why: `the destination holds the VM ${arrived.state}, switching over` };
    return { verdict: 'succeeded', why: 'the source migrated the VM and no longer has it' };
  }
  if (destination.kind === 'silent') {
    return { verdict: 'wait', why: `the destination host cannot be asked (${destination.why}); nothing is done until it answers or is confirmed down` };
  }
  if (source.kind === 'silent') {
    return { verdict: 'wait', why: `the source host cannot be asked (${source.why}); nothing is done until it answers or is confirmed down` };
  }
  const leftover = arrived !== undefined;
  if (sourceActive || sourceStopped) return { verdict: 'failed', discard: leftover, why: sourceActive ? 'the VM still runs on the source' : 'the VM stopped on the source' };
  if (sourceGone) {
    if (source.kind === 'confirmed_down') return { verdict: 'failed', discard: leftover, why: 'the source host was confirmed down and the destination does not run the VM' };
    if (leftover) return { verdict: 'wait', why: `the destination holds the VM ${arrived.state}, switching over` };
    return { verdict: 'failed', discard: false, why: 'neither host has the VM any more' };
  }
  return { verdict: 'wait', why: 'the hosts have not told where the VM is' };
}

/** The deadline of a migration of `memoryBytes`: a base, and a budget per GiB of memory. */
export function migrationDeadlineMs(memoryBytes: number, settings: Pick<MigrationSettings, 'baseDeadlineMs' | 'deadlineMsPerGiB'>): number {
  return settings.baseDeadlineMs + Math.ceil((memoryBytes / 2 ** 30) * settings.deadlineMsPerGiB);
}

/** How migrations run; see controller/config.ts for the settings and their defaults. */
export interface MigrationSettings {
  /** How long a migration may make no progress before its source aborts it. */
  stallTimeoutMs: number;
  /** The time every migration may take, before the budget per GiB of memory. */
  baseDeadlineMs: number;
  deadlineMsPerGiB: number;
  /** A cap on each migration stream in MiB/s; 0 for none. */
  bandwidthMiBPerSecond: number;
}

/** The share of a migration's data sent, in whole percent: 0 before anything is known, never 100 before it ends. */
export function migrationPercent(progress: MigrationProgress | undefined): number {
  if (!progress || progress.dataTotalBytes <= 0) return 0;
  const done = progress.dataTotalBytes - progress.dataRemainingBytes;
  return Math.max(0, Math.min(99, Math.floor((done / progress.dataTotalBytes) * 100)));
}
