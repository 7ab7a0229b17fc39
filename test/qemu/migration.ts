import { mkdir, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { ExecutionContext, TestFn } from 'ava';
import { eventually } from '../support/eventually.js';
import { ProcessSystem } from '../support/process-system.js';
import type { QemuDaemon } from '../support/qemu-daemon.js';
import type { DatabaseKind } from '../support/scratch-database.js';
import { writeBusyGuestDisk, type BusyGuestMode } from '../support/busy-guest.js';

type Test = TestFn<unknown>;

/** A system of QEMU hosts with a shared (nfs) storage domain attached to the Default data center. */
export async function migrationSystem(t: ExecutionContext, database: DatabaseKind, hosts: string[], controllerEnvironment: Record<string, string> = {}) {
  const system = await ProcessSystem.start(database, Object.fromEntries(hosts.map((name) => [name, { qemu: true }])), { controllerEnvironment });
  t.teardown(() => system.close());
  const { api } = system;
  await mkdir(path.join(system.mountRoot, 'nfs.example.org:_exports_shared'), { recursive: true });
  const storage = await api.post('/storagedomains', { name: 'shared', type: 'data', storage: { type: 'nfs', address: 'nfs.example.org', path: '/exports/shared' } }, { accept: 'json' });
  if (storage.status !== 201) throw new Error(storage.text);
  const dataCenter = (await api.get('/datacenters', { accept: 'json' })).body.data_center.find((item: { name: string }) => item.name === 'Default');
  const attached = await api.post(`/datacenters/${dataCenter.id}/storagedomains`, `<storage_domain id="${storage.body.id}"/>`);
  if (attached.status !== 201) throw new Error(attached.text);
  const ids = Object.fromEntries(await Promise.all(hosts.map(async (name) => [name, await system.hostId(name)] as const)));
  const nameOf = (hostId: string) => hosts.find((name) => ids[name] === hostId)!;
  return { system, api, storageId: storage.body.id as string, ids, nameOf };
}

/** Creates a VM with a 16 MiB boot disk on the shared storage domain; `prepare` may write the disk's volume file before the VM starts. */
async function startedVmWithSharedDisk(context: Awaited<ReturnType<typeof migrationSystem>>, name: string, memoryMiB: number, format: 'cow' | 'raw', prepare?: (volumeFile: string) => Promise<void>) {
  const { api, storageId, nameOf, system } = context;
  const vmId = await api.createVm(name, memoryMiB);
  const attached = await api.post(
    `/vms/${vmId}/diskattachments`,
    `<disk_attachment><bootable>true</bootable><interface>virtio</interface><active>true</active><disk><name>${name}-boot</name><provisioned_size>16777216</provisioned_size><format>${format}</format><storage_domains><storage_domain id="${storageId}"/></storage_domains></disk></disk_attachment>`,
  );
  if (attached.status !== 201) throw new Error(attached.text);
  const diskId = attached.body.disk_attachment.id as string;
  await eventually(async () => (await api.get(`/disks/${diskId}`, { accept: 'json' })).body?.status === 'ok', 'the disk to be created');
  await prepare?.(await volumeFile(system.mountRoot, diskId));
  const started = await api.action(vmId, 'start');
  if (started.status !== 200) throw new Error(started.text);
  return { vmId, diskId, host: nameOf((await api.vm(vmId)).host.id) };
}

/** Creates a VM with a small disk on the storage domain, starts it, and resolves with its id and the host it runs on. */
export function runningVmOnSharedStorage(context: Awaited<ReturnType<typeof migrationSystem>>, name: string, memoryMiB = 128) {
  return startedVmWithSharedDisk(context, name, memoryMiB, 'cow');
}

/** The file of a disk's volume, wherever under the shared mount root it is. */
async function volumeFile(root: string, diskId: string): Promise<string> {
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && entry.name.startsWith(diskId)) return path.join(entry.parentPath, entry.name);
  }
  throw new Error(`no volume file of disk ${diskId} under ${root}`);
}

/**
 * Creates a VM whose raw boot disk on the shared storage holds the busy
 * guest (test/support/busy-guest.ts), which writes `fillMiB` MiB of its
 * memory once or keeps dirtying it, and starts it.
 */
