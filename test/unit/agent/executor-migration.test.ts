import { randomUUID } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { CommandExecutor } from '../../../agent/commands/executor.js';
import { CommandJournal } from '../../../agent/commands/journal.js';
import { FakeDriver } from '../../../agent/hypervisor/fake/driver.js';
import type { MigrationCommand, MigrationCommandKind, MigrationProgress, MigrationTarget, VmSpec } from '../../../shared/model.js';
import { eventually } from '../../support/eventually.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';
import { vmSpec } from './helpers.js';

interface Sample {
  commandId: string;
  vmId: string;
  progress: MigrationProgress;
}

async function setUp(t: ExecutionContext, source = new FakeDriver({ migrationUri: `qemu+fake://${randomUUID()}/system` })) {
  const destinationUri = `qemu+fake://${randomUUID()}/system`;
  const destination = new FakeDriver({ migrationUri: destinationUri });
  await source.open();
  await destination.open();
  const directory = await temporaryDirectory('executor-migration');
  const journal = await CommandJournal.open(directory.path);
  const samples: Sample[] = [];
  const executor = new CommandExecutor({
    driver: source,
    journal,
    shutdownTimeoutMs: 1_000,
    rebootTimeoutMs: 200,
    migrationPollMs: 10,
    onMigrationProgress: (commandId, vmId, progress) => samples.push({ commandId, vmId, progress }),
  });
  t.teardown(async () => {
    source.withdrawFromMigrations();
    destination.withdrawFromMigrations();
    await journal.close().catch(() => undefined);
    await directory.remove();
  });
  const target = (overrides: Partial<MigrationTarget> = {}): MigrationTarget => ({
    migrationId: randomUUID(),
    destinationUri,
    destinationAddress: 'kvm2.example.org',
    stallTimeoutMs: 5_000,
    deadlineMs: 60_000,
    sharedStorage: true,
    bandwidthMiBPerSecond: 0,
    ...overrides,
  });
  const running = async (): Promise<VmSpec> => {
    const spec = vmSpec();
    await source.start(spec.id, spec);
    return spec;
  };
  return { source, destination, journal, executor, samples, target, running };
}

function command(kind: MigrationCommandKind, vmId: string, extra: Partial<MigrationCommand> = {}): MigrationCommand {
  return { commandId: randomUUID(), taskId: randomUUID(), kind, vmId, ...extra };
}

test('migrate moves the domain, reports the job progress under the command id meanwhile, answers ok without a domain, and is journaled', async (t) => {
  const { source, destination, journal, executor, samples, target, running } = await setUp(t);
  source.migrationTiming = { steps: 20, stepMs: 10, totalBytes: 2 ** 30 };
  const spec = await running();
  const migrate = command('migrate', spec.id, { migration: target() });
  const outcome = await executor.execute(migrate);
  t.deepEqual(outcome, { ok: true, domain: undefined });
  t.true(samples.length > 0, 'progress was reported');
  t.true(samples.every((sample) => sample.commandId === migrate.commandId && sample.vmId === spec.id));
  t.true(samples.some((sample) => sample.progress.dataTotalBytes === 2 ** 30 && sample.progress.dataProcessedBytes > 0));
  t.is((await destination.getDomain(spec.id))?.state, 'running');
  t.is(await destination.migrationIdOf(spec.id), migrate.migration!.migrationId);
  t.deepEqual(journal.get(migrate.commandId), outcome);
  t.is(source.calls.migrate, 1);
});

test('a migration whose remaining data stops shrinking for the stall timeout is aborted and answered timed_out, the domain still running here', async (t) => {
  const { source, destination, executor, target, running } = await setUp(t);
  source.migrationTiming = { steps: 10, stepMs: 10, totalBytes: 2 ** 30 };
  const spec = await running();
  let stalled = false;
  const stallAfterProgress = setInterval(() => {
    void source.migrationJob(spec.id).then((job) => {
      if (job && job.dataProcessedBytes > 0 && !stalled) {
        stalled = true;
        source.stallMigrations();
      }
    });
  }, 5);
  t.teardown(() => clearInterval(stallAfterProgress));
  const outcome = await executor.execute(command('migrate', spec.id, { migration: target({ stallTimeoutMs: 150 }) }));
  t.false(outcome.ok);
  if (outcome.ok) return;
  t.is(outcome.error, 'timed_out');
  t.regex(outcome.message, /no progress for 150 ms/);
  t.is(outcome.domain?.state, 'running');
  t.is(source.calls.abortMigration, 1);
  t.is(await destination.getDomain(spec.id), undefined);
  t.is(await source.migrationJob(spec.id), undefined);
});

