import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { TestFn } from 'ava';
import { eventually } from '../support/eventually.js';
import { ProcessSystem } from '../support/process-system.js';
import type { DatabaseKind } from '../support/scratch-database.js';

type Test = TestFn<unknown>;

const migrationUri = (host: string) => ({ agentEnvironment: { DROVER_MIGRATION_URI: `qemu+tcp://${host}.example.org/system` } });

/** Migration requests the scheduler refuses, and a migration the hypervisor cannot do, on libvirt's test driver: each leaves the VM where it runs. */
export function migrationRefusalSuite(test: Test, database: DatabaseKind): void {
  test.serial(`[${database}] migrations that cannot be are refused with a fault (not up, unknown host, no room, no migration URI, the own host, a host in maintenance); one whose destination cannot reach the VM's storage, or that the hypervisor cannot do, fails its task and leaves the VM up where it was`, async (t) => {
    const system = await ProcessSystem.start(database, {
      alpha: { memoryMiB: 8192, ...migrationUri('alpha') },
      beta: { memoryMiB: 256, ...migrationUri('beta') },
      gamma: { memoryMiB: 2048, ...migrationUri('gamma') },
      delta: { memoryMiB: 4096 },
    });
    t.teardown(() => system.close());
    const { api } = system;
    const ids = Object.fromEntries(await Promise.all(['alpha', 'beta', 'gamma', 'delta'].map(async (name) => [name, await system.hostId(name)] as const)));

    const vmId = await api.createVm('stays-put', 512);
    const down = await api.post(`/vms/${vmId}/migrate`, '<action/>');
    t.is(down.status, 409, down.text);
    t.regex(down.body.fault.detail, /it is down/);

    t.is((await api.action(vmId, 'start')).status, 200);
    const vm = await api.vm(vmId);
    t.is(vm.host.id, ids.alpha, 'the start went to the host with the most free memory');

    const refusals: [string, string, number, RegExp][] = [
      ['to an unknown host', '<action><host id="00000000-0000-4000-8000-00000000abcd"/></action>', 404, /host 00000000-0000-4000-8000-00000000abcd does not exist/],
      ['to its own host', `<action><host id="${ids.alpha}"/></action>`, 409, /the host the VM runs on/],
      ['to a host without room', `<action><host id="${ids.beta}"/></action>`, 409, /memory are not free there/],
      ['to a host that takes no migrations', '<action><host><name>delta</name></host></action>', 409, /takes no incoming migrations/],
      ['to another cluster', `<action><cluster id="${vm.cluster.id}0"/></action>`, 400, /within its cluster/],
      ['with a field Drover does not implement', '<action><migrate_downtime>5</migrate_downtime></action>', 400, /migrate_downtime/],
    ];
    for (const [what, body, status, detail] of refusals) {
      const refused = await api.post(`/vms/${vmId}/migrate`, body);
      t.is(refused.status, status, `a migration ${what}: ${refused.text}`);
      t.regex(refused.body.fault.detail, detail, what);
    }
    const json = await api.post(`/vms/${vmId}/migrate`, { host: { id: ids.beta } }, { accept: 'json' });
    t.is(json.status, 409, `JSON too: ${json.text}`);
    const tasks = (await api.get(`/vms/${vmId}/tasks`, { accept: 'json' })).body.task as { action: string }[];
    t.false(tasks.some((task) => task.action === 'migrate'), 'a refused migration leaves no task behind');

    const statistics = await api.get(`/vms/${vmId}/statistics`, { accept: 'json' });
    t.is(statistics.status, 200, statistics.text);
    const progress = (statistics.body.statistic as { name: string; unit: string; values: { value: { datum: number }[] } }[]).find((item) => item.name === 'migration.progress');
    t.is(progress?.unit, 'percent');
    t.is(Number(progress?.values.value[0]?.datum), 0, 'no migration runs');

    const notMigrating = await api.post(`/vms/${vmId}/cancelmigration`, '<action/>');
    t.is(notMigrating.status, 409, notMigrating.text);
    t.regex(notMigrating.body.fault.detail, /not being migrated/);

    const deactivated = await api.post(`/hosts/${ids.gamma}/deactivate`, '<action/>');
    t.is(deactivated.status, 200, deactivated.text);
    const toMaintenance = await api.post(`/vms/${vmId}/migrate`, `<action><host id="${ids.gamma}"/></action>`);
    t.is(toMaintenance.status, 409, toMaintenance.text);
    t.regex(toMaintenance.body.fault.detail, /in maintenance/);
    t.is((await api.post(`/hosts/${ids.gamma}/activate`, '<action/>')).status, 200);

    await mkdir(path.join(system.mountRoot, 'nfs.example.org:_exports_vms'), { recursive: true });
    const storage = await api.post('/storagedomains', { name: 'vms', type: 'data', storage: { type: 'nfs', address: 'nfs.example.org', path: '/exports/vms' } }, { accept: 'json' });
    t.is(storage.status, 201, storage.text);
    const dataCenter = (await api.get('/datacenters', { accept: 'json' })).body.data_center.find((item: { name: string }) => item.name === 'Default');
    t.is((await api.post(`/datacenters/${dataCenter.id}/storagedomains`, `<storage_domain id="${storage.body.id}"/>`)).status, 201);
    const withDisk = await api.createVm('with-disk', 512);
    const attached = await api.post(
      `/vms/${withDisk}/diskattachments`,
      `<disk_attachment><bootable>true</bootable><interface>virtio</interface><active>true</active><disk><name>with-disk-boot</name><provisioned_size>16777216</provisioned_size><format>cow</format><storage_domains><storage_domain id="${storage.body.id}"/></storage_domains></disk></disk_attachment>`,
    );
    t.is(attached.status, 201, attached.text);
    await eventually(async () => (await api.get(`/disks/${attached.body.disk_attachment.id}`, { accept: 'json' })).body?.status === 'ok', 'the disk to be created');
    t.is((await api.action(withDisk, 'start')).status, 200);
    t.is((await api.vm(withDisk)).host.id, ids.alpha);
    system.host('gamma').agentEnvironment.DROVER_STORAGE_MOUNT_ROOT = path.join(system.mountRoot, 'elsewhere');
    await system.killAgent('gamma');
    await system.startAgent('gamma');
    await eventually(() => system.host('gamma').output.join('').split('connected to the controller').length > 2, 'the gamma agent to reconnect', 30_000);
    await system.waitForHostStatus('gamma', 'up', 30_000);
    const unreachable = await api.post(`/vms/${withDisk}/migrate`, `<action><host id="${ids.gamma}"/></action>`);
    t.is(unreachable.status, 409, `a destination that cannot reach the VM's storage fails the migration before the VM moves: ${unreachable.text}`);
    t.regex(unreachable.body.action.fault.detail, /gamma cannot take it.*(storage|directory|mount)/i);
    t.is((await api.vm(withDisk)).host.id, ids.alpha, 'the VM stays where it runs');
    t.is(await api.vmStatus(withDisk), 'up');

    const failed = await api.post(`/vms/${vmId}/migrate`, '<action/>');
    t.true(failed.status >= 400 && failed.status < 600 && failed.status !== 500, `the test driver cannot migrate: ${failed.status} ${failed.text}`);
    t.is(failed.body.action.status, 'failed');
    t.truthy(failed.body.action.fault.detail);
    const after = await api.vm(vmId);
    t.is(after.status, 'up', 'the VM is still up');
    t.is(after.host.id, ids.alpha, 'on the host it ran on');
    t.regex(failed.body.action.fault.detail, /not supported|cannot/i, 'the fault is the hypervisor’s');
    const migrateTask = ((await api.get(`/vms/${vmId}/tasks`, { accept: 'json' })).body.task as { action: string; status: string; host?: { id: string } }[]).find((task) => task.action === 'migrate');
    t.is(migrateTask?.status, 'failed');
    t.is((await api.action(vmId, 'stop')).status, 200, 'the VM is not stuck in a migration');
  });
}
