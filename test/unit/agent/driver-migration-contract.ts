import { randomUUID } from 'node:crypto';
import type { ExecutionContext, TestFn } from 'ava';
import { DriverError, type HypervisorDriver } from '../../../agent/hypervisor/driver.js';
import type { CommandErrorKind, DiskDevice, MigrationProgress, MigrationTarget, StorageSpec, VmSpec } from '../../../shared/model.js';
import { eventually } from '../../support/eventually.js';

/** Two hosts of one kind of driver, the source and the destination of migrations, as a test sees them. */
export interface MigrationHosts {
  readonly source: HypervisorDriver;
  readonly destination: HypervisorDriver;
  /**
   * A new managed domain running on the source, and a target that migrates
   * it to the destination: in a few seconds at most, or, when slow, in long
   * enough (tens of seconds) to be watched and aborted.
   */
  migration(options?: { slow?: boolean }): Promise<{ spec: VmSpec; target: MigrationTarget }>;
  /** A new managed domain defined (shut off) on the source. */
  defined(): Promise<VmSpec>;
  /** A destination URI at which no hypervisor answers. */
  readonly unreachableUri: string;
  /** A new storage domain whose directory exists on the destination. */
  destinationStorage(): Promise<StorageSpec>;
}

export interface MigrationFixture {
  /** Prefixes every test's title. */
  title: string;
  /** Whether the tests must run one at a time (real hypervisors on a small machine). */
  serial: boolean;
  hosts(t: ExecutionContext): Promise<MigrationHosts>;
}

async function rejection(t: ExecutionContext, promise: Promise<unknown>, kind: CommandErrorKind): Promise<DriverError> {
  const error = await t.throwsAsync(promise);
  t.true(error instanceof DriverError, String(error));
  t.is((error as DriverError).kind, kind, error?.message);
  return error as DriverError;
}

