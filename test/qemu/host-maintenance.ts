import type { TestFn } from 'ava';
import type { DatabaseKind } from '../support/scratch-database.js';
import { activeCopies, migrationSystem, runningVmOnSharedStorage } from './migration.js';

type Test = TestFn<unknown>;

/** Host maintenance on real QEMU: the running VMs of a host being deactivated migrate live to the other hosts. */
export function qemuHostMaintenanceSuite(test: Test, database: DatabaseKind): void {
  test.serial(`[${database}] QEMU: deactivating a host migrates its running VMs (at most two at once) and undefines its shut-off one; every VM ends up on the other host, one copy each, the host is in maintenance and takes no new VM; activate`, async (t) => {
    const hosts = ['alpha', 'beta'];
    const context = await migrationSystem(t, database, hosts);
    const { system, api, ids, nameOf } = context;
    const vms: { vmId: string; host: string }[] = [];
    for (let index = 0; index < 4; index++) vms.push(await runningVmOnSharedStorage(context, `tenant-${index}`, 64));
    const source = vms.filter((vm) => vm.host === 'alpha').length >= vms.filter((vm) => vm.host === 'beta').length ? 'alpha' : 'beta';
    const other = source === 'alpha' ? 'beta' : 'alpha';
    const leaving = vms.filter((vm) => vm.host === source);
    t.true(leaving.length >= 2, `${leaving.length} VMs run on ${source}`);
    const resting = leaving.pop()!;
    t.is((await api.action(resting.vmId, 'stop')).status, 200);

    const deactivated = await api.post(`/hosts/${ids[source]}/deactivate`, '<action/>');
    t.is(deactivated.status, 200, deactivated.text);
    t.is((await api.get(`/hosts/${ids[source]}`, { accept: 'json' })).body.status, 'maintenance');
    for (const { vmId } of leaving) {
      const vm = await api.vm(vmId);
      t.is(vm.status, 'up');
      t.is(nameOf(vm.host.id), other, 'the VM was migrated to the other host');
      t.deepEqual(await activeCopies(system, hosts, vmId), [other], 'one copy runs, on the other host');
      const migrations = ((await api.get(`/vms/${vmId}/tasks`, { accept: 'json' })).body.task ?? []).filter((task: { action: string }) => task.action === 'migrate');
      t.is(migrations.length, 1);
    }
    t.is((await api.vm(resting.vmId)).host, undefined, 'the shut-off VM was undefined on the host');
    await t.throwsAsync(system.qemuDaemon(source).virsh('domstate', resting.vmId), undefined, 'the host no longer defines it');

    t.is((await api.action(resting.vmId, 'start')).status, 200);
    t.is(nameOf((await api.vm(resting.vmId)).host.id), other, 'nothing starts on a host in maintenance');

    const activated = await api.post(`/hosts/${ids[source]}/activate`, '<action/>');
    t.is(activated.status, 200, activated.text);
    t.is((await api.get(`/hosts/${ids[source]}`, { accept: 'json' })).body.status, 'up');
    const back = await api.post(`/vms/${leaving[0]!.vmId}/migrate`, `<action><host id="${ids[source]}"/></action>`);
    t.is(back.status, 200, `an active host takes migrations again: ${back.text}`);
  });
}
