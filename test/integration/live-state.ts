import path from 'node:path';
import type { ExecutionContext, TestFn } from 'ava';
import { LibvirtDriver } from '../../agent/hypervisor/libvirt/driver.js';
import { runStatement } from '../../controller/db/store.js';
import type { Orm } from '../../controller/db/orm.js';
import { eventually } from '../support/eventually.js';
import { GatedDriver } from '../support/gated-driver.js';
import { InProcessSystem } from '../support/in-process-system.js';
import type { DatabaseKind } from '../support/scratch-database.js';

const mib = 1024 ** 2;

/** A system with one in-process agent whose driver a test can hold, an active local storage domain on its host, and a VM with one disk there. */
async function systemWithDisk(t: ExecutionContext, kind: DatabaseKind) {
  const system = await InProcessSystem.start(kind, { label: 'live-state' });
  t.teardown(() => system.close());
  let gated!: GatedDriver;
  await system.addAgent({ name: 'alpha', memoryMiB: 4096, driver: (options) => (gated = new GatedDriver(new LibvirtDriver(options))).driver });
  const { api } = system;
  const storagePath = path.join(system.directory, 'local-alpha');
  const domain = await api.addLocalStorage('local', 'alpha', storagePath);
  t.is(domain.status, 201, domain.text);
  const dataCenter = (await api.get('/datacenters', { accept: 'json' })).body.data_center[0];
  const attached = await api.post(`/datacenters/${dataCenter.id}/storagedomains`, `<storage_domain id="${domain.body.storage_domain.id}"/>`);
  t.is(attached.status, 201, attached.text);
  const vmId = await api.createVm('with-disk', 128);
  const disk = await api.post(
    `/vms/${vmId}/diskattachments`,
    `<disk_attachment><bootable>true</bootable><interface>virtio</interface><disk><alias>system</alias><provisioned_size>${64 * mib}</provisioned_size><format>cow</format><storage_domains><storage_domain id="${domain.body.storage_domain.id}"/></storage_domains></disk></disk_attachment>`,
  );
  t.is(disk.status, 201, disk.text);
  return { system, gated: () => gated, api, vmId, diskId: disk.body.disk_attachment.disk.id as string };
}

/** Makes every update of a VM's power state fail while `failing_writes` has a row: a failure of the database itself. */
async function injectWriteFailures(orm: Orm, kind: DatabaseKind): Promise<{ fail(): Promise<void>; heal(): Promise<void> }> {
  await runStatement(orm, 'create table failing_writes (reason varchar(64))');
  if (kind === 'postgres') {
    await runStatement(orm, `create function drover_test_fail() returns trigger language plpgsql as $$
      begin
        if exists (select 1 from failing_writes) and new.power_state is distinct from old.power_state then raise exception 'injected write failure'; end if;
        return new;
      end $$`);
    await runStatement(orm, 'create trigger vms_failing before update on vms for each row execute function drover_test_fail()');
  } else {
    await runStatement(orm, `create trigger vms_failing before update on vms when exists (select 1 from failing_writes) and new.power_state is not old.power_state begin select raise(abort, 'injected write failure'); end`);
  }
  return {
    fail: () => runStatement(orm, "insert into failing_writes (reason) values ('test')"),
    heal: () => runStatement(orm, 'delete from failing_writes'),
  };
}

/** Registers the scenarios of the live state's owner seen through the API, for one database. */
export function liveStateSuite(test: TestFn<unknown>, kind: DatabaseKind): void {
  test(`[${kind}] a VM cannot start while a template copy of its disks runs, and starts once the copy ended`, async (t) => {
    const { api, gated, vmId, diskId } = await systemWithDisk(t, kind);
    t.is((await api.action(vmId, 'start')).status, 200, 'the VM starts, and its devices are known from then on');
    t.is((await api.action(vmId, 'stop')).status, 200);

    const copy = gated().hold('createVolume');
    const template = await api.post('/templates', `<template><name>golden</name><vm id="${vmId}"/></template>`);
    t.true(template.status === 201 || template.status === 202, template.text);
    await copy.reached;
    t.is(await api.diskStatus(diskId), 'locked');
    const refused = await api.action(vmId, 'start');
    t.is(refused.status, 409, refused.text);
    t.regex(refused.text, /cannot start: disk .* is locked/);
    t.is(await api.vmStatus(vmId), 'down');
    const again = await api.post('/templates', `<template><name>golden-2</name><vm id="${vmId}"/></template>`);
    t.is(again.status, 409, `a second copy of the same disks is refused: ${again.text}`);

    copy.release();
    await eventually(async () => (await api.get(`/templates/${template.body.template.id}`, { accept: 'json' })).body.status === 'ok', 'the template copy to end');
    t.is(await api.diskStatus(diskId), 'ok');
    const started = await api.action(vmId, 'start');
    t.is(started.status, 200, started.text);
    t.is(await api.vmStatus(vmId), 'up');
  });

  test(`[${kind}] a VM cannot start on a disk whose removal has begun`, async (t) => {
    const { system, api, gated, vmId, diskId } = await systemWithDisk(t, kind);
    t.is((await api.action(vmId, 'start')).status, 200, 'the VM starts, and its devices are known from then on');
    t.is((await api.action(vmId, 'stop')).status, 200);
    const { services } = system.controller;

    const redefine = gated().hold('define');
    await services.disks.remove(diskId, null);
    const refused = await t.throwsAsync(services.vms.requestAction(vmId, 'start', null), undefined, 'a start submitted once the removal took the disk, while the disk is still attached, is refused');
    t.regex(refused!.message, /cannot start: disk .* is locked/);
    await redefine.reached;
    t.is(await api.diskStatus(diskId), 'locked');
    t.deepEqual((await api.get(`/vms/${vmId}/diskattachments`, { accept: 'json' })).body.disk_attachment ?? [], [], 'the disk is detached before the host redefines the VM');

    redefine.release();
    await eventually(async () => (await api.get(`/disks/${diskId}`, { accept: 'json' })).status === 404, 'the disk to be removed');
    const started = await api.action(vmId, 'start');
    t.is(started.status, 200, `without the disk the VM starts: ${started.text}`);
  });

  test(`[${kind}] VM states the database refused to take are written once it takes them again; GET and search then agree`, async (t) => {
    const system = await InProcessSystem.start(kind, { label: 'live-state' });
    t.teardown(() => system.close());
    await system.addAgent({ name: 'alpha', memoryMiB: 4096 });
    const { api } = system;
    const vmId = await api.createVm('refused-writes', 128);
    const writes = await injectWriteFailures(system.controller.orm, kind);
    await writes.fail();

    t.is((await api.action(vmId, 'start')).status, 200);
    t.is(await api.vmStatus(vmId), 'up', 'GET shows what the host reported');
    const search = await api.get(`/vms?search=${encodeURIComponent('status=up')}`);
    t.is(search.status, 503, `a search that needs the refused writes says so: ${search.text}`);

    await writes.heal();
    const found = await eventually(async () => {
      const response = await api.get(`/vms?search=${encodeURIComponent('status=up')}`, { accept: 'json' });
      return response.status === 200 && (response.body.vm ?? []).some((vm: { id: string }) => vm.id === vmId) ? response : undefined;
    }, 'the search to find the VM up once the writes are taken');
    t.is(found.status, 200);
    t.is(await api.vmStatus(vmId), 'up');
    const rows = await system.controller.orm.em.fork().getConnection().execute(`select power_state from vms where id = '${vmId}'`);
    t.is(rows[0]?.power_state, 'running', 'the row has the state GET shows');
  });
}
