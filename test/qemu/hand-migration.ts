import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { TestFn } from 'ava';
import { eventually } from '../support/eventually.js';
import { freePort, ProcessSystem } from '../support/process-system.js';
import type { QemuDaemon } from '../support/qemu-daemon.js';
import type { DatabaseKind } from '../support/scratch-database.js';

type Test = TestFn<unknown>;

/** Domains that move by hand, on real QEMU: the API follows a guest that an administrator migrated with virsh. */
export function handMigrationSuite(test: Test, database: DatabaseKind): void {
  test.serial(`[${database}] QEMU: a guest migrated by hand with virsh is up on its new host; start starts no second copy, stop stops it there and remove undefines it there, and its disk cannot be deleted while it runs`, async (t) => {
    const system = await ProcessSystem.start(database, { alpha: { qemu: true }, beta: { qemu: true } });
    t.teardown(() => system.close());
    const { api } = system;
    const hostIds = { alpha: await system.hostId('alpha'), beta: await system.hostId('beta') };

    await mkdir(path.join(system.mountRoot, 'nfs.example.org:_exports_migration'), { recursive: true });
    const storage = await api.post('/storagedomains', { name: 'migration-nfs', type: 'data', storage: { type: 'nfs', address: 'nfs.example.org', path: '/exports/migration' } }, { accept: 'json' });
    t.is(storage.status, 201, storage.text);
    const dataCenter = (await api.get('/datacenters', { accept: 'json' })).body.data_center.find((item: { name: string }) => item.name === 'Default');
    t.is((await api.post(`/datacenters/${dataCenter.id}/storagedomains`, `<storage_domain id="${storage.body.id}"/>`)).status, 201);
    const vmId = await api.createVm('migrated-by-hand', 128);
    const attached = await api.post(
      `/vms/${vmId}/diskattachments`,
      `<disk_attachment><bootable>true</bootable><interface>virtio</interface><active>true</active><disk><name>migrated-boot</name><provisioned_size>16777216</provisioned_size><format>cow</format><storage_domains><storage_domain id="${storage.body.id}"/></storage_domains></disk></disk_attachment>`,
    );
    t.is(attached.status, 201, attached.text);
    const diskId = attached.body.disk_attachment.id as string;
    await eventually(async () => (await api.get(`/disks/${diskId}`, { accept: 'json' })).body?.status === 'ok', 'the disk to be created');

    const started = await api.action(vmId, 'start');
    t.is(started.status, 200, started.text);
    const source = (await api.vm(vmId)).host.id === hostIds.alpha ? 'alpha' : 'beta';
    const target = source === 'alpha' ? 'beta' : 'alpha';
    const sourceDaemon = system.qemuDaemon(source);
    const targetDaemon = system.qemuDaemon(target);

    // The disk's file is on storage both hosts reach, which libvirt cannot tell is shared: hence --unsafe.
    await sourceDaemon.virsh('migrate', '--live', '--persistent', '--undefinesource', '--unsafe', vmId, targetDaemon.uri, '--migrateuri', `tcp://127.0.0.1:${await freePort()}`);
    t.regex(await targetDaemon.virsh('domstate', vmId), /running/, 'the guest runs on the target');
    await t.throwsAsync(sourceDaemon.virsh('domstate', vmId), undefined, 'the source no longer has the domain');

    const moved = await eventually(async () => {
      const vm = await api.vm(vmId);
      return vm.status === 'up' && vm.host?.id === hostIds[target] ? vm : undefined;
    }, `the VM to be up on ${target}`);
    t.is(moved.host.id, hostIds[target]);

    const again = await api.action(vmId, 'start');
    t.is(again.status, 409, `start of a VM running elsewhere is refused: ${again.text}`);
    await t.throwsAsync(sourceDaemon.virsh('domstate', vmId), undefined, 'no second copy on the source');
    t.regex(await targetDaemon.virsh('domstate', vmId), /running/);

    const deleted = await api.delete(`/disks/${diskId}`);
    t.is(deleted.status, 409, `the disk of the running guest is not deleted: ${deleted.text}`);
    t.truthy(deleted.body?.fault?.detail);

    const stopped = await api.action(vmId, 'stop');
    t.is(stopped.status, 200, stopped.text);
    t.regex(await targetDaemon.virsh('domstate', vmId), /shut off/, 'stop acted where the guest runs');
    const down = await api.vm(vmId);
    t.is(down.status, 'down');
    t.is(down.host?.id, hostIds[target], 'the VM stays defined where it was migrated to');
    const removed = await api.delete(`/vms/${vmId}`);
    t.is(removed.status, 200, removed.text);
    await t.throwsAsync(targetDaemon.virsh('domstate', vmId), undefined, 'remove undefined the domain where it was');
  });

  test.serial(`[${database}] QEMU: a guest migrated by hand as a transient domain, its definition left behind, stays up where it runs; a second copy started by hand makes the VM unknown, which no action starts again and stop brings back to one copy`, async (t) => {
    const system = await ProcessSystem.start(database, { alpha: { qemu: true }, beta: { qemu: true } });
    t.teardown(() => system.close());
    const { api } = system;
    const hostIds = { alpha: await system.hostId('alpha'), beta: await system.hostId('beta') };
    const vmId = await api.createVm('copied-by-hand', 64);
    const started = await api.action(vmId, 'start');
    t.is(started.status, 200, started.text);
    const source = (await api.vm(vmId)).host.id === hostIds.alpha ? 'alpha' : 'beta';
    const target = source === 'alpha' ? 'beta' : 'alpha';
    const sourceDaemon = system.qemuDaemon(source);
    const targetDaemon = system.qemuDaemon(target);
    const runsOn = async (daemon: QemuDaemon) => (await daemon.virsh('list', '--uuid')).includes(vmId);
    const vmOn = (host: 'alpha' | 'beta', status: string) =>
      eventually(async () => {
        const vm = await api.vm(vmId);
        return vm.status === status && vm.host?.id === hostIds[host] ? vm : undefined;
      }, `the VM to be ${status} on ${host}`);

    await sourceDaemon.virsh('migrate', '--live', vmId, targetDaemon.uri, '--migrateuri', `tcp://127.0.0.1:${await freePort()}`);
    t.regex(await sourceDaemon.virsh('domstate', vmId), /shut off/, 'the source keeps a stopped definition');
    t.notRegex(await targetDaemon.virsh('dominfo', vmId), /Persistent:\s+yes/, 'the target runs it as a transient domain');
    await vmOn(target, 'up');

    // The source's agent starts again and lists the stale definition in its inventory.
    await system.killAgent(source);
    await system.startAgent(source);
    await eventually(() => system.host(source).output.join('').split('connected to the controller').length > 2, `the ${source} agent to reconnect`);
    await system.waitForHostStatus(source, 'up');
    t.is((await vmOn(target, 'up')).host.id, hostIds[target], 'a stopped copy elsewhere does not move a running VM');
    const again = await api.action(vmId, 'start');
    t.is(again.status, 409, `start of a running VM is refused: ${again.text}`);
    t.regex(await sourceDaemon.virsh('domstate', vmId), /shut off/, 'no second copy was started');

    await sourceDaemon.virsh('start', vmId);
    const twice = await eventually(async () => {
      const vm = await api.vm(vmId);
      return vm.status === 'unknown' ? vm : undefined;
    }, 'the VM running twice to be unknown');
    t.regex(twice.status_detail, /two hosts/, 'its status detail says it runs on two hosts');
    for (const action of ['start', 'resume', 'suspend', 'reboot']) {
      const refused = await api.action(vmId, action);
      t.is(refused.status, 409, `${action} of a VM on two hosts is refused: ${refused.text}`);
    }
    t.is((await api.delete(`/vms/${vmId}`)).status, 409, 'a VM on two hosts is not removed');

    const stopped = await api.action(vmId, 'stop');
    t.is(stopped.status, 200, stopped.text);
    t.false(await runsOn(targetDaemon), 'stop stopped the copy on the host the VM showed');
    t.true(await runsOn(sourceDaemon));
    await vmOn(source, 'up');
    const last = await api.action(vmId, 'stop');
    t.is(last.status, 200, last.text);
    t.is(await api.vmStatus(vmId), 'down');
    for (const daemon of [sourceDaemon, targetDaemon]) t.false(await runsOn(daemon), 'no copy runs');
  });
}
