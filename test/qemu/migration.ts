import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ExecutionContext, TestFn } from 'ava';
import { eventually } from '../support/eventually.js';
import { ProcessSystem } from '../support/process-system.js';
import type { QemuDaemon } from '../support/qemu-daemon.js';
import type { DatabaseKind } from '../support/scratch-database.js';

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

/** Creates a VM with a small disk on the storage domain, starts it, and resolves with its id and the host it runs on. */
export async function runningVmOnSharedStorage(context: Awaited<ReturnType<typeof migrationSystem>>, name: string, memoryMiB = 128) {
  const { api, storageId, nameOf } = context;
  const vmId = await api.createVm(name, memoryMiB);
  const attached = await api.post(
    `/vms/${vmId}/diskattachments`,
    `<disk_attachment><bootable>true</bootable><interface>virtio</interface><active>true</active><disk><name>${name}-boot</name><provisioned_size>16777216</provisioned_size><format>cow</format><storage_domains><storage_domain id="${storageId}"/></storage_domains></disk></disk_attachment>`,
  );
  if (attached.status !== 201) throw new Error(attached.text);
  const diskId = attached.body.disk_attachment.id as string;
  await eventually(async () => (await api.get(`/disks/${diskId}`, { accept: 'json' })).body?.status === 'ok', 'the disk to be created');
  const started = await api.action(vmId, 'start');
  if (started.status !== 200) throw new Error(started.text);
  return { vmId, diskId, host: nameOf((await api.vm(vmId)).host.id) };
}

/** The hosts whose daemon has the domain active (running or paused). */
export async function activeCopies(system: ProcessSystem, hosts: string[], vmId: string): Promise<string[]> {
  const active: string[] = [];
  for (const host of hosts) if ((await system.qemuDaemon(host).virsh('list', '--uuid')).includes(vmId)) active.push(host);
  return active;
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
    t.regex(notMigrating.body.fault.detail, /too late|not being migrated/);
  });
}