test('a migration still running at its deadline is aborted and answered timed_out', async (t) => {
  const { source, executor, target, running } = await setUp(t);
  source.migrationTiming = { steps: 100_000, stepMs: 10, totalBytes: 2 ** 40 };
  const spec = await running();
  const outcome = await executor.execute(command('migrate', spec.id, { migration: target({ deadlineMs: 200 }) }));
  t.false(outcome.ok);
  if (outcome.ok) return;
  t.is(outcome.error, 'timed_out');
  t.regex(outcome.message, /not completed after 200 ms/);
  t.is(outcome.domain?.state, 'running');
});

test('a migration the hypervisor will not abort any more is waited for, and its completion answered ok', async (t) => {
  const { source, destination, executor, target, running } = await setUp(t);
  source.migrationTiming = { steps: 20, stepMs: 10, totalBytes: 2 ** 30 };
  source.failNext('abortMigration', 'invalid_state', 'cannot abort migration: switching over');
  const spec = await running();
  const outcome = await executor.execute(command('migrate', spec.id, { migration: target({ deadlineMs: 50 }) }));
  t.deepEqual(outcome, { ok: true, domain: undefined });
  t.is(source.calls.abortMigration, 1, 'one abort was tried');
  t.is((await destination.getDomain(spec.id))?.state, 'running');
});

test('a migrate received while a migration job of the domain runs starts none: it follows that job, answers ok once the domain left, and hypervisor_failure when it stays', async (t) => {
  const { source, destination, executor, samples, target, running } = await setUp(t);
  source.migrationTiming = { steps: 30, stepMs: 10, totalBytes: 2 ** 30 };
  const spec = await running();
  const earlier = source.migrate(spec.id, target());
  await eventually(() => source.migrationJob(spec.id), 'the migration job to run');
  const migrate = command('migrate', spec.id, { migration: target() });
  t.deepEqual(await executor.execute(migrate), { ok: true });
  await earlier;
  t.is(source.calls.migrate, 1, 'no second migration was started');
  t.true(samples.some((sample) => sample.commandId === migrate.commandId), 'the job it followed reported progress');
  t.is((await destination.getDomain(spec.id))?.state, 'running');

  source.migrationTiming = { steps: 100_000, stepMs: 10, totalBytes: 2 ** 30 };
  const other = await running();
  const failing = source.migrate(other.id, target()).catch((error: unknown) => error);
  await eventually(() => source.migrationJob(other.id), 'the second migration job to run');
  const following = executor.execute(command('migrate', other.id, { migration: target() }));
  await eventually(() => samples.some((sample) => sample.vmId === other.id), 'the executor to follow the job');
  await source.abortMigration(other.id);
  await failing;
  const outcome = await following;
  t.false(outcome.ok);
  if (outcome.ok) return;
  t.is(outcome.error, 'hypervisor_failure');
  t.is(outcome.domain?.state, 'running');
});

test('abort_migration aborts the migration a migrate runs, which then fails with hypervisor_failure; without one it is invalid_state', async (t) => {
  const { source, executor, target, running } = await setUp(t);
  source.migrationTiming = { steps: 100_000, stepMs: 10, totalBytes: 2 ** 30 };
  const spec = await running();
  const migrating = executor.execute(command('migrate', spec.id, { migration: target() }));
  await eventually(() => source.migrationJob(spec.id), 'the migration job to run');
  t.deepEqual(await executor.execute(command('abort_migration', spec.id)), { ok: true });
  const outcome = await migrating;
  t.false(outcome.ok);
  if (!outcome.ok) t.is(outcome.error, 'hypervisor_failure');
  const again = await executor.execute(command('abort_migration', spec.id));
  t.false(again.ok);
  if (!again.ok) t.is(again.error, 'invalid_state');
  const missing = await executor.execute(command('abort_migration', randomUUID()));
  t.false(missing.ok);
  if (!missing.ok) t.is(missing.error, 'domain_not_found');
});

