import { randomUUID } from 'node:crypto';
import { appendFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { CommandExecutor } from '../../../agent/commands/executor.js';
import { CommandJournal } from '../../../agent/commands/journal.js';
import { FakeDriver } from '../../../agent/hypervisor/fake/driver.js';
import { hostCommand, vmSpec } from './helpers.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';

async function setUp(t: { teardown: (fn: () => Promise<void>) => void }, driver = new FakeDriver()) {
  const directory = await temporaryDirectory('executor');
  const journal = await CommandJournal.open(directory.path);
  const refreshes: number[] = [];
  const executor = new CommandExecutor({
    driver,
    journal,
    shutdownTimeoutMs: 1_000,
    rebootTimeoutMs: 200,
    afterCommand: async () => {
      refreshes.push(Date.now());
    },
  });
  t.teardown(async () => {
    await journal.close().catch(() => undefined);
    await directory.remove();
  });
  return { driver, journal, executor, refreshes, dataDir: directory.path };
}

test('start defines the domain from its spec, starts it, and reports the state after', async (t) => {
  const { driver, executor, refreshes } = await setUp(t);
  const spec = vmSpec();
  const outcome = await executor.execute(hostCommand('start', spec.id, spec));
  t.deepEqual(outcome, { ok: true, domain: { uuid: spec.id, name: `drover-${spec.id}`, state: 'running', managed: true } });
  t.deepEqual(driver.specOf(spec.id), spec);
  t.is(driver.calls.define, 1);
  t.is(driver.calls.start, 1);
  t.is(refreshes.length, 1);
});

test('a repeated command id is executed once and answered with the first outcome', async (t) => {
  const { driver, executor } = await setUp(t);
  const spec = vmSpec();
  const start = hostCommand('start', spec.id, spec);
  const first = await executor.execute(start);
  driver.setState(spec.id, 'shutoff');
  const second = await executor.execute(start);
  t.deepEqual(second, first);
  t.is(driver.calls.start, 1);
  t.is((await driver.getDomain(spec.id))?.state, 'shutoff');
});

test('concurrent duplicates share one execution', async (t) => {
  const { driver, executor } = await setUp(t);
  const spec = vmSpec();
  driver.delay('start', 50);
  const start = hostCommand('start', spec.id, spec);
  const outcomes = await Promise.all([executor.execute(start), executor.execute({ ...start }), executor.execute({ ...start })]);
  t.is(driver.calls.start, 1);
  t.is(driver.calls.define, 1);
  t.deepEqual(outcomes[1], outcomes[0]);
  t.deepEqual(outcomes[2], outcomes[0]);
  t.true(outcomes[0].ok);
});

test('outcomes survive re-creating the executor from the same data directory', async (t) => {
  const { driver, journal, executor, dataDir } = await setUp(t);
  const spec = vmSpec();
  const start = hostCommand('start', spec.id, spec);
  driver.failNext('start', 'hypervisor_failure', 'no capacity');
  const first = await executor.execute(start);
  t.false(first.ok);
  await journal.close();

  const freshDriver = new FakeDriver();
  const reopened = await CommandJournal.open(dataDir);
  t.teardown(() => reopened.close());
  const restarted = new CommandExecutor({ driver: freshDriver, journal: reopened, shutdownTimeoutMs: 1_000, rebootTimeoutMs: 200 });
  t.deepEqual(await restarted.execute(start), first);
  t.is(freshDriver.calls.start, 0);
  t.is(freshDriver.calls.define, 0);
});

test('driver failures become failed outcomes carrying the domain state', async (t) => {
  const { driver, executor } = await setUp(t);
  const spec = vmSpec();
  driver.failNext('start', 'hypervisor_failure', 'boom');
  const failed = await executor.execute(hostCommand('start', spec.id, spec));
  t.deepEqual(failed, {
    ok: false,
    error: 'hypervisor_failure',
    message: 'boom',
    domain: { uuid: spec.id, name: `drover-${spec.id}`, state: 'shutoff', managed: true },
  });
  const retried = await executor.execute(hostCommand('start', spec.id));
  t.true(retried.ok);
  t.is(retried.domain?.state, 'running');
});

test('a driver failure that is not a DriverError becomes a hypervisor_failure carrying its message', async (t) => {
  const { driver, executor } = await setUp(t);
  const spec = vmSpec();
  await executor.execute(hostCommand('start', spec.id, spec));
  driver.reboot = async () => {
    throw new Error('the connection to the hypervisor broke');
  };
  const failed = await executor.execute(hostCommand('reboot', spec.id));
  t.deepEqual(failed, { ok: false, error: 'hypervisor_failure', message: 'the connection to the hypervisor broke', domain: await driver.getDomain(spec.id) });
});

test('a failure predicate fails the matching operations only', async (t) => {
  const { driver, executor } = await setUp(t);
  const [a, b] = [vmSpec(), vmSpec()];
  driver.failWhen((operation, uuid) => (operation === 'start' && uuid === b.id ? { kind: 'timed_out', message: 'slow host' } : undefined));
  t.true((await executor.execute(hostCommand('start', a.id, a))).ok);
  const failed = await executor.execute(hostCommand('start', b.id, b));
  t.false(failed.ok);
  t.is(failed.ok ? undefined : failed.error, 'timed_out');
  driver.failWhen(undefined);
  t.true((await executor.execute(hostCommand('start', b.id))).ok);
});

test('commands converge when the domain is already where they lead', async (t) => {
  const { driver, executor } = await setUp(t);
  const spec = vmSpec();
  await executor.execute(hostCommand('start', spec.id, spec));
  const repeated = await executor.execute(hostCommand('start', spec.id));
  t.true(repeated.ok);
  t.is(repeated.domain?.state, 'running');
  t.true((await executor.execute(hostCommand('resume', spec.id))).ok);
  t.is(driver.calls.resume, 1, 'resume of a running domain was tried once and its invalid_state taken as done');
  t.true((await executor.execute(hostCommand('suspend', spec.id))).ok);
  const suspendedAgain = await executor.execute(hostCommand('suspend', spec.id));
  t.deepEqual(suspendedAgain, { ok: true, domain: await driver.getDomain(spec.id) });
  t.is(suspendedAgain.domain?.state, 'suspended');

  t.true((await executor.execute(hostCommand('destroy', spec.id))).ok);
  const destroyedAgain = await executor.execute(hostCommand('destroy', spec.id));
  t.true(destroyedAgain.ok);
  t.is(destroyedAgain.domain?.state, 'shutoff');
  t.true((await executor.execute(hostCommand('shutdown', spec.id))).ok);

  t.true((await executor.execute(hostCommand('undefine', spec.id))).ok);
  const again = await executor.execute(hostCommand('undefine', spec.id));
  t.deepEqual(again, { ok: true, domain: undefined });
});

test('a start with an unchanged spec does not redefine the domain, a changed one does', async (t) => {
  const { driver, executor } = await setUp(t);
  const spec = vmSpec();
  await executor.execute(hostCommand('start', spec.id, spec));
  await executor.execute(hostCommand('destroy', spec.id));
  await executor.execute(hostCommand('start', spec.id, spec));
  t.is(driver.calls.define, 1);
  await executor.execute(hostCommand('destroy', spec.id));
  await executor.execute(hostCommand('start', spec.id, { ...spec, memoryBytes: spec.memoryBytes * 2 }));
  t.is(driver.calls.define, 2);
});

test('start of a paused or power-management suspended domain resumes it; state errors and missing domains are reported', async (t) => {
  const { driver, executor } = await setUp(t);
  const spec = vmSpec();
  await executor.execute(hostCommand('start', spec.id, spec));
  driver.setState(spec.id, 'paused');
  const started = await executor.execute(hostCommand('start', spec.id));
  t.is(started.domain?.state, 'running');
  t.is(driver.calls.resume, 1);
  driver.setState(spec.id, 'pm_suspended');
  t.is((await executor.execute(hostCommand('start', spec.id))).domain?.state, 'running');
  t.is(driver.calls.resume, 2);

  await executor.execute(hostCommand('destroy', spec.id));
  const reboot = await executor.execute(hostCommand('reboot', spec.id));
  t.like(reboot, { ok: false, error: 'invalid_state', domain: { state: 'shutoff' } });
  const missing = await executor.execute(hostCommand('reboot', '6f1c2a3b-0000-4000-8000-000000000000'));
  t.like(missing, { ok: false, error: 'domain_not_found', domain: undefined });
});

test('a guest ignoring shutdown gives timed_out', async (t) => {
  const { driver, executor } = await setUp(t);
  const spec = vmSpec();
  await executor.execute(hostCommand('start', spec.id, spec));
  driver.ignoreShutdown();
  const outcome = await executor.execute(hostCommand('shutdown', spec.id));
  t.like(outcome, { ok: false, error: 'timed_out', domain: { state: 'running' } });
});

test('malformed commands are refused as invalid_command without touching the driver', async (t) => {
  const { driver, executor } = await setUp(t);
  const spec = vmSpec();
  t.like(await executor.execute(hostCommand('define', spec.id)), { ok: false, error: 'invalid_command' });
  t.like(await executor.execute(hostCommand('start', 'not-a-uuid')), { ok: false, error: 'invalid_command' });
  t.like(await executor.execute(hostCommand('define', spec.id, { ...spec, id: vmSpec().id })), { ok: false, error: 'invalid_command' });
  t.like(await executor.execute(hostCommand('define', spec.id, { ...spec, cpu: { sockets: 0, cores: 1, threads: 1 } })), { ok: false, error: 'invalid_command' });
  t.is(driver.calls.define + driver.calls.start, 0);
});

test('a journaled outcome is in the file as soon as record resolves, and is synced in the background without loss under a burst', async (t) => {
  const directory = await temporaryDirectory('journal-sync');
  t.teardown(directory.remove);
  const journal = await CommandJournal.open(directory.path, { capacity: 50 });
  const file = path.join(directory.path, 'command-journal.jsonl');
  await journal.record('first', { ok: true });
  t.true((await readFile(file, 'utf8')).includes('"commandId":"first"'), 'written before record resolves');
  await Promise.all(Array.from({ length: 300 }, (_, index) => journal.record(`burst-${index}`, index % 2 === 0 ? { ok: true } : { ok: false, error: 'timed_out', message: `slow ${index}` })));
  await journal.synced();
  await journal.close();
  const reopened = await CommandJournal.open(directory.path, { capacity: 50 });
  t.teardown(() => reopened.close());
  t.is(reopened.size, 50, 'the burst went through compaction and the newest outcomes survive it');
  t.deepEqual(reopened.get('burst-299'), { ok: false, error: 'timed_out', message: 'slow 299' });
  t.deepEqual(reopened.get('burst-250'), { ok: true });
});

test('the journal keeps the newest outcomes within its capacity and tolerates a torn last line', async (t) => {
  const directory = await temporaryDirectory('journal');
  t.teardown(directory.remove);
  const journal = await CommandJournal.open(directory.path, { capacity: 3 });
  for (let index = 0; index < 8; index++) await journal.record(`c${index}`, { ok: true });
  t.is(journal.size, 3);
  t.is(journal.get('c4'), undefined);
  t.deepEqual(journal.get('c7'), { ok: true });
  await journal.close();
  const file = path.join(directory.path, 'command-journal.jsonl');
  const lines = (await readFile(file, 'utf8')).trim().split('\n');
  t.true(lines.length <= 6, `the journal file has ${lines.length} lines`);
  await appendFile(file, '{"commandId":"torn","outc');

  const reopened = await CommandJournal.open(directory.path, { capacity: 3 });
  t.teardown(() => reopened.close());
  t.deepEqual(['c5', 'c6', 'c7'].map((id) => reopened.get(id)), [{ ok: true }, { ok: true }, { ok: true }]);
  t.is(reopened.get('torn'), undefined);
  await reopened.record('c8', { ok: false, error: 'timed_out', message: 'slow' });
  t.deepEqual(reopened.get('c8'), { ok: false, error: 'timed_out', message: 'slow' });
});

test('storage commands run through the driver once per command id and carry the volume and the space back', async (t) => {
  const { driver, executor } = await setUp(t);
  const storage = { id: randomUUID(), kind: 'localfs' as const, address: '', path: '/srv/vms' };
  const prepared = await executor.execute({ commandId: randomUUID(), taskId: randomUUID(), kind: 'prepare_storage', storage });
  t.true(prepared.ok && prepared.storage?.storageId === storage.id);
  const volume = { storage, volumeId: randomUUID(), format: 'qcow2' as const, capacityBytes: 2 ** 30, sparse: true };
  const command = { commandId: randomUUID(), taskId: randomUUID(), kind: 'create_volume' as const, storage, volume };
  const created = await executor.execute(command);
  t.true(created.ok);
  t.is(created.volume?.path, `/fake/${storage.id}/${volume.volumeId}`);
  t.is(created.storage?.storageId, storage.id);
  t.deepEqual(await executor.execute(command), created, 'a repeated command id gets the first outcome');
  t.is(driver.calls.createVolume, 1);
  const deleted = await executor.execute({ commandId: randomUUID(), taskId: randomUUID(), kind: 'delete_volume', storage, volumeRef: volume });
  t.true(deleted.ok);
  t.is(deleted.storage?.storageId, storage.id);
  t.is(driver.volumes.size, 0);
  t.deepEqual(await executor.execute({ commandId: randomUUID(), taskId: randomUUID(), kind: 'release_storage', storage }), { ok: true }, 'a release reports no space');
});

test('check_volume_unused fails with in_use naming the domain while one has the volume, changes nothing, and succeeds once none has it; delete_volume refuses alike', async (t) => {
  const { driver, executor } = await setUp(t);
  const storage = { id: randomUUID(), kind: 'nfs' as const, address: 'filer', path: '/exports/vms' };
  const volume = { storage, volumeId: randomUUID(), format: 'qcow2' as const, capacityBytes: 2 ** 30, sparse: true };
  t.true((await executor.execute({ commandId: randomUUID(), taskId: randomUUID(), kind: 'create_volume', storage, volume })).ok);
  const spec = vmSpec({ disks: [{ diskId: volume.volumeId, volume: { storage, volumeId: volume.volumeId, format: 'qcow2' }, bus: 'virtio', bootable: true, readOnly: false }] });
  await driver.define(spec);
  const checked = await executor.execute({ commandId: randomUUID(), taskId: randomUUID(), kind: 'check_volume_unused', storage, volumeRef: volume });
  t.deepEqual(checked.ok ? undefined : checked.error, 'in_use');
  t.regex(checked.ok ? '' : checked.message, new RegExp(spec.id));
  const refused = await executor.execute({ commandId: randomUUID(), taskId: randomUUID(), kind: 'delete_volume', storage, volumeRef: volume });
  t.deepEqual(refused.ok ? undefined : refused.error, 'in_use');
  t.is(driver.volumes.size, 1, 'the volume stays');
  await driver.define({ ...spec, disks: [] });
  t.deepEqual(await executor.execute({ commandId: randomUUID(), taskId: randomUUID(), kind: 'check_volume_unused', storage, volumeRef: volume }), { ok: true });
  t.is(driver.volumes.size, 1, 'a check deletes nothing');
  const missing = await executor.execute({ commandId: randomUUID(), taskId: randomUUID(), kind: 'check_volume_unused', storage });
  t.deepEqual(missing.ok ? undefined : missing.error, 'invalid_command', 'a check needs the volume');
});

test('storage commands with unsafe paths or ids are refused before the driver sees them', async (t) => {
  const { driver, executor } = await setUp(t);
  const storage = { id: randomUUID(), kind: 'localfs' as const, address: '', path: '/srv/../etc' };
  const refused = await executor.execute({ commandId: randomUUID(), taskId: randomUUID(), kind: 'prepare_storage', storage });
  t.deepEqual(refused.ok ? undefined : refused.error, 'invalid_command');
  const relative = await executor.execute({ commandId: randomUUID(), taskId: randomUUID(), kind: 'prepare_storage', storage: { ...storage, path: 'srv' } });
  t.false(relative.ok);
  const volume = { storage: { ...storage, path: '/srv' }, volumeId: '../../x', format: 'qcow2' as const, capacityBytes: 1, sparse: true };
  const badVolume = await executor.execute({ commandId: randomUUID(), taskId: randomUUID(), kind: 'create_volume', storage: volume.storage, volume });
  t.deepEqual(badVolume.ok ? undefined : badVolume.error, 'invalid_command');
  const source = { storage: volume.storage, volumeId: randomUUID(), format: 'qcow2' as const };
  const rawOverlay = { ...volume, volumeId: randomUUID(), format: 'raw' as const, backing: source };
  const backedCopy = { ...volume, volumeId: randomUUID(), backing: source, copyOf: source };
  for (const refusedVolume of [rawOverlay, backedCopy]) {
    const outcome = await executor.execute({ commandId: randomUUID(), taskId: randomUUID(), kind: 'create_volume', storage: volume.storage, volume: refusedVolume });
    t.deepEqual(outcome.ok ? undefined : outcome.error, 'invalid_command');
  }
  t.is(driver.calls.prepareStorage + driver.calls.createVolume, 0);
});

test('plugging a device into a running domain changes its definition; a hypervisor without hot-plug answers not_supported and nothing changes', async (t) => {
  const { driver, executor } = await setUp(t);
  const spec = vmSpec();
  await executor.execute(hostCommand('start', spec.id, spec));
  const nic = { nicId: randomUUID(), name: 'eth0', mac: '56:6f:00:00:00:01', model: 'virtio' as const, network: null, linked: true };
  const withNic = { ...spec, nics: [nic] };
  const plugged = await executor.execute({ commandId: randomUUID(), taskId: randomUUID(), kind: 'plug_device', vmId: spec.id, spec: withNic, deviceId: nic.nicId });
  t.true(plugged.ok);
  t.deepEqual(driver.specOf(spec.id)?.nics, [nic]);
  const unplugged = await executor.execute({ commandId: randomUUID(), taskId: randomUUID(), kind: 'unplug_device', vmId: spec.id, spec: withNic, deviceId: nic.nicId });
  t.true(unplugged.ok);
  t.deepEqual(driver.specOf(spec.id)?.nics, []);

  driver.hotplug = false;
  const refused = await executor.execute({ commandId: randomUUID(), taskId: randomUUID(), kind: 'plug_device', vmId: spec.id, spec: withNic, deviceId: nic.nicId });
  t.deepEqual(refused.ok ? undefined : refused.error, 'not_supported');
  t.is(refused.domain?.state, 'running', 'the failure carries the domain state');
  t.deepEqual(driver.specOf(spec.id)?.nics, [], 'the definition did not change');
  const unknown = await executor.execute({ commandId: randomUUID(), taskId: randomUUID(), kind: 'plug_device', vmId: spec.id, spec, deviceId: randomUUID() });
  t.deepEqual(unknown.ok ? undefined : unknown.error, 'invalid_command');
  const alreadyGone = await executor.execute({ commandId: randomUUID(), taskId: randomUUID(), kind: 'unplug_device', vmId: spec.id, spec, deviceId: nic.nicId });
  t.deepEqual(alreadyGone.ok ? undefined : alreadyGone.error, 'invalid_command', 'an unplug needs the spec that still has the device');
  t.is(driver.calls.plugDevice + driver.calls.unplugDevice, 3);
});

test('a command on a domain is bracketed by duringCommand: begun before the driver is called, ended after the outcome is journaled', async (t) => {
  const directory = await temporaryDirectory('executor-during');
  const journal = await CommandJournal.open(directory.path);
  t.teardown(async () => {
    await journal.close().catch(() => undefined);
    await directory.remove();
  });
  const driver = new FakeDriver();
  const events: string[] = [];
  const spec = vmSpec();
  const start = hostCommand('start', spec.id, spec);
  driver.delay('start', 20);
  const executor = new CommandExecutor({
    driver,
    journal,
    shutdownTimeoutMs: 1_000,
    rebootTimeoutMs: 200,
    afterCommand: (uuid, domain) => events.push(`after ${uuid === spec.id} ${domain?.state}`),
    duringCommand: (uuid) => {
      events.push(`begin ${uuid === spec.id} ${driver.calls.start}`);
      return () => events.push(`end ${journal.get(start.commandId) ? 'journaled' : 'not journaled'}`);
    },
  });
  const outcome = await executor.execute(start);
  t.true(outcome.ok);
  t.deepEqual(events, ['begin true 0', 'after true running', 'end journaled']);

  driver.failNext('destroy', 'hypervisor_failure', 'boom');
  events.length = 0;
  const failed = await executor.execute(hostCommand('destroy', spec.id));
  t.is(events[0], 'begin true 1');
  t.is(events.at(-1), 'end journaled', `also when the command fails (${JSON.stringify(failed)})`);
});

test('a failed command whose domain cannot be read afterwards either carries domain_unknown, and reports no state, least of all the domain gone', async (t) => {
  const directory = await temporaryDirectory('executor');
  const journal = await CommandJournal.open(directory.path);
  t.teardown(async () => {
    await journal.close().catch(() => undefined);
    await directory.remove();
  });
  const driver = new FakeDriver();
  const observed: [string, unknown][] = [];
  const executor = new CommandExecutor({ driver, journal, shutdownTimeoutMs: 1_000, rebootTimeoutMs: 1_000, afterCommand: (uuid, domain) => observed.push([uuid, domain]) });
  const spec = vmSpec();
  t.true((await executor.execute(hostCommand('start', spec.id, spec))).ok);
  observed.length = 0;

  driver.stopHypervisor();
  const outcome = await executor.execute(hostCommand('destroy', spec.id));
  t.deepEqual(outcome, { ok: false, error: 'hypervisor_failure', message: 'internal error: client socket is closed', domainUnknown: true });
  t.deepEqual(observed, [], 'nothing told the state watcher the domain is gone');
  t.is((await driver.getDomain(spec.id).catch(() => 'unreadable')), 'unreadable');
});

test('a failed command whose domain can be read afterwards carries its state, or its absence', async (t) => {
  const { driver, executor } = await setUp(t);
  const spec = vmSpec();
  driver.failNext('start', 'hypervisor_failure', 'no capacity');
  const failed = await executor.execute(hostCommand('start', spec.id, spec));
  t.like(failed, { ok: false, domain: { uuid: spec.id, state: 'shutoff' } });
  t.is(failed.domainUnknown, undefined);
  const missing = randomUUID();
  const absent = await executor.execute(hostCommand('destroy', missing));
  t.like(absent, { ok: false, error: 'domain_not_found', domain: undefined });
  t.is(absent.domainUnknown, undefined, 'a domain read as absent is known to be absent');
});