export function busyVm(context: Awaited<ReturnType<typeof migrationSystem>>, name: string, mode: BusyGuestMode, fillMiB = 320, memoryMiB = 512) {
  return startedVmWithSharedDisk(context, name, memoryMiB, 'raw', (file) => writeBusyGuestDisk(file, { mebibytes: fillMiB, mode }));
}

/** The pid of the QEMU process that runs the domain on the daemon, if one does. */
async function qemuPid(daemon: QemuDaemon, vmId: string): Promise<number | undefined> {
  const name = (await daemon.virsh('domname', vmId).catch(() => '')).trim();
  if (!name) return undefined;
  const pid = Number((await readFile(path.join(daemon.privatePath('/run/libvirt'), 'qemu', `${name}.pid`), 'utf8').catch(() => '')).trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

/** The hosts whose daemon has the domain active (running or paused). */
export async function activeCopies(system: ProcessSystem, hosts: string[], vmId: string): Promise<string[]> {
  const active: string[] = [];
  for (const host of hosts) if ((await system.qemuDaemon(host).virsh('list', '--uuid')).includes(vmId)) active.push(host);
  return active;
}

/**
 * The hosts whose daemon runs the domain (state running, not paused). The
 * daemons are asked one after another, twice over, and a host counts only
 * when it ran the domain both times: a host seen running before the other
 * and again after it ran the domain while the other did. One pass alone
 * would count a source seen running just before a switch-over and a
 * destination seen running just after it.
 */
export async function runningCopies(system: ProcessSystem, hosts: string[], vmId: string): Promise<string[]> {
  const pass = async () => {
    const running = new Set<string>();
    for (const host of hosts) if ((await system.qemuDaemon(host).virsh('list', '--state-running', '--uuid').catch(() => '')).includes(vmId)) running.add(host);
    return running;
  };
  const first = await pass();
  const second = await pass();
  return hosts.filter((host) => first.has(host) && second.has(host));
}

/** The command line of the QEMU process that runs the domain on the daemon. */
async function qemuCommandLine(daemon: QemuDaemon, vmId: string): Promise<string> {
  const name = (await daemon.virsh('domname', vmId)).trim();
  const pid = Number((await readFile(path.join(daemon.privatePath('/run/libvirt'), 'qemu', `${name}.pid`), 'utf8')).trim());
  return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ');
}

/** Live migration on real QEMU: moves, refusals, and hand-over only on evidence. */
export function migrationSuite(test: Test, database: DatabaseKind): void {
  test.serial(`[${database}] QEMU: a running VM migrates live to a named host and back, by name and by the scheduler's choice; the destination's QEMU is started with -incoming, one copy runs at every step, nothing is left on the source; refusals are faults that change nothing`, async (t) => {
    const hosts = ['alpha', 'beta'];
    const context = await migrationSystem(t, database, hosts);
    const { system, api, ids, nameOf } = context;
    const { vmId, host: first } = await runningVmOnSharedStorage(context, 'traveller');
    const second = first === 'alpha' ? 'beta' : 'alpha';
    const migrateTo = async (body: string, expected: string) => {
      const before = nameOf((await api.vm(vmId)).host.id);
      const response = await api.post(`/vms/${vmId}/migrate`, body);
      t.is(response.status, 200, response.text);
      t.is(response.body.action.status, 'complete');
      const vm = await api.vm(vmId);
      t.is(vm.status, 'up');
      t.is(nameOf(vm.host.id), expected, 'the VM shows its new host');
      t.deepEqual(await activeCopies(system, hosts, vmId), [expected], 'one copy runs, on the destination');
      t.regex(await qemuCommandLine(system.qemuDaemon(expected), vmId), /-incoming/, 'the guest was moved, not started afresh');
      await t.throwsAsync(system.qemuDaemon(before).virsh('domstate', vmId), undefined, 'the source no longer defines the domain');
      t.regex(await system.qemuDaemon(expected).virsh('dominfo', vmId), /Persistent:\s+yes/, 'the destination keeps its definition');
    };
    await migrateTo(`<action><host id="${ids[second]}"/></action>`, second);
    await migrateTo(`<action><host><name>${first}</name></host></action>`, first);
    await migrateTo('<action/>', second);

    const task = await api.get(`/vms/${vmId}/tasks`, { accept: 'json' });
    const migrations = (task.body.task as { action: string; status: string; description?: string }[]).filter((item) => item.action === 'migrate');
    t.is(migrations.length, 3);
    t.true(migrations.every((item) => item.status === 'finished' && /migrated from host/.test(item.description ?? '')), JSON.stringify(migrations));

    const refusals: [string, string, number, RegExp][] = [
      ['to an unknown host', '<action><host id="00000000-0000-4000-8000-00000000abcd"/></action>', 404, /does not exist/],
      ['to an unknown host name', '<action><host><name>nowhere</name></host></action>', 404, /does not exist/],
      ['to the host it runs on', `<action><host id="${ids[second]}"/></action>`, 409, /the host the VM runs on/],
    ];
    for (const [what, body, status, detail] of refusals) {
      const refused = await api.post(`/vms/${vmId}/migrate`, body);
      t.is(refused.status, status, `a migration ${what}: ${refused.text}`);
      t.regex(refused.body.fault.detail, detail);
    }
    const idle = await api.createVm('idle', 64);
    const down = await api.post(`/vms/${idle}/migrate`, '<action/>');
    t.is(down.status, 409, down.text);
    t.regex(down.body.fault.detail, /down/);
    t.deepEqual(await activeCopies(system, hosts, vmId), [second], 'the refusals changed nothing');
    t.is((await api.vm(vmId)).status, 'up');
    const notMigrating = await api.post(`/vms/${vmId}/cancelmigration`, '<action/>');
    t.is(notMigrating.status, 409, notMigrating.text);
    t.regex(notMigrating.body.fault.detail, /too late/, 'the last migration of the VM is over');
  });

  test.serial(`[${database}] QEMU: a migration in progress shows the VM migrating on its source with its progress; cancelmigration aborts it, the VM stays up on the source and nothing is left on the destination`, async (t) => {
    const hosts = ['alpha', 'beta'];
    const context = await migrationSystem(t, database, hosts, { DROVER_MIGRATION_BANDWIDTH_MIB: '32' });
    const { system, api, nameOf } = context;
    const { vmId, host: source } = await busyVm(context, 'restless', 'keep-dirtying');
    const destination = source === 'alpha' ? 'beta' : 'alpha';
    const requested = await api.post(`/vms/${vmId}/migrate`, '<action><async>true</async></action>');
    t.is(requested.status, 202, requested.text);
    const taskId = requested.body.action.task.id as string;
    const percent = async () => {
      const statistics = (await api.get(`/vms/${vmId}/statistics`, { accept: 'json' })).body.statistic as { name: string; values: { value: { datum: string | number }[] } }[];
      return Number(statistics.find((item) => item.name === 'migration.progress')?.values.value[0]?.datum);
    };
    await eventually(async () => (await percent()) > 0, 'the migration to make progress', 60_000);
    const vm = await api.vm(vmId);
    t.is(vm.status, 'migrating');
    t.is(nameOf(vm.host.id), source, 'the VM shows its source until the hand-over');
    const task = (await api.get(`/tasks/${taskId}`, { accept: 'json' })).body;
    t.is(task.status, 'running');
    t.true(Number(task.progress) > 0 && Number(task.progress) < 100, JSON.stringify(task));
    t.true(Number(task.data_remaining) > 0);
    t.regex(await system.qemuDaemon(destination).virsh('domstate', vmId), /paused/, 'the destination holds the incoming guest paused');
    t.deepEqual(await runningCopies(system, hosts, vmId), [source]);

    const cancelled = await api.post(`/vms/${vmId}/cancelmigration`, '<action/>');
    t.is(cancelled.status, 200, cancelled.text);
    const ended = await eventually(async () => {
      const current = (await api.get(`/tasks/${taskId}`, { accept: 'json' })).body;
      return current.status === 'running' ? undefined : current;
    }, 'the migrate task to end');
    t.is(ended.status, 'failed');
    t.regex(ended.fault.detail, /cancelled/);
    const after = await api.vm(vmId);
    t.is(after.status, 'up');
    t.is(nameOf(after.host.id), source);
    await eventually(async () => (await system.qemuDaemon(destination).virsh('domstate', vmId).then(() => false, () => true)), 'nothing of the VM to be left on the destination');
    t.deepEqual(await activeCopies(system, hosts, vmId), [source]);
  });

  test.serial(`[${database}] QEMU: when the destination's QEMU or its libvirtd is killed mid-migration, the VM stays up on its source, the task fails with a fault, and no copy is left elsewhere; while the destination's libvirtd is away the VM stays migrating, until it is back or the destination is confirmed down`, async (t) => {
    const hosts = ['alpha', 'beta'];
    const context = await migrationSystem(t, database, hosts, { DROVER_MIGRATION_BANDWIDTH_MIB: '32' });
    const { system, api, nameOf } = context;
    const { vmId, host: source } = await busyVm(context, 'fragile', 'keep-dirtying');
    const destination = source === 'alpha' ? 'beta' : 'alpha';
    const destinationDaemon = system.qemuDaemon(destination);
    const migrating = async () => {
      const requested = await api.post(`/vms/${vmId}/migrate`, '<action><async>true</async></action>');
      t.is(requested.status, 202, requested.text);
      await eventually(async () => (await api.vmStatus(vmId)) === 'migrating' && (await qemuPid(destinationDaemon, vmId)) !== undefined, 'the migration to be under way', 60_000);
      return requested.body.action.task.id as string;
    };
    const failedTask = (taskId: string) =>
      eventually(async () => {
        const task = (await api.get(`/tasks/${taskId}`, { accept: 'json' })).body;
        return task.status === 'running' ? undefined : task;
      }, 'the migrate task to end', 60_000);

    const first = await migrating();
    process.kill((await qemuPid(destinationDaemon, vmId))!, 'SIGKILL');
    const killedQemu = await failedTask(first);
    t.is(killedQemu.status, 'failed');
    t.truthy(killedQemu.fault?.detail, 'the fault says why');
    t.is(await api.vmStatus(vmId), 'up');
    t.is(nameOf((await api.vm(vmId)).host.id), source);
    t.deepEqual(await activeCopies(system, hosts, vmId), [source], 'no copy on the destination');

    const second = await migrating();
    await destinationDaemon.stopDaemonOnly('SIGKILL');
    await eventually(async () => (await api.get(`/tasks/${second}`, { accept: 'json' })).body.description?.includes('cannot be asked'), 'the task to say it waits for the destination', 60_000);
    t.is(await api.vmStatus(vmId), 'migrating', 'nothing is decided while the destination cannot be asked');
    t.deepEqual(await runningCopies(system, [source], vmId), [source]);
    await destinationDaemon.start();
    const killedDaemon = await failedTask(second);
    t.is(killedDaemon.status, 'failed', JSON.stringify(killedDaemon));
    t.is(await api.vmStatus(vmId), 'up');
    t.is(nameOf((await api.vm(vmId)).host.id), source);
    await eventually(async () => (await activeCopies(system, hosts, vmId)).join() === source, 'the source to be the only host with the domain');

    const third = await migrating();
    await destinationDaemon.stopDaemonOnly('SIGKILL');
    await eventually(async () => (await api.get(`/tasks/${third}`, { accept: 'json' })).body.description?.includes('cannot be asked'), 'the task to wait for the destination again', 60_000);
    await system.waitForHostStatus(destination, 'non_operational', 30_000);
    const fenced = await api.post(`/hosts/${context.ids[destination]}/fence`, '<action><fence_type>manual</fence_type></action>');
    t.is(fenced.status, 200, fenced.text);
    const settledByFence = await failedTask(third);
    t.is(settledByFence.status, 'failed', 'the destination confirmed down holds nothing, and the VM runs on its source');
    t.is(await api.vmStatus(vmId), 'up');
    t.is(nameOf((await api.vm(vmId)).host.id), source);
    await destinationDaemon.start();
    await system.waitForHostStatus(destination, 'up', 30_000);
    await eventually(async () => (await activeCopies(system, hosts, vmId)).join() === source, 'no copy on the destination once its libvirtd is back');
    t.is(await api.vmStatus(vmId), 'up');
  });

  test.serial(`[${database}] QEMU: a destination agent stopped before a migration fails it with the VM up on its source; stopped during one, the migration completes in libvirt and the VM is handed over on the source's word, with one copy at every step`, async (t) => {
    const hosts = ['alpha', 'beta'];
    const context = await migrationSystem(t, database, hosts, { DROVER_MIGRATION_BANDWIDTH_MIB: '48' });
    const { system, api, nameOf } = context;
    const { vmId, host: source } = await busyVm(context, 'patient', 'fill-once');
    const destination = source === 'alpha' ? 'beta' : 'alpha';

    system.signalAgent(destination, 'SIGSTOP');
    const before = await api.post(`/vms/${vmId}/migrate`, `<action><host><name>${destination}</name></host></action>`);
    t.true(before.status === 503 || before.status === 409, `${before.status} ${before.text}`);
    t.deepEqual(await activeCopies(system, hosts, vmId), [source]);
    t.is(nameOf((await api.vm(vmId)).host.id), source);
    system.signalAgent(destination, 'SIGCONT');
    await system.waitForHostStatus(destination, 'up', 30_000);
    t.is(await api.vmStatus(vmId), 'up');

    const requested = await api.post(`/vms/${vmId}/migrate`, '<action><async>true</async></action>');
    t.is(requested.status, 202, requested.text);
    const taskId = requested.body.action.task.id as string;
    await eventually(async () => (await api.vmStatus(vmId)) === 'migrating' && (await system.qemuDaemon(destination).virsh('list', '--uuid')).includes(vmId), 'the migration to be under way', 60_000);
    system.signalAgent(destination, 'SIGSTOP');
    t.teardown(() => system.signalAgent(destination, 'SIGCONT'));
    const finished = await eventually(async () => {
      t.true((await runningCopies(system, hosts, vmId)).length <= 1, 'never two running copies');
      const task = (await api.get(`/tasks/${taskId}`, { accept: 'json' })).body;
      return task.status === 'running' ? undefined : task;
    }, 'the migration to end while the destination agent is stopped', 90_000);
    t.is(finished.status, 'finished', JSON.stringify(finished));
    t.is(nameOf((await api.vm(vmId)).host.id), destination, 'the VM is handed over on the source’s word');
    t.deepEqual(await runningCopies(system, hosts, vmId), [destination]);
    system.signalAgent(destination, 'SIGCONT');
    await eventually(async () => (await api.vmStatus(vmId)) === 'up', 'the VM to be up once the destination reports', 30_000);
    t.is(nameOf((await api.vm(vmId)).host.id), destination);
  });

  test.serial(`[${database}] QEMU: a controller killed during a migration and started again settles it on what both hosts say, without asking the source again; one running copy at every step`, async (t) => {
    const hosts = ['alpha', 'beta'];
    const context = await migrationSystem(t, database, hosts, { DROVER_MIGRATION_BANDWIDTH_MIB: '48' });
    const { system, api, nameOf } = context;
    const { vmId, host: source } = await busyVm(context, 'survivor', 'fill-once');
    const destination = source === 'alpha' ? 'beta' : 'alpha';
    const requested = await api.post(`/vms/${vmId}/migrate`, '<action><async>true</async></action>');
    t.is(requested.status, 202, requested.text);
    const taskId = requested.body.action.task.id as string;
    await eventually(async () => (await api.vmStatus(vmId)) === 'migrating' && (await system.qemuDaemon(destination).virsh('list', '--uuid')).includes(vmId), 'the migration to be under way', 60_000);
    await system.killController();
    await eventually(async () => {
      t.true((await runningCopies(system, hosts, vmId)).length <= 1, 'never two running copies');
      return (await system.qemuDaemon(source).virsh('domstate', vmId).then(() => false, () => true));
    }, 'libvirt to finish the migration while the controller is down', 90_000);
    t.deepEqual(await runningCopies(system, hosts, vmId), [destination]);
    await system.startController();
    const finished = await eventually(async () => {
      t.true((await runningCopies(system, hosts, vmId)).length <= 1, 'never two running copies');
      const task = await api.get(`/tasks/${taskId}`, { accept: 'json' });
      return task.status === 200 && task.body.status !== 'running' ? task.body : undefined;
    }, 'the restarted controller to settle the migration', 60_000);
    t.is(finished.status, 'finished', JSON.stringify(finished));
    await eventually(async () => (await api.vmStatus(vmId)) === 'up', 'the VM to be up');
    t.is(nameOf((await api.vm(vmId)).host.id), destination);
    t.deepEqual(await runningCopies(system, hosts, vmId), [destination]);
    t.is(system.executedCommands(source).filter((commandId) => commandId === taskId).length, 1, 'the source was asked to migrate once');
  });
}
