import path from 'node:path';
import type { TestFn } from 'ava';
import { ProcessSystem } from '../support/process-system.js';
import { assertFault } from '../support/api.js';
import { eventually } from '../support/eventually.js';
import type { DatabaseKind } from '../support/scratch-database.js';

type Test = TestFn<unknown>;

const mebibyte = 1024 * 1024;
const vmXml = (name: string, extra = '') => `<vm><name>${name}</name><memory>${256 * mebibyte}</memory><cluster><name>Default</name></cluster>${extra}</vm>`;

/** Registers the host maintenance, fencing and high availability scenarios for one database. */
export function hostMaintenanceSuite(test: Test, database: DatabaseKind): void {
  test.serial(`[${database}] VM high availability and affinity are settings: stored, shown in XML and JSON, searchable; bad values are refused with 400`, async (t) => {
    const system = await ProcessSystem.start(database);
    t.teardown(() => system.close());
    const { api } = system;
    const created = await api.post('/vms', vmXml('guarded', '<high_availability><enabled>true</enabled><priority>50</priority></high_availability><placement_policy><affinity>pinned</affinity></placement_policy>'));
    t.is(created.status, 201, created.text);
    const id = created.body.vm.id as string;
    const xml = await api.get(`/vms/${id}`);
    t.regex(xml.text, /<high_availability><enabled>true<\/enabled><priority>50<\/priority><\/high_availability>/);
    t.regex(xml.text, /<placement_policy><affinity>pinned<\/affinity><\/placement_policy>/);
    const json = await api.vm(id);
    t.deepEqual(json.high_availability, { enabled: 'true', priority: '50' });
    t.deepEqual(json.placement_policy, { affinity: 'pinned' });

    const plain = await api.createVm('plain');
    t.deepEqual((await api.vm(plain)).high_availability, { enabled: 'false', priority: '0' }, 'a VM is not highly available unless asked, as in oVirt');
    t.deepEqual((await api.vm(plain)).placement_policy, { affinity: 'migratable' });

    const changed = await api.put(`/vms/${id}`, { high_availability: { enabled: 'false' }, placement_policy: { affinity: 'user_migratable' } });
    t.is(changed.status, 200, changed.text);
    t.like(await api.vm(id), { high_availability: { enabled: 'false', priority: '50' }, placement_policy: { affinity: 'user_migratable' } });
    t.is((await api.put(`/vms/${plain}`, '<vm><high_availability><enabled>true</enabled></high_availability></vm>')).status, 200);

    const search = async (query: string) => ((await api.get(`/vms?search=${encodeURIComponent(query)}`, { accept: 'json' })).body.vm ?? []).map((vm: any) => vm.id);
    t.deepEqual(await search('high_availability.enabled=true'), [plain]);
    t.deepEqual(await search('placement_policy.affinity=user_migratable'), [id]);
    t.deepEqual(await search('high_availability.priority>=50'), [id]);

    assertFault(t, await api.post('/vms', vmXml('bad-1', '<high_availability><enabled>maybe</enabled></high_availability>')), 400, /vm\.high_availability\.enabled must be true or false/);
    assertFault(t, await api.post('/vms', vmXml('bad-2', '<high_availability><priority>101</priority></high_availability>')), 400, /vm\.high_availability\.priority must be between 0 and 100/);
    assertFault(t, await api.post('/vms', vmXml('bad-3', '<placement_policy><affinity>sticky</affinity></placement_policy>')), 400, /vm\.placement_policy\.affinity must be one of migratable, user_migratable, pinned/);
    assertFault(t, await api.put(`/vms/${id}`, { placement_policy: { affinity: 'anywhere' } }, { accept: 'json' }), 400, /affinity must be one of/, 'json');
    assertFault(t, await api.post('/templates', `<template><name>t1</name><vm id="${id}"/><high_availability><enabled>true</enabled></high_availability></template>`), 400, /template\.high_availability\.enabled other than false/);
    t.like(await api.vm(id), { placement_policy: { affinity: 'user_migratable' } }, 'a refused change changes nothing');
  });

  test.serial(`[${database}] deactivate: a host with only shut-off VMs goes into maintenance, they leave it and start elsewhere, nothing is placed on it; activate brings it back`, async (t) => {
    const system = await ProcessSystem.start(database, { alpha: { memoryMiB: 8192 }, beta: { memoryMiB: 4096 } });
    t.teardown(() => system.close());
    const { api } = system;
    const [alpha, beta] = [await system.hostId('alpha'), await system.hostId('beta')];
    const vms = [await api.createVm('first'), await api.createVm('second')];
    const never = await api.createVm('never-started');
    for (const vm of vms) {
      t.is((await api.action(vm, 'start')).status, 200);
      t.is((await api.vm(vm)).host.id, alpha, 'the host with more free memory takes it');
      t.is((await api.action(vm, 'stop')).status, 200);
      t.is((await api.vm(vm)).host.id, alpha, 'a shut-off VM stays defined on its host');
    }
    const host = await api.get(`/hosts/${alpha}`);
    for (const action of ['deactivate', 'activate', 'fence']) t.true(host.text.includes(`href="/ovirt-engine/api/hosts/${alpha}/${action}" rel="${action}"`), `the host links its ${action} action`);

    const deactivated = await api.post(`/hosts/${alpha}/deactivate`, '<action/>');
    t.is(deactivated.status, 200, deactivated.text);
    t.is(deactivated.body.action.status, 'complete');
    t.is((await api.get(`/hosts/${alpha}`, { accept: 'json' })).body.status, 'maintenance');
    t.regex((await api.get(`/hosts/${alpha}`)).text, /<status>maintenance<\/status>/);
    const inMaintenance = (await api.get('/hosts?search=status%3Dmaintenance', { accept: 'json' })).body.host ?? [];
    t.deepEqual(inMaintenance.map((found: any) => found.id), [alpha], 'search by status finds the host in maintenance');
    t.deepEqual(((await api.get('/hosts?search=status%3Dup', { accept: 'json' })).body.host ?? []).map((found: any) => found.id), [beta]);
    for (const vm of vms) {
      const view = await api.vm(vm);
      t.is(view.status, 'down');
      t.is(view.host, undefined, 'the VM was undefined on the host going into maintenance');
    }
    const tasks = (await api.get(`/hosts/${alpha}/tasks`, { accept: 'json' })).body.task ?? [];
    t.true(tasks.some((task: any) => task.action === 'deactivate' && task.status === 'finished' && task.host?.id === alpha), 'the deactivation is a task of the host');

    for (const vm of [...vms, never]) {
      t.is((await api.action(vm, 'start')).status, 200);
      t.is((await api.vm(vm)).host.id, beta, 'nothing starts on a host in maintenance');
    }
    assertFault(t, await api.post(`/hosts/${alpha}/deactivate`, '<action/>'), 409, /maintenance already/);

    const activated = await api.post(`/hosts/${alpha}/activate`, '<action><async>true</async></action>');
    t.is(activated.status, 202, activated.text);
    t.is((await api.task(activated.body.action.task.id)).status, 'finished');
    t.is((await api.get(`/hosts/${alpha}`, { accept: 'json' })).body.status, 'up');
    assertFault(t, await api.post(`/hosts/${alpha}/activate`), 409, /active already/);
    const again = await api.createVm('after-activation');
    t.is((await api.action(again, 'start')).status, 200);
    t.is((await api.vm(again)).host.id, alpha, 'an active host takes VMs again');
  });

  test.serial(`[${database}] a host preparing for maintenance takes no new VM; activating it cancels the deactivation, which starts no more moves and fails, and the host is active`, async (t) => {
    const system = await ProcessSystem.start(database, { alpha: { memoryMiB: 8192 }, beta: { memoryMiB: 4096 } }, { heartbeatMs: 3000 });
    t.teardown(() => system.close());
    const { api } = system;
    const [alpha, beta] = [await system.hostId('alpha'), await system.hostId('beta')];
    const lingering = await api.createVm('lingering');
    t.is((await api.action(lingering, 'start')).status, 200);
    t.is((await api.action(lingering, 'stop')).status, 200);

    system.signalAgent('alpha', 'SIGSTOP');
    const deactivating = await api.post(`/hosts/${alpha}/deactivate`, '<action><async>true</async></action>');
    t.is(deactivating.status, 202, deactivating.text);
    await eventually(async () => (await api.get(`/hosts/${alpha}`, { accept: 'json' })).body.status === 'preparing_for_maintenance', 'the host to prepare for maintenance');
    const preparing = (await api.get('/hosts?search=status%3Dpreparing_for_maintenance', { accept: 'json' })).body.host ?? [];
    t.deepEqual(preparing.map((host: any) => host.id), [alpha]);
    const newcomer = await api.createVm('newcomer');
    t.is((await api.action(newcomer, 'start')).status, 200);
    t.is((await api.vm(newcomer)).host.id, beta, 'a host preparing for maintenance takes no new VM');

    const activating = await api.post(`/hosts/${alpha}/activate`, '<action><async>true</async></action>');
    t.is(activating.status, 202, activating.text);
    system.signalAgent('alpha', 'SIGCONT');
    const deactivation = await api.task(deactivating.body.action.task.id);
    t.is(deactivation.status, 'failed');
    t.regex(deactivation.fault.detail, /cancelled by its activation/);
    t.is((await api.task(activating.body.action.task.id)).status, 'finished');
    t.is((await api.get(`/hosts/${alpha}`, { accept: 'json' })).body.status, 'up');
    t.is((await api.vm(lingering)).host, undefined, 'the move that had begun was completed');
  });

  test.serial(`[${database}] a controller killed during a deactivation resumes it: every VM leaves the host by one task, run once, and the host goes into maintenance`, async (t) => {
    const system = await ProcessSystem.start(database, { alpha: { memoryMiB: 8192 }, beta: { memoryMiB: 4096 } }, { heartbeatMs: 3000 });
    t.teardown(() => system.close());
    const { api } = system;
    const alpha = await system.hostId('alpha');
    const vms = [await api.createVm('leaving-1'), await api.createVm('leaving-2'), await api.createVm('leaving-3')];
    for (const vm of vms) {
      t.is((await api.action(vm, 'start')).status, 200);
      t.is((await api.action(vm, 'stop')).status, 200);
    }
    system.signalAgent('alpha', 'SIGSTOP');
    const deactivating = await api.post(`/hosts/${alpha}/deactivate`, '<action><async>true</async></action>');
    t.is(deactivating.status, 202, deactivating.text);
    const departures = async (vm: string) => ((await api.get(`/vms/${vm}/tasks`, { accept: 'json' })).body.task ?? []).filter((task: any) => task.action === 'leave_host');
    await eventually(async () => (await departures(vms[0]!)).length === 1 && (await departures(vms[1]!)).length === 1, 'two VMs to be leaving at once');
    t.is((await departures(vms[2]!)).length, 0, 'the third waits for a slot');

    await system.killController('SIGKILL');
    await system.startController();
    system.signalAgent('alpha', 'SIGCONT');
    const deactivation = await api.task(deactivating.body.action.task.id);
    t.is(deactivation.status, 'finished', JSON.stringify(deactivation.fault ?? ''));
    t.is((await api.get(`/hosts/${alpha}`, { accept: 'json' })).body.status, 'maintenance');
    const executed = system.executedCommands('alpha');
    for (const vm of vms) {
      const tasks = await departures(vm);
      t.is(tasks.length, 1, 'one task moved the VM away');
      t.is(tasks[0].status, 'finished');
      t.is(executed.filter((id) => id === tasks[0].id).length, 1, 'its undefine ran once');
      t.is((await api.vm(vm)).host, undefined);
    }
  });

  test.serial(`[${database}] deactivate fails, naming them, when VMs cannot leave the host (pinned, a disk on its local storage), and the host is active again with nothing moved`, async (t) => {
    const system = await ProcessSystem.start(database, { alpha: { memoryMiB: 8192 }, beta: { memoryMiB: 4096 } });
    t.teardown(() => system.close());
    const { api } = system;
    const alpha = await system.hostId('alpha');
    const pinned = await api.createVm('pinned-one', 256, '<placement_policy><affinity>pinned</affinity></placement_policy>');
    const idle = await api.createVm('idle-one');
    const local = await api.createVm('local-one');
    const domain = await api.addLocalStorage('local-alpha', 'alpha', path.join(system.directory, 'local-alpha'));
    t.is(domain.status, 201, domain.text);
    const dataCenter = (await api.get('/datacenters', { accept: 'json' })).body.data_center[0];
    t.is((await api.post(`/datacenters/${dataCenter.id}/storagedomains`, `<storage_domain id="${domain.body.storage_domain.id}"/>`)).status, 201);
    const disk = await api.post(
      `/vms/${local}/diskattachments`,
      `<disk_attachment><bootable>true</bootable><interface>virtio</interface><disk><alias>system</alias><provisioned_size>${64 * mebibyte}</provisioned_size><format>cow</format><storage_domains><storage_domain id="${domain.body.storage_domain.id}"/></storage_domains></disk></disk_attachment>`,
    );
    t.is(disk.status, 201, disk.text);
    for (const vm of [pinned, idle, local]) t.is((await api.action(vm, 'start')).status, 200);
    for (const vm of [idle, local]) t.is((await api.action(vm, 'stop')).status, 200);

    const refused = await api.post(`/hosts/${alpha}/deactivate`, '<action/>');
    t.is(refused.status, 409, refused.text);
    t.is(refused.body.action.status, 'failed');
    t.regex(refused.body.action.fault.detail, /VM pinned-one is pinned to the host/);
    t.regex(refused.body.action.fault.detail, /VM local-one has a disk on the host's local storage/);
    t.notRegex(refused.body.action.fault.detail, /idle-one/);
    t.is((await api.get(`/hosts/${alpha}`, { accept: 'json' })).body.status, 'up', 'the host is active again');
    t.like(await api.vm(pinned), { status: 'up', host: { id: alpha } });
    for (const vm of [idle, local]) t.like(await api.vm(vm), { status: 'down', host: { id: alpha } }, 'nothing left the host');

    assertFault(t, await api.post(`/hosts/${alpha}/deactivate`, '<action><reason>kernel update</reason></action>'), 400, /action\.reason/);
    assertFault(t, await api.post('/hosts/00000000-0000-4000-8000-00000000dead/deactivate', '<action/>'), 404);
  });

  test.serial(`[${database}] deactivate migrates a running VM away; when its migration fails (the test driver cannot migrate) the deactivation fails naming it, and the VM stays up where it ran`, async (t) => {
    const migrationUri = (host: string) => ({ agentEnvironment: { DROVER_MIGRATION_URI: `qemu+tcp://${host}.example.org/system` } });
    const system = await ProcessSystem.start(database, { alpha: { memoryMiB: 8192, ...migrationUri('alpha') }, beta: { memoryMiB: 4096, ...migrationUri('beta') } });
    t.teardown(() => system.close());
    const { api } = system;
    const alpha = await system.hostId('alpha');
    const running = await api.createVm('running-one');
    t.is((await api.action(running, 'start')).status, 200);

    const failed = await api.post(`/hosts/${alpha}/deactivate`, '<action/>');
    t.is(failed.status, 409, failed.text);
    t.regex(failed.body.action.fault.detail, /VM running-one could not be migrated/);
    const migrations = ((await api.get(`/vms/${running}/tasks`, { accept: 'json' })).body.task ?? []).filter((task: any) => task.action === 'migrate');
    t.is(migrations.length, 1, 'the deactivation asked for one migration');
    t.is(migrations[0].status, 'failed');
    t.is((await api.get(`/hosts/${alpha}`, { accept: 'json' })).body.status, 'up', 'the host is active again');
    t.like(await api.vm(running), { status: 'up', host: { id: alpha } });
  });

  test.serial(`[${database}] fence manual: refused for a responding host; for a non-responsive one its VMs go down and the highly available one starts on another host; nothing restarts without it`, async (t) => {
    const system = await ProcessSystem.start(database, { alpha: { memoryMiB: 8192 }, beta: { memoryMiB: 4096 } });
    t.teardown(() => system.close());
    const { api } = system;
    const [alpha, beta] = [await system.hostId('alpha'), await system.hostId('beta')];
    const ha = await api.createVm('ha-one', 256, '<high_availability><enabled>true</enabled></high_availability>');
    const plain = await api.createVm('plain-one');
    for (const vm of [ha, plain]) {
      t.is((await api.action(vm, 'start')).status, 200);
      t.is((await api.vm(vm)).host.id, alpha);
    }

    assertFault(t, await api.post(`/hosts/${alpha}/fence`, '<action><fence_type>manual</fence_type></action>'), 409, /only a non_responsive or non_operational host/);
    assertFault(t, await api.post(`/hosts/${alpha}/fence`, '<action><fence_type>restart</fence_type></action>'), 400, /no power management/);
    assertFault(t, await api.post(`/hosts/${alpha}/fence`, '<action/>'), 400, /action\.fence_type is required/);
    assertFault(t, await api.post(`/hosts/${alpha}/fence`, '<action><fence_type>reboot</fence_type></action>'), 400, /fence_type must be one of manual/);

    await system.killAgent('alpha');
    await system.waitForHostStatus('alpha', 'non_responsive', 5_000);
    for (const vm of [ha, plain]) t.like(await api.vm(vm), { status: 'not_responding', host: { id: alpha } });
    const starts = async (vm: string) => ((await api.get(`/vms/${vm}/tasks`, { accept: 'json' })).body.task ?? []).filter((task: any) => task.action === 'start').length;
    t.is(await starts(ha), 1, 'without the confirmation nothing restarts the VM elsewhere');
    t.is((await api.action(ha, 'start')).status, 503, 'nor can an administrator start it elsewhere');

    const fenced = await api.post(`/hosts/${alpha}/fence`, '<action><fence_type>manual</fence_type></action>');
    t.is(fenced.status, 200, fenced.text);
    t.regex(fenced.body.action.description, /2 VM\(s\) of host alpha are down; highly available VM\(s\) started on other hosts: ha-one/);
    t.like(await api.vm(plain), { status: 'down' });
    t.is((await api.vm(plain)).host, undefined, 'a VM of a host confirmed down has no host');
    await eventually(async () => (await api.vm(ha)).status === 'up', 'the highly available VM to run again');
    t.is((await api.vm(ha)).host.id, beta, 'it runs on the other host');
    t.is((await api.get(`/hosts/${alpha}`, { accept: 'json' })).body.status, 'non_responsive', 'the host stays as its connectivity says');

    await system.startAgent('alpha');
    await system.waitForHostStatus('alpha', 'up');
    t.like(await api.vm(ha), { status: 'up', host: { id: beta } });
    t.is((await api.vm(plain)).host, undefined, 'the host came back without the VM; it stays down');
    t.is(await starts(plain), 1, 'a VM that is not highly available is not restarted');
  });
}