/** Samples the source's migration job of the domain every 20 ms until `until` settles. */
function sampleWhile(driver: HypervisorDriver, uuid: string, until: Promise<unknown>): Promise<MigrationProgress[]> {
  const samples: MigrationProgress[] = [];
  let done = false;
  void until.then(
    () => (done = true),
    () => (done = true),
  );
  return (async () => {
    while (!done) {
      const sample = await driver.migrationJob!(uuid).catch(() => undefined);
      if (sample && !done) samples.push(sample);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return samples;
  })();
}

/** The migration methods of HypervisorDriver (see their doc comments), for any driver that has them. */
export function driverMigrationContract(test: TestFn<unknown>, fixture: MigrationFixture): void {
  const it = fixture.serial ? test.serial : test;
  const title = (text: string) => `${fixture.title}: ${text}`;

  it(title('migrate moves a running domain: the destination holds a paused copy with the migration id while the job reports progress here, then runs it, persistent, and it is gone here'), async (t) => {
    const hosts = await fixture.hosts(t);
    const { source, destination } = hosts;
    const { spec, target } = await hosts.migration();
    t.is(await source.migrationIdOf!(spec.id), undefined, 'no migration id before a migration');
    t.is(await source.migrationJob!(spec.id), undefined, 'no job before a migration');
    const migrating = source.migrate!(spec.id, target);
    const samples = sampleWhile(source, spec.id, migrating);
    const incoming = eventually(async () => {
      const copy = await destination.getDomain(spec.id);
      return copy?.state === 'paused' ? { copy, migrationId: await destination.migrationIdOf!(spec.id) } : undefined;
    }, 'the paused copy on the destination', 60_000);
    t.is(await migrating, undefined, 'the domain left the source');
    const seen = await samples;
    t.true(seen.some((sample) => sample.dataTotalBytes > 0 && sample.elapsedMs >= 0), `progress with data was reported: ${JSON.stringify(seen)}`);
    const copy = await incoming;
    t.is(copy.migrationId, target.migrationId, 'the incoming copy carries the migration id');
    t.true(copy.copy.managed);
    const arrived = await destination.getDomain(spec.id);
    t.is(arrived?.state, 'running');
    t.true(arrived?.managed);
    t.is(await destination.migrationIdOf!(spec.id), target.migrationId);
    t.is(await source.getDomain(spec.id), undefined);
    t.is(await source.migrationJob!(spec.id), undefined);
    t.is(await destination.migrationJob!(spec.id), undefined, 'the destination runs no outgoing migration job');
    await rejection(t, source.migrationIdOf!(spec.id), 'domain_not_found');
    await rejection(t, source.abortMigration!(spec.id), 'domain_not_found');
    await rejection(t, destination.abortMigration!(spec.id), 'invalid_state');
  });

  it(title('abortMigration aborts a migration under way: migrate rejects with hypervisor_failure, the domain runs here with the migration id, and the destination has no copy'), async (t) => {
    const hosts = await fixture.hosts(t);
    const { source, destination } = hosts;
    const { spec, target } = await hosts.migration({ slow: true });
    const migrating = source.migrate!(spec.id, target);
    migrating.catch(() => undefined);
    await eventually(async () => ((await source.migrationJob!(spec.id))?.dataTotalBytes ?? 0) > 0, 'the migration to move data', 60_000);
    await source.abortMigration!(spec.id);
    await rejection(t, migrating, 'hypervisor_failure');
    t.is((await source.getDomain(spec.id))?.state, 'running');
    t.is(await source.migrationIdOf!(spec.id), target.migrationId, 'migrate wrote the migration id before the migration began');
    t.is(await source.migrationJob!(spec.id), undefined, 'no job is left');
    t.is(await destination.getDomain(spec.id), undefined, 'the destination dropped its copy');
    await rejection(t, source.abortMigration!(spec.id), 'invalid_state');
  });

  it(title('migrate refuses a domain that is not running with invalid_state, and a missing one with domain_not_found, moving nothing'), async (t) => {
    const hosts = await fixture.hosts(t);
    const { source, destination } = hosts;
    const { target } = await hosts.migration();
    const spec = await hosts.defined();
    await rejection(t, source.migrate!(spec.id, target), 'invalid_state');
    t.is((await source.getDomain(spec.id))?.state, 'shutoff');
    t.is(await destination.getDomain(spec.id), undefined);
    await rejection(t, source.migrate!(randomUUID(), target), 'domain_not_found');
  });

  it(title('a migration to a destination where no hypervisor answers fails with hypervisor_failure, the domain still running here'), async (t) => {
    const hosts = await fixture.hosts(t);
    const { spec, target } = await hosts.migration();
    await rejection(t, hosts.source.migrate!(spec.id, { ...target, destinationUri: hosts.unreachableUri }), 'hypervisor_failure');
    t.is((await hosts.source.getDomain(spec.id))?.state, 'running');
    t.is(await hosts.source.migrationJob!(spec.id), undefined);
  });

  it(title('without a migration, migrationJob is undefined, abortMigration is invalid_state and migrationIdOf undefined; for a missing domain they are undefined, domain_not_found and domain_not_found'), async (t) => {
    const hosts = await fixture.hosts(t);
    const { spec } = await hosts.migration();
    const { source } = hosts;
    t.is(await source.migrationJob!(spec.id), undefined);
    await rejection(t, source.abortMigration!(spec.id), 'invalid_state');
    t.is(await source.migrationIdOf!(spec.id), undefined);
    t.is((await source.getDomain(spec.id))?.state, 'running', 'the refused abort changed nothing');
    const missing = randomUUID();
    t.is(await source.migrationJob!(missing), undefined);
    await rejection(t, source.abortMigration!(missing), 'domain_not_found');
    await rejection(t, source.migrationIdOf!(missing), 'domain_not_found');
  });

  it(title('prepareIncoming prepares the storage domains of the spec and defines nothing; repeating it is harmless'), async (t) => {
    const hosts = await fixture.hosts(t);
    const storage = await hosts.destinationStorage();
    const diskId = randomUUID();
    const disk: DiskDevice = { diskId, volume: { storage, volumeId: diskId, format: 'qcow2' }, bus: 'virtio', bootable: true, readOnly: false };
    const { spec } = await hosts.migration();
    const incoming = { ...spec, disks: [disk] };
    await hosts.destination.prepareIncoming!(incoming);
    await hosts.destination.prepareIncoming!(incoming);
    t.true((await hosts.destination.storageUsage()).some((usage) => usage.storageId === storage.id), 'the storage domain is prepared');
    t.is(await hosts.destination.getDomain(spec.id), undefined, 'nothing is defined');
  });
}