test('migrate of a domain that is not running is invalid_state', async (t) => {
  const { source, executor, target } = await setUp(t);
  const spec = vmSpec();
  await source.define(spec);
  const outcome = await executor.execute(command('migrate', spec.id, { migration: target() }));
  t.false(outcome.ok);
  if (outcome.ok) return;
  t.is(outcome.error, 'invalid_state');
  t.is(outcome.domain?.state, 'shutoff');
});

test('inspect_domain reports the domain, its migration id and whether a migration job runs, changes nothing and is not journaled; a missing domain is ok without a domain', async (t) => {
  const { source, journal, executor, target, running } = await setUp(t);
  source.migrationTiming = { steps: 100_000, stepMs: 10, totalBytes: 2 ** 30 };
  const spec = await running();
  const quiet = command('inspect_domain', spec.id);
  t.deepEqual(await executor.execute(quiet), { ok: true, domain: { uuid: spec.id, name: `drover-${spec.id}`, state: 'running', managed: true }, migrationId: undefined, migrationJobActive: false });
  t.is(journal.get(quiet.commandId), undefined, 'not journaled');
  const migration = target();
  const migrating = executor.execute(command('migrate', spec.id, { migration }));
  await eventually(() => source.migrationJob(spec.id), 'the migration job to run');
  const busy = await executor.execute(command('inspect_domain', spec.id));
  t.like(busy, { ok: true, migrationId: migration.migrationId, migrationJobActive: true });
  await source.abortMigration(spec.id);
  await migrating;
  t.deepEqual(await executor.execute(command('inspect_domain', randomUUID())), { ok: true });
});

test('discard_incoming removes a paused or shut off copy of its migration, and refuses a running copy, one of another migration or of none, changing nothing; no domain is ok', async (t) => {
  const { source: host, executor } = await setUp(t);
  const migrationId = randomUUID();
  const copy = (state: 'paused' | 'shutoff' | 'running', id: string | undefined) => {
    const spec = vmSpec();
    host.addDomain({ uuid: spec.id, name: `drover-${spec.id}`, state, managed: true }, spec);
    host.setMigrationId(spec.id, id);
    return spec.id;
  };
  const discard = (uuid: string, id = migrationId) => executor.execute(command('discard_incoming', uuid, { migration: { migrationId: id, destinationUri: '', destinationAddress: '', stallTimeoutMs: 0, deadlineMs: 0, sharedStorage: false, bandwidthMiBPerSecond: 0 } }));

  for (const state of ['paused', 'shutoff'] as const) {
    const uuid = copy(state, migrationId);
    t.like(await discard(uuid), { ok: true, domain: undefined }, state);
    t.is(await host.getDomain(uuid), undefined, `the ${state} copy is gone`);
  }
  for (const [state, id] of [['running', migrationId], ['paused', randomUUID()], ['paused', undefined], ['shutoff', randomUUID()]] as const) {
    const uuid = copy(state, id);
    const outcome = await discard(uuid);
    t.false(outcome.ok, `${state} of ${id ?? 'no migration'}`);
    if (!outcome.ok) t.is(outcome.error, 'invalid_state');
    t.is((await host.getDomain(uuid))?.state, state, 'left as it was');
    t.is(await host.migrationIdOf(uuid), id);
  }
  t.like(await discard(randomUUID()), { ok: true });
  t.is(host.calls.destroy + host.calls.undefine, 3, 'only the two copies of the migration were touched');
});

test('prepare_incoming prepares the storage and networks of the spec and defines nothing', async (t) => {
  const { source: host, executor } = await setUp(t);
  const storage = { id: randomUUID(), kind: 'localfs' as const, address: '', path: `/srv/${randomUUID()}` };
  const diskId = randomUUID();
  const network = { id: randomUUID(), name: 'ovirtmgmt', vlanId: null, mtu: 0 };
  const spec = vmSpec({
    disks: [{ diskId, volume: { storage, volumeId: diskId, format: 'qcow2' }, bus: 'virtio', bootable: true, readOnly: false }],
    nics: [{ nicId: randomUUID(), name: 'nic1', mac: '56:6f:00:00:00:01', model: 'virtio', network, linked: true }],
  });
  t.deepEqual(await executor.execute(command('prepare_incoming', spec.id, { spec })), { ok: true });
  t.true(host.preparedStorage.has(storage.id));
  t.true(host.networks.has(network.id));
  t.is(await host.getDomain(spec.id), undefined);
});

test('malformed migration commands are refused as invalid_command before the driver sees them', async (t) => {
  const { source, executor, target, running } = await setUp(t);
  const spec = await running();
  const refused = [
    command('migrate', spec.id),
    command('migrate', spec.id, { migration: target({ migrationId: 'not-a-uuid' }) }),
    command('migrate', spec.id, { migration: target({ destinationUri: 'test:///default' }) }),
    command('migrate', spec.id, { migration: target({ destinationUri: 'qemu+tls://kvm2 .example.org/system' }) }),
    command('migrate', spec.id, { migration: target({ destinationUri: 'qemu+tls://kvm2.example.org/system\n' }) }),
    command('migrate', spec.id, { migration: target({ destinationUri: `qemu+tls://${'a'.repeat(1100)}/system` }) }),
    command('migrate', spec.id, { migration: target({ destinationAddress: 'kvm2.example.org; rm -rf /' }) }),
    command('migrate', spec.id, { migration: target({ destinationAddress: '' }) }),
    command('migrate', spec.id, { migration: target({ stallTimeoutMs: 0 }) }),
    command('migrate', spec.id, { migration: target({ deadlineMs: -1 }) }),
    command('migrate', spec.id, { migration: target({ bandwidthMiBPerSecond: 1.5 }) }),
    command('discard_incoming', spec.id),
    command('discard_incoming', spec.id, { migration: target({ migrationId: '' }) }),
    command('prepare_incoming', spec.id),
    command('prepare_incoming', spec.id, { spec: vmSpec() }),
    command('inspect_domain', 'not-a-uuid'),
  ];
  for (const bad of refused) {
    const outcome = await executor.execute(bad);
    t.false(outcome.ok, JSON.stringify(bad));
    if (!outcome.ok) t.is(outcome.error, 'invalid_command', JSON.stringify(bad));
  }
  t.is(source.calls.migrate + source.calls.prepareIncoming, 0);
  for (const address of ['192.0.2.2', '2001:db8::2', '[2001:db8::2]', 'kvm2', 'kvm2.example.org']) {
    for (const uri of ['qemu+tls://kvm2.example.org/system', 'qemu:///system?socket=/run/libvirt/libvirt-sock', 'qemu+ssh://root@[2001:db8::2]/system']) {
      t.is(await executor.execute(command('migrate', randomUUID(), { migration: target({ destinationUri: uri, destinationAddress: address }) })).then((outcome) => (outcome.ok ? 'ok' : outcome.error)), 'domain_not_found', `${uri} to ${address} is accepted`);
    }
  }
});

test('a driver without the migration methods answers every migration command not_supported', async (t) => {
  const driver = new FakeDriver();
  Object.assign(driver, { migrate: undefined, migrationJob: undefined, abortMigration: undefined, migrationIdOf: undefined, prepareIncoming: undefined });
  const { executor, target } = await setUp(t, driver);
  const spec = vmSpec();
  await driver.start(spec.id, spec);
  for (const outcome of await Promise.all([
    executor.execute(command('prepare_incoming', spec.id, { spec })),
    executor.execute(command('migrate', spec.id, { migration: target() })),
    executor.execute(command('abort_migration', spec.id)),
    executor.execute(command('inspect_domain', spec.id)),
    executor.execute(command('discard_incoming', spec.id, { migration: target() })),
  ])) {
    t.false(outcome.ok);
    if (!outcome.ok) t.is(outcome.error, 'not_supported');
  }
  t.is((await driver.getDomain(spec.id))?.state, 'running');
});
