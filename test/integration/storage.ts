import { mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ExecutionContext, TestFn } from 'ava';
import { LibvirtConnection } from '../../agent/hypervisor/libvirt/native/index.js';
import { ProcessSystem } from '../support/process-system.js';
import { eventually } from '../support/eventually.js';
import type { Api, ApiResponse } from '../support/api.js';
import type { DatabaseKind } from '../support/scratch-database.js';
import { assertFault } from '../support/api.js';

type Test = TestFn<unknown>;

const gib = 1024 ** 3;
const mib = 1024 ** 2;

interface Shared {
  system: ProcessSystem;
  /** libvirt connections to each host's daemon, to read back what the hosts did. */
  libvirt: Map<string, LibvirtConnection>;
  localPath: string;
  sharedMount: string;
  localId: string;
  sharedId: string;
  alpha: string;
  beta: string;
}

/** The fields of a qcow2 header this suite checks, read from the file itself. */
async function qcow2Header(file: string): Promise<{ magic: string; virtualSize: number; backingFile: string }> {
  const handle = await open(file, 'r');
  try {
    const header = Buffer.alloc(512);
    await handle.read(header, 0, 512, 0);
    const backingOffset = Number(header.readBigUInt64BE(8));
    const backingSize = header.readUInt32BE(16);
    let backingFile = '';
    if (backingOffset > 0) {
      const name = Buffer.alloc(backingSize);
      await handle.read(name, 0, backingSize, backingOffset);
      backingFile = name.toString('utf8');
    }
    return { magic: header.subarray(0, 4).toString('latin1'), virtualSize: Number(header.readBigUInt64BE(24)), backingFile };
  } finally {
    await handle.close();
  }
}

const exists = (file: string) =>
  stat(file).then(
    () => true,
    () => false,
  );

async function waitForDisk(api: Api, id: string, status: string): Promise<any> {
  return eventually(async () => {
    const disk = (await api.get(`/disks/${id}`, { accept: 'json' })).body;
    return disk?.status === status ? disk : undefined;
  }, `disk ${id} to be ${status}`);
}

async function createDisk(t: ExecutionContext, api: Api, name: string, storageDomainId: string, size: number, extra = ''): Promise<any> {
  const created = await api.post(
    '/disks',
    `<disk><alias>${name}</alias><provisioned_size>${size}</provisioned_size>${extra}<storage_domains><storage_domain id="${storageDomainId}"/></storage_domains></disk>`,
  );
  t.is(created.status, 201, created.text);
  t.is(created.body.disk.status, 'locked', 'a new disk is locked while its volume is made');
  return waitForDisk(api, created.body.disk.id, 'ok');
}

/** The tasks listed under an object (`/vms/{id}/tasks`), newest first, as [action, status]. */
async function tasksOf(api: Api, owner: string): Promise<string[][]> {
  const response = await api.get(`${owner}/tasks`, { accept: 'json' });
  if (response.status !== 200) throw new Error(`GET ${owner}/tasks answered ${response.status}: ${response.text}`);
  return (response.body.task ?? []).map((task: any) => [task.action, task.status]);
}

/** The `<interface>` element of a domain's XML that has the MAC address. */
function interfaceWith(domainXml: string, mac: string): string | undefined {
  return domainXml.match(/<interface\b[\s\S]*?<\/interface>/g)?.find((element) => element.includes(`<mac address='${mac}'/>`));
}

/** Registers the storage, network, template and VM pool scenarios for one database. */
export function storageSuite(test: Test, database: DatabaseKind): void {
  const shared = {} as Shared;
  const tag = `[${database}]`;

  test.before(async () => {
    shared.system = await ProcessSystem.start(database, { alpha: { daemon: true }, beta: { daemon: true } });
    shared.libvirt = new Map();
    for (const name of ['alpha', 'beta']) {
      const connection = new LibvirtConnection(shared.system.host(name).daemon!.uri);
      await connection.open();
      shared.libvirt.set(name, connection);
    }
    shared.alpha = await shared.system.hostId('alpha');
    shared.beta = await shared.system.hostId('beta');
    shared.localPath = path.join(shared.system.directory, 'local-alpha');
    await mkdir(shared.localPath, { recursive: true });
    shared.sharedMount = path.join(shared.system.mountRoot, 'nfs.example.org:_exports_data');
    await mkdir(shared.sharedMount, { recursive: true });
  });
  test.after.always(async () => {
    for (const connection of shared.libvirt?.values() ?? []) await connection.close();
    await shared.system?.close();
  });

  test.serial(`${tag} storage domains are created, attached and activated on the hosts that reach them`, async (t) => {
    const { api } = shared.system;
    const local = await api.post(
      '/storagedomains',
      `<storage_domain><name>local-a</name><type>data</type><host><name>alpha</name></host><storage><type>localfs</type><path>${shared.localPath}</path></storage></storage_domain>`,
    );
    t.is(local.status, 201, local.text);
    t.is(local.body.storage_domain.status, 'unattached');
    shared.localId = local.body.storage_domain.id;
    const nfs = await api.post('/storagedomains', { name: 'shared-nfs', type: 'data', storage: { type: 'nfs', address: 'nfs.example.org', path: '/exports/data' } }, { accept: 'json' });
    t.is(nfs.status, 201, nfs.text);
    shared.sharedId = nfs.body.id;
    t.deepEqual(nfs.body.storage, { address: 'nfs.example.org', path: '/exports/data', type: 'nfs' });

    const dc = (await api.get('/datacenters', { accept: 'json' })).body.data_center.find((item: any) => item.name === 'Default');
    for (const id of [shared.localId, shared.sharedId]) {
      const attached = await api.post(`/datacenters/${dc.id}/storagedomains`, `<storage_domain id="${id}"/>`);
      t.is(attached.status, 201, attached.text);
      const domain = (await api.get(`/storagedomains/${id}`, { accept: 'json' })).body;
      t.is(domain.status, 'active');
      t.true(Number(domain.available) > 0, 'the host reported the free space');
      t.true(Number(domain.used) > 0);
      t.is(domain.data_centers.data_center[0].id, dc.id);
    }
    const inDc = (await api.get(`/datacenters/${dc.id}/storagedomains`, { accept: 'json' })).body.storage_domain;
    t.deepEqual(inDc.map((item: any) => item.name).sort(), ['local-a', 'shared-nfs']);
    t.is(inDc[0].href, `/ovirt-engine/api/datacenters/${dc.id}/storagedomains/${inDc[0].id}`);

    const poolsOf = async (host: string) => (await shared.libvirt.get(host)!.listStoragePools()).map((pool) => pool.name);
    t.true((await poolsOf('alpha')).includes(`drover-sd-${shared.localId}`), 'the local domain is a pool on its host');
    t.false((await poolsOf('beta')).includes(`drover-sd-${shared.localId}`), 'and only there');
    for (const host of ['alpha', 'beta']) t.true((await poolsOf(host)).includes(`drover-sd-${shared.sharedId}`), `the shared domain is a pool on ${host}`);
    t.true(await exists(path.join(shared.sharedMount, shared.sharedId, 'images')));

    const tasks = (await api.get(`/storagedomains/${shared.sharedId}/tasks`, { accept: 'json' })).body.task;
    t.deepEqual(tasks.map((task: any) => [task.action, task.status]), [['activate', 'finished']]);
  });

  test.serial(`${tag} a disk is a volume on the host's storage, in libvirt and on disk, and deleting it removes it`, async (t) => {
    const { api } = shared.system;
    const disk = await createDisk(t, api, 'data-1', shared.sharedId, gib, '<format>cow</format>');
    t.is(disk.format, 'cow');
    t.is(disk.sparse, 'true');
    t.is(disk.provisioned_size, String(gib));
    t.true(Number(disk.actual_size) > 0, 'the host reported the space the volume takes');
    const file = path.join(shared.sharedMount, shared.sharedId, 'images', disk.id);
    const header = await qcow2Header(file);
    t.is(header.magic, 'QFI\xfb', 'the file is a qcow2 image');
    t.is(header.virtualSize, gib);
    t.is(header.backingFile, '');
    const known = await Promise.all(['alpha', 'beta'].map((host) => shared.libvirt.get(host)!.volumeInfo(`drover-sd-${shared.sharedId}`, disk.id).catch(() => null)));
    t.is(known.filter((info) => info?.capacity === gib).length, 1, 'libvirt on the host that made it knows the volume, with its size');
    const tasks = (await api.get(`/disks/${disk.id}/tasks`, { accept: 'json' })).body.task;
    t.deepEqual(tasks.map((task: any) => [task.action, task.status]), [['create', 'finished']]);

    const raw = await createDisk(t, api, 'raw-1', shared.localId, 64 * mib, '<format>raw</format><sparse>false</sparse>');
    const rawFile = path.join(shared.localPath, shared.localId, 'images', raw.id);
    const rawStat = await stat(rawFile);
    t.is(rawStat.size, 64 * mib, 'a raw volume is as large as the disk');
    t.true(rawStat.blocks * 512 >= 64 * mib, 'and preallocated');
    t.is((await qcow2Header(rawFile)).magic === 'QFI\xfb', false);
    t.is((await shared.libvirt.get('alpha')!.volumeInfo(`drover-sd-${shared.localId}`, raw.id))?.capacity, 64 * mib);

    for (const [id, volumeFile, host, pool] of [
      [disk.id, file, undefined, shared.sharedId],
      [raw.id, rawFile, 'alpha', shared.localId],
    ] as const) {
      const removed = await api.delete(`/disks/${id}`);
      t.is(removed.status, 200, removed.text);
      t.is(removed.body.action.status, 'complete');
      t.false(await exists(volumeFile), 'the file is gone');
      for (const name of host ? [host] : ['alpha', 'beta']) t.is(await shared.libvirt.get(name)!.volumeInfo(`drover-sd-${pool}`, id).catch(() => null), null, `libvirt on ${name} no longer has it`);
      assertFault(t, await api.get(`/disks/${id}`), 404);
    }
  });

  test.serial(`${tag} bad disks and storage domains are refused with 4xx faults and leave nothing behind`, async (t) => {
    const { api } = shared.system;
    const imagesOf = async (directory: string) => (await readdir(directory).catch(() => [])).sort();
    const sharedImages = path.join(shared.sharedMount, shared.sharedId, 'images');
    const before = { disks: (await api.get('/disks', { accept: 'json' })).body.disk.length, files: await imagesOf(sharedImages) };
    const disk = (size: string, extra = '', domain = shared.sharedId) =>
      api.post('/disks', `<disk><alias>bad</alias><provisioned_size>${size}</provisioned_size>${extra}<storage_domains><storage_domain id="${domain}"/></storage_domains></disk>`);
    assertFault(t, await disk('0'), 400, /provisioned_size/);
    assertFault(t, await disk('-1073741824'), 400, /provisioned_size/);
    assertFault(t, await disk('1e9'), 400, /whole number/);
    assertFault(t, await disk(String(2 ** 53)), 400, /provisioned_size/);
    assertFault(t, await disk(String(65 * 1024 ** 4)), 400, /provisioned_size/);
    assertFault(t, await disk(String(gib), '<format>qcow3</format>'), 400, /format/);
    assertFault(t, await disk(String(gib), '<format>cow</format><sparse>false</sparse>'), 400, /sparse/);
    assertFault(t, await disk(String(gib), '', '00000000-0000-4000-8000-000000000000'), 404, /storage domain/);
    assertFault(t, await api.post('/disks', '<disk><alias>nowhere</alias><provisioned_size>1073741824</provisioned_size></disk>'), 400, /storage_domain/);
    assertFault(t, await disk(String(1024 ** 4 * 60), '<format>raw</format><sparse>false</sparse>'), 409, /free/);
    t.is((await api.get('/disks', { accept: 'json' })).body.disk.length, before.disks, 'no disk row was created');
    t.deepEqual(await imagesOf(sharedImages), before.files, 'no file was created');

    const sd = (body: string) => api.post('/storagedomains', body);
    assertFault(t, await sd('<storage_domain><name>rel</name><storage><type>localfs</type><path>relative/dir</path></storage><host><name>alpha</name></host></storage_domain>'), 400, /absolute/);
    assertFault(t, await sd('<storage_domain><name>dots</name><storage><type>localfs</type><path>/srv/../etc</path></storage><host><name>alpha</name></host></storage_domain>'), 400, /absolute/);
    assertFault(t, await sd('<storage_domain><name>nohost</name><storage><type>localfs</type><path>/srv/x</path></storage></storage_domain>'), 400, /host/);
    assertFault(t, await sd('<storage_domain><name>iscsi</name><storage><type>iscsi</type><path>/x</path></storage></storage_domain>'), 400, /type/);
    assertFault(t, await sd('<storage_domain><name>iso</name><type>iso</type><storage><type>nfs</type><address>a</address><path>/x</path></storage></storage_domain>'), 400, /data domains/);
    assertFault(t, await sd('<storage_domain><name>noaddr</name><storage><type>nfs</type><path>/x</path></storage></storage_domain>'), 400, /address/);

    const missing = path.join(shared.system.directory, 'gone');
    await mkdir(missing);
    const gone = await sd(`<storage_domain><name>vanishing</name><host><name>alpha</name></host><storage><type>localfs</type><path>${missing}</path></storage></storage_domain>`);
    t.is(gone.status, 201, gone.text);
    const dc = (await api.get('/datacenters', { accept: 'json' })).body.data_center.find((item: any) => item.name === 'Default');
    t.is((await api.post(`/datacenters/${dc.id}/storagedomains`, `<storage_domain id="${gone.body.storage_domain.id}"/>`)).status, 201);
    await rm(missing, { recursive: true });
    const failed = await disk(String(gib), '', gone.body.storage_domain.id);
    t.is(failed.status, 201, failed.text);
    const illegal = await waitForDisk(api, failed.body.disk.id, 'illegal');
    t.is(illegal.status, 'illegal', 'a disk whose volume could not be made is illegal, never ok');
    const task = (await api.get(`/disks/${illegal.id}/tasks`, { accept: 'json' })).body.task[0];
    t.is(task.status, 'failed');
    t.regex(task.fault.detail, /does not exist on this host/);
    t.false(await exists(missing), 'and nothing was written');
    t.is((await api.delete(`/disks/${illegal.id}`)).status, 200, 'an illegal disk can be removed');

    const vmId = await api.createVm('inline-on-gone', 64);
    const disksBefore = ((await api.get('/disks', { accept: 'json' })).body.disk as any[]).map((item) => item.id).sort();
    const inline = await api.post(
      `/vms/${vmId}/diskattachments`,
      `<disk_attachment><interface>virtio</interface><active>true</active><disk><name>inline-gone</name><provisioned_size>${gib}</provisioned_size><storage_domains><storage_domain id="${gone.body.storage_domain.id}"/></storage_domains></disk></disk_attachment>`,
    );
    assertFault(t, inline, 503, /does not exist on this host/);
    t.deepEqual((await api.get(`/vms/${vmId}/diskattachments`, { accept: 'json' })).body, { disk_attachment: [] }, 'the failed inline disk left no attachment');
    const disksAfter = (await api.get('/disks', { accept: 'json' })).body.disk as any[];
    t.deepEqual(disksAfter.map((item) => item.id).sort(), disksBefore, 'and no disk row, ok or not');
    t.false(disksAfter.some((item) => item.name === 'inline-gone'));
    t.deepEqual((await api.get(`/storagedomains/${gone.body.storage_domain.id}/disks`, { accept: 'json' })).body, { disk: [] });
    t.false(await exists(missing), 'and no volume');
    const attachTask = (await api.get(`/vms/${vmId}/tasks`, { accept: 'json' })).body.task;
    t.deepEqual(attachTask.map((item: any) => [item.action, item.status]), [['attach_disk', 'failed']], 'the attachment was a task, which failed');
    t.regex(attachTask[0].fault.detail, /does not exist on this host/);
    t.is((await api.delete(`/vms/${vmId}`)).status, 200);

    assertFault(t, await api.delete(`/storagedomains/${shared.localId}`), 409, /deactivate/);
  });

  test.serial(`${tag} attachments are devices in the domain definition; a running VM's hot-plug is refused where libvirt cannot`, async (t) => {
    const { api } = shared.system;
    const vmId = await api.createVm('with-disks', 256);
    const boot = await createDisk(t, api, 'boot-1', shared.localId, gib);
    const attached = await api.post(`/vms/${vmId}/diskattachments`, `<disk_attachment><bootable>true</bootable><interface>virtio</interface><active>true</active><disk id="${boot.id}"/></disk_attachment>`);
    t.is(attached.status, 201, attached.text);
    t.is(attached.body.disk_attachment.id, boot.id);
    t.is(attached.body.disk_attachment.bootable, 'true');
    assertFault(t, await api.post(`/vms/${vmId}/diskattachments`, `<disk_attachment><disk id="${boot.id}"/></disk_attachment>`), 409, /already attached/);

    t.is((await api.action(vmId, 'start')).status, 200);
    const vm = await api.vm(vmId);
    t.is(vm.host.id, shared.alpha, 'a VM with a disk on local storage runs on that storage host');
    const libvirt = shared.libvirt.get('alpha')!;
    const live = await libvirt.domainXml(vmId);
    const bootFile = path.join(shared.localPath, shared.localId, 'images', boot.id);
    t.true(live.includes(`<source file='${bootFile}'`), 'the running domain has the disk');
    t.true(live.includes(`<alias name='ua-${boot.id}'/>`));

    const extra = await createDisk(t, api, 'extra-1', shared.sharedId, gib);
    const hotplug = await api.post(`/vms/${vmId}/diskattachments`, `<disk_attachment><interface>virtio</interface><active>true</active><disk id="${extra.id}"/></disk_attachment>`);
    assertFault(t, hotplug, 409, /cannot/);
    t.deepEqual((await api.get(`/vms/${vmId}/diskattachments`, { accept: 'json' })).body.disk_attachment.map((item: any) => item.id), [boot.id], 'nothing was attached');
    t.false((await libvirt.domainXml(vmId)).includes(extra.id), 'the domain did not change');
    t.false((await libvirt.domainXml(vmId, { inactive: true })).includes(extra.id));
    assertFault(t, await api.delete(`/disks/${boot.id}`), 409, /running/);

    t.is((await api.action(vmId, 'stop')).status, 200);
    const cold = await api.post(`/vms/${vmId}/diskattachments`, `<disk_attachment><interface>virtio_scsi</interface><active>true</active><disk id="${extra.id}"/></disk_attachment>`);
    t.is(cold.status, 201, cold.text);
    const defined = await libvirt.domainXml(vmId, { inactive: true });
    t.true(defined.includes(`<alias name='ua-${extra.id}'/>`), 'a stopped VM is redefined with the new disk');
    t.true(defined.includes("<target dev='sda' bus='scsi'/>"));
    t.true(defined.includes("model='virtio-scsi'"), 'with the controller its bus needs');
    t.is((await api.action(vmId, 'start')).status, 200);
    t.true((await libvirt.domainXml(vmId)).includes(`<alias name='ua-${extra.id}'/>`), 'and it is there once the VM runs');
    t.is((await api.action(vmId, 'stop')).status, 200);

    const detached = await api.delete(`/vms/${vmId}/diskattachments/${extra.id}`);
    t.is(detached.status, 200, detached.text);
    t.false((await libvirt.domainXml(vmId, { inactive: true })).includes(extra.id), 'detaching removes the device');
    t.is((await api.get(`/disks/${extra.id}`, { accept: 'json' })).body.status, 'ok', 'the disk itself stays');

    const inline = await api.post(
      `/vms/${vmId}/diskattachments`,
      `<disk_attachment><interface>sata</interface><active>false</active><disk><name>inline-1</name><provisioned_size>${64 * mib}</provisioned_size><storage_domains><storage_domain id="${shared.localId}"/></storage_domains></disk></disk_attachment>`,
    );
    t.is(inline.status, 201, inline.text);
    t.is(inline.body.disk_attachment.active, 'false');
    t.is((await api.get(`/disks/${inline.body.disk_attachment.id}`, { accept: 'json' })).body.status, 'ok', 'an inline disk is created with its attachment');
    const vmTasks = (await api.get(`/vms/${vmId}/tasks`, { accept: 'json' })).body.task as any[];
    t.deepEqual(
      vmTasks.map((task) => [task.action, task.status]),
      [
        ['attach_disk', 'finished'],
        ['detach_disk', 'finished'],
        ['stop', 'finished'],
        ['start', 'finished'],
        ['attach_disk', 'finished'],
        ['stop', 'finished'],
        ['attach_disk', 'failed'],
        ['start', 'finished'],
        ['attach_disk', 'finished'],
      ],
      "every device change is a task listed under the VM, newest first; refusals before queueing left none",
    );
    t.regex(vmTasks[6].fault.detail, /cannot/, 'the refused hot-plug is the failed task');
    const searched = await api.get(`/tasks?search=${encodeURIComponent('vm=with-disks')}`, { accept: 'json' });
    t.deepEqual((searched.body.task as any[]).map((task) => task.id), vmTasks.map((task) => task.id), "the tasks of the VM are the tasks whose vm it is");

    const betaPath = path.join(shared.system.directory, 'local-beta');
    await mkdir(betaPath);
    const localB = await api.post('/storagedomains', `<storage_domain><name>local-b</name><host><name>beta</name></host><storage><type>localfs</type><path>${betaPath}</path></storage></storage_domain>`);
    t.is(localB.status, 201, localB.text);
    const dc = (await api.get('/datacenters', { accept: 'json' })).body.data_center.find((item: any) => item.name === 'Default');
    t.is((await api.post(`/datacenters/${dc.id}/storagedomains`, `<storage_domain id="${localB.body.storage_domain.id}"/>`)).status, 201);
    const betaVm = await api.createVm('on-beta', 256);
    const betaDisk = await createDisk(t, api, 'local-b-1', localB.body.storage_domain.id, 64 * mib);
    t.is((await api.post(`/vms/${betaVm}/diskattachments`, `<disk_attachment><disk id="${betaDisk.id}"/></disk_attachment>`)).status, 201);
    t.is((await api.action(betaVm, 'start')).status, 200);
    t.is((await api.vm(betaVm)).host.id, shared.beta);
    t.is((await api.action(betaVm, 'stop')).status, 200);
    const alphaDisk = await createDisk(t, api, 'local-a-2', shared.localId, 64 * mib);
    assertFault(t, await api.post(`/vms/${betaVm}/diskattachments`, `<disk_attachment><disk id="${alphaDisk.id}"/></disk_attachment>`), 409, /local storage of host/);
    t.is((await api.get(`/vms/${betaVm}/diskattachments`, { accept: 'json' })).body.disk_attachment.length, 1);
  });

  test.serial(`${tag} a VM never placed cannot get local disks of two hosts: the second is a 409 at attach time, with nothing changed`, async (t) => {
    const { api } = shared.system;
    const localB = ((await api.get('/storagedomains?search=name%3Dlocal-b', { accept: 'json' })).body.storage_domain as any[])[0];
    t.truthy(localB, "beta's local domain exists");
    const vmId = await api.createVm('unplaced', 64);
    const alphaDisk = await createDisk(t, api, 'unplaced-a', shared.localId, 16 * mib);
    t.is((await api.post(`/vms/${vmId}/diskattachments`, `<disk_attachment><active>false</active><disk id="${alphaDisk.id}"/></disk_attachment>`)).status, 201, 'a local disk of alpha, inactive');
    const betaDisk = await createDisk(t, api, 'unplaced-b', localB.id, 16 * mib);
    const betaImages = path.join(localB.storage.path, localB.id, 'images');
    const filesBefore = (await readdir(betaImages)).sort();
    const disksBefore = ((await api.get('/disks', { accept: 'json' })).body.disk as any[]).map((disk) => disk.id).sort();
    t.is((await api.vm(vmId)).host, undefined, 'the VM was never placed');

    const refusal = /disk unplaced-b is on the local storage of host beta, but VM unplaced has disk unplaced-a on the local storage of host alpha/;
    assertFault(t, await api.post(`/vms/${vmId}/diskattachments`, `<disk_attachment><disk id="${betaDisk.id}"/></disk_attachment>`), 409, refusal);
    assertFault(
      t,
      await api.post(
        `/vms/${vmId}/diskattachments`,
        `<disk_attachment><disk><name>unplaced-inline</name><provisioned_size>${16 * mib}</provisioned_size><storage_domains><storage_domain id="${localB.id}"/></storage_domains></disk></disk_attachment>`,
      ),
      409,
      /disk unplaced-inline is on the local storage of host beta, but VM unplaced has disk unplaced-a/,
    );
    t.deepEqual(((await api.get(`/vms/${vmId}/diskattachments`, { accept: 'json' })).body.disk_attachment as any[]).map((item) => item.id), [alphaDisk.id], 'nothing was attached');
    t.deepEqual((await api.get(`/disks/${betaDisk.id}/vms`, { accept: 'json' })).body, { vm: [] }, "beta's disk is still floating");
    t.deepEqual(((await api.get('/disks', { accept: 'json' })).body.disk as any[]).map((disk) => disk.id).sort(), disksBefore, 'no disk was created');
    t.deepEqual((await readdir(betaImages)).sort(), filesBefore, 'and no volume');
    t.deepEqual(await tasksOf(api, `/vms/${vmId}`), [['attach_disk', 'finished']], 'the refusals queued no task');

    const sharedDisk = await createDisk(t, api, 'unplaced-shared', shared.sharedId, 16 * mib);
    t.is((await api.post(`/vms/${vmId}/diskattachments`, `<disk_attachment><disk id="${sharedDisk.id}"/></disk_attachment>`)).status, 201, 'shared storage goes with any local disk');
    t.is((await api.delete(`/vms/${vmId}/diskattachments/${alphaDisk.id}`)).status, 200);
    const attached = await api.post(`/vms/${vmId}/diskattachments`, `<disk_attachment><bootable>true</bootable><disk id="${betaDisk.id}"/></disk_attachment>`);
    t.is(attached.status, 201, `without alpha's disk, beta's can be attached: ${attached.text}`);
    assertFault(t, await api.post(`/vms/${vmId}/diskattachments`, `<disk_attachment><disk id="${alphaDisk.id}"/></disk_attachment>`), 409, /has disk unplaced-b on the local storage of host beta/);
    t.is((await api.action(vmId, 'start')).status, 200);
    t.is((await api.vm(vmId)).host.id, shared.beta, 'and the VM runs on beta');
    t.is((await api.action(vmId, 'stop')).status, 200);
    t.is((await api.delete(`/vms/${vmId}`)).status, 200);
    t.is((await api.delete(`/disks/${alphaDisk.id}`)).status, 200);
  });

  test.serial(`${tag} attachments change with PUT; storage domains go to maintenance and are removed only without disks`, async (t) => {
    const { api } = shared.system;
    const vmId = await api.createVm('attachment-edits', 64);
    const disk = await createDisk(t, api, 'edit-1', shared.sharedId, 64 * mib);
    t.is((await api.post(`/vms/${vmId}/diskattachments`, `<disk_attachment><disk id="${disk.id}"/></disk_attachment>`)).status, 201);
    const changed = await api.put(`/vms/${vmId}/diskattachments/${disk.id}`, '<disk_attachment><interface>sata</interface><read_only>true</read_only><bootable>true</bootable></disk_attachment>');
    t.is(changed.status, 200, changed.text);
    t.is(changed.body.disk_attachment.interface, 'sata');
    t.is(changed.body.disk_attachment.read_only, 'true');
    t.is((await api.action(vmId, 'start')).status, 200);
    const host = (await api.vm(vmId)).host.id === shared.alpha ? 'alpha' : 'beta';
    const libvirt = shared.libvirt.get(host)!;
    t.true((await libvirt.domainXml(vmId)).includes("<target dev='sda' bus='sata'/>"));
    assertFault(t, await api.put(`/vms/${vmId}/diskattachments/${disk.id}`, '<disk_attachment><interface>ide</interface></disk_attachment>'), 409, /running/);
    assertFault(t, await api.put(`/vms/${vmId}/diskattachments/${disk.id}`, '<disk_attachment><active>false</active></disk_attachment>'), 409, /cannot/);
    t.is((await api.get(`/vms/${vmId}/diskattachments/${disk.id}`, { accept: 'json' })).body.active, 'true', 'a refused unplug leaves the attachment active');
    t.is((await api.action(vmId, 'stop')).status, 200);
    const inactive = await api.put(`/vms/${vmId}/diskattachments/${disk.id}`, '<disk_attachment><active>false</active></disk_attachment>');
    t.is(inactive.status, 200, inactive.text);
    t.false((await libvirt.domainXml(vmId, { inactive: true })).includes(disk.id), 'an inactive attachment is no device of the domain');

    const dcId = (await api.get(`/storagedomains/${shared.sharedId}`, { accept: 'json' })).body.data_centers.data_center[0].id;
    const scratchPath = path.join(shared.system.mountRoot, 'scratch');
    await mkdir(scratchPath);
    const scratch = await api.post('/storagedomains', '<storage_domain><name>scratch</name><storage><type>posixfs</type><path>scratch</path></storage></storage_domain>');
    assertFault(t, scratch, 400, /absolute/);
    const posix = await api.post('/storagedomains', '<storage_domain><name>scratch</name><storage><type>posixfs</type><path>/scratch</path></storage></storage_domain>');
    t.is(posix.status, 201, posix.text);
    const posixId = posix.body.storage_domain.id;
    await mkdir(path.join(shared.system.mountRoot, '_scratch'));
    t.is((await api.post(`/datacenters/${dcId}/storagedomains`, `<storage_domain id="${posixId}"/>`)).status, 201);
    const held = await createDisk(t, api, 'held', posixId, 16 * mib);
    assertFault(t, await api.delete(`/datacenters/${dcId}/storagedomains/${posixId}`), 409, /deactivate/);
    const deactivated = await api.post(`/datacenters/${dcId}/storagedomains/${posixId}/deactivate`, '<action/>');
    t.is(deactivated.status, 200, deactivated.text);
    t.is((await api.get(`/storagedomains/${posixId}`, { accept: 'json' })).body.status, 'maintenance');
    for (const name of ['alpha', 'beta']) t.false((await shared.libvirt.get(name)!.listStoragePools()).some((pool) => pool.name === `drover-sd-${posixId}`), `its pool is gone from ${name}`);
    assertFault(t, await api.post('/disks', `<disk><alias>nope</alias><provisioned_size>${mib * 16}</provisioned_size><storage_domains><storage_domain id="${posixId}"/></storage_domains></disk>`), 409, /active/);
    assertFault(t, await api.delete(`/storagedomains/${posixId}`), 409, /holds 1 disk/);
    t.is((await api.post(`/storagedomains/${posixId}/activate`, '<action/>')).status, 200);
    t.is((await api.delete(`/disks/${held.id}`)).status, 200);
    t.is((await api.post(`/storagedomains/${posixId}/deactivate`, '<action/>')).status, 200);
    t.is((await api.delete(`/datacenters/${dcId}/storagedomains/${posixId}`)).status, 200);
    t.is((await api.get(`/storagedomains/${posixId}`, { accept: 'json' })).body.status, 'unattached');
    t.is((await api.delete(`/storagedomains/${posixId}`)).status, 200);
    assertFault(t, await api.get(`/storagedomains/${posixId}`), 404);
  });

  test.serial(`${tag} NICs get unique MAC addresses from their cluster's pool, and an exhausted pool is a 409`, async (t) => {
    const { api } = shared.system;
    const profile = (await api.get('/vnicprofiles', { accept: 'json' })).body.vnic_profile.find((item: any) => item.name === 'ovirtmgmt');
    t.truthy(profile, 'the management network has a vNIC profile from the start');
    const pool = (await api.get('/macpools', { accept: 'json' })).body.mac_pool[0];
    const [from, to] = [pool.ranges.range[0].from, pool.ranges.range[0].to].map((mac: string) => parseInt(mac.replaceAll(':', ''), 16));
    const macs: string[] = [];
    const vmIds: string[] = [];
    for (let vm = 0; vm < 20; vm++) vmIds.push(await api.createVm(`nics-${vm}`, 64));
    for (let index = 0; index < 1000; index++) {
      const created = await api.post(`/vms/${vmIds[index % vmIds.length]}/nics`, { name: `nic${Math.floor(index / vmIds.length)}`, interface: 'virtio', vnic_profile: { id: profile.id } }, { accept: 'json' });
      if (created.status !== 201) t.fail(created.text);
      macs.push(created.body.mac.address);
    }
    t.is(new Set(macs).size, 1000, '1,000 NICs have 1,000 different addresses');
    t.true(macs.every((mac) => parseInt(mac.replaceAll(':', ''), 16) >= from && parseInt(mac.replaceAll(':', ''), 16) <= to), 'all from the pool');

    const small = await api.post('/macpools', '<mac_pool><name>tiny</name><ranges><range><from>56:6f:00:00:00:01</from><to>56:6f:00:00:00:03</to></range></ranges></mac_pool>');
    t.is(small.status, 201, small.text);
    const dc = (await api.get('/datacenters', { accept: 'json' })).body.data_center.find((item: any) => item.name === 'Default');
    const cluster = await api.post('/clusters', `<cluster><name>tiny-cluster</name><data_center id="${dc.id}"/><mac_pool id="${small.body.mac_pool.id}"/></cluster>`);
    t.is(cluster.status, 201, cluster.text);
    const vm = await api.post('/vms', '<vm><name>tiny-vm</name><memory>67108864</memory><cluster><name>tiny-cluster</name></cluster></vm>');
    const tinyVm = vm.body.vm.id;
    assertFault(t, await api.post(`/vms/${tinyVm}/nics`, '<nic><name>bad</name><mac><address>56:6f:00:00:00:zz</address></mac></nic>'), 400, /MAC address/);
    assertFault(t, await api.post(`/vms/${tinyVm}/nics`, '<nic><name>multi</name><mac><address>57:6f:00:00:00:01</address></mac></nic>'), 400, /unicast/);
    const chosen = await api.post(`/vms/${tinyVm}/nics`, '<nic><name>n1</name><mac><address>56:6F:00:00:00:02</address></mac></nic>');
    t.is(chosen.status, 201, chosen.text);
    t.is(chosen.body.nic.mac.address, '56:6f:00:00:00:02', 'a free address the user gives is kept');
    assertFault(t, await api.post(`/vms/${tinyVm}/nics`, '<nic><name>n2</name><mac><address>56:6f:00:00:00:02</address></mac></nic>'), 409, /in use/);
    assertFault(t, await api.post(`/vms/${tinyVm}/nics`, '<nic><name>n1</name></nic>'), 409, /already has a NIC named/);
    t.is((await api.post(`/vms/${tinyVm}/nics`, '<nic><name>n2</name></nic>')).status, 201);
    t.is((await api.post(`/vms/${tinyVm}/nics`, '<nic><name>n3</name></nic>')).status, 201);
    assertFault(t, await api.post(`/vms/${tinyVm}/nics`, '<nic><name>n4</name></nic>'), 409, /no free address/);
    t.is((await api.get(`/vms/${tinyVm}/nics`, { accept: 'json' })).body.nic.length, 3, 'the refused NIC left no row');
  });

  test.serial(`${tag} a NIC is an interface on its network, realized on the host the VM runs on`, async (t) => {
    const { api } = shared.system;
    const dc = (await api.get('/datacenters', { accept: 'json' })).body.data_center.find((item: any) => item.name === 'Default');
    const network = await api.post('/networks', `<network><name>backend</name><data_center id="${dc.id}"/><vlan id="42"/><mtu>9000</mtu></network>`);
    t.is(network.status, 201, network.text);
    t.is(network.body.network.vlan.id, '42');
    const profiles = (await api.get(`/networks/${network.body.network.id}/vnicprofiles`, { accept: 'json' })).body.vnic_profile;
    t.deepEqual(profiles.map((item: any) => item.name), ['backend'], 'a network comes with a profile of its name');
    const vmId = await api.createVm('networked', 64);
    const nic = await api.post(`/vms/${vmId}/nics`, `<nic><name>eth0</name><interface>e1000</interface><vnic_profile id="${profiles[0].id}"/></nic>`);
    t.is(nic.status, 201, nic.text);
    t.is((await api.action(vmId, 'start')).status, 200);
    const host = (await api.vm(vmId)).host.id === shared.alpha ? 'alpha' : 'beta';
    const libvirt = shared.libvirt.get(host)!;
    const xml = await libvirt.domainXml(vmId);
    t.true(xml.includes(`<mac address='${nic.body.nic.mac.address}'/>`));
    t.true(xml.includes(`<source network='drover-net-${network.body.network.id}'`));
    t.true(xml.includes("<model type='e1000'/>"));
    const networks = await libvirt.listNetworks();
    t.true(networks.some((item) => item.name === `drover-net-${network.body.network.id}` && item.active), 'the network exists and runs on the host');
    assertFault(t, await api.post(`/vms/${vmId}/nics`, `<nic><name>eth1</name><vnic_profile id="${profiles[0].id}"/></nic>`), 409, /cannot/);
    assertFault(t, await api.delete(`/networks/${network.body.network.id}`), 409, /used by/);
    t.is((await api.action(vmId, 'stop')).status, 200);
    const removed = await api.delete(`/vms/${vmId}/nics/${nic.body.nic.id}`);
    t.is(removed.status, 200, removed.text);
    t.false((await libvirt.domainXml(vmId, { inactive: true })).includes(nic.body.nic.mac.address), 'removing the NIC removes the interface');
    const nicTasks = (await api.get(`/vms/${vmId}/tasks`, { accept: 'json' })).body.task as any[];
    t.deepEqual(
      nicTasks.map((task) => [task.action, task.status]),
      [
        ['remove_nic', 'finished'],
        ['stop', 'finished'],
        ['add_nic', 'failed'],
        ['start', 'finished'],
        ['add_nic', 'finished'],
      ],
      'adding and removing NICs are tasks listed under the VM',
    );
    t.regex(nicTasks[2].fault.detail, /cannot/);
    t.is((await api.delete(`/networks/${network.body.network.id}`)).status, 200);
  });

  test.serial(`${tag} a NIC's model, link state and plugging, and an IDE disk, are what libvirt's domain XML says`, async (t) => {
    const { api } = shared.system;
    const profile = (await api.get('/vnicprofiles?search=name%3Dovirtmgmt', { accept: 'json' })).body.vnic_profile[0];
    const vmId = await api.createVm('device-xml', 64);
    const down = await api.post(`/vms/${vmId}/nics`, `<nic><name>eth0</name><interface>rtl8139</interface><linked>false</linked><vnic_profile id="${profile.id}"/></nic>`);
    t.is(down.status, 201, down.text);
    t.deepEqual([down.body.nic.interface, down.body.nic.linked, down.body.nic.plugged], ['rtl8139', 'false', 'true']);
    const spare = await api.post(`/vms/${vmId}/nics`, { name: 'eth1', interface: 'e1000', plugged: false, vnic_profile: { id: profile.id } }, { accept: 'json' });
    t.is(spare.status, 201, spare.text);
    t.deepEqual([spare.body.linked, spare.body.plugged], ['true', 'false']);
    const downMac = down.body.nic.mac.address as string;
    const spareMac = spare.body.mac.address as string;
    const disk = await createDisk(t, api, 'ide-1', shared.sharedId, 16 * mib);
    const ide = await api.post(`/vms/${vmId}/diskattachments`, `<disk_attachment><interface>ide</interface><bootable>true</bootable><active>true</active><disk id="${disk.id}"/></disk_attachment>`);
    t.is(ide.status, 201, ide.text);
    t.is(ide.body.disk_attachment.interface, 'ide');

    t.is((await api.action(vmId, 'start')).status, 200);
    const host = (await api.vm(vmId)).host.id === shared.alpha ? 'alpha' : 'beta';
    const libvirt = shared.libvirt.get(host)!;
    const live = await libvirt.domainXml(vmId);
    const eth0 = interfaceWith(live, downMac);
    t.truthy(eth0, 'the plugged NIC is an interface of the running domain');
    t.true(eth0!.includes("<model type='rtl8139'/>"), 'of its model');
    t.true(eth0!.includes("<link state='down'/>"), 'with its link down');
    t.false(live.includes(spareMac), 'an unplugged NIC is no interface');
    const ideDisk = live.match(/<disk\b[\s\S]*?<\/disk>/g)?.find((element) => element.includes(`<alias name='ua-${disk.id}'/>`));
    t.truthy(ideDisk, 'the IDE attachment is a disk of the domain');
    t.regex(ideDisk!, /<target dev='hda' bus='ide'\/>/);
    t.regex(ideDisk!, /<boot order='1'\/>|<source file='[^']+'/);
    assertFault(t, await api.put(`/vms/${vmId}/nics/${down.body.nic.id}`, '<nic><linked>true</linked></nic>'), 409, /only plugged can change/);
    assertFault(t, await api.put(`/vms/${vmId}/nics/${spare.body.id}`, '<nic><plugged>true</plugged></nic>'), 409, /cannot/);
    t.is((await api.get(`/vms/${vmId}/nics/${spare.body.id}`, { accept: 'json' })).body.plugged, 'false', 'a refused plug changes nothing');
    t.false((await libvirt.domainXml(vmId)).includes(spareMac));
    t.is((await api.action(vmId, 'stop')).status, 200);

    const linked = await api.put(`/vms/${vmId}/nics/${down.body.nic.id}`, '<nic><linked>true</linked><interface>virtio</interface></nic>');
    t.is(linked.status, 200, linked.text);
    t.deepEqual([linked.body.nic.linked, linked.body.nic.interface], ['true', 'virtio']);
    const plugged = await api.put(`/vms/${vmId}/nics/${spare.body.id}`, '<nic><plugged>true</plugged></nic>');
    t.is(plugged.status, 200, plugged.text);
    const defined = await libvirt.domainXml(vmId, { inactive: true });
    t.true(interfaceWith(defined, downMac)!.includes("<link state='up'/>"), 'the stopped domain is redefined with the link up');
    t.true(interfaceWith(defined, downMac)!.includes("<model type='virtio'/>"), 'and the new model');
    t.true(interfaceWith(defined, spareMac)?.includes("<model type='e1000'/>"), 'the plugged NIC is an interface now');
    const unplugged = await api.put(`/vms/${vmId}/nics/${down.body.nic.id}`, '<nic><plugged>false</plugged></nic>');
    t.is(unplugged.status, 200, unplugged.text);
    t.false((await libvirt.domainXml(vmId, { inactive: true })).includes(downMac), 'and an unplugged one is not');
    t.deepEqual((await tasksOf(api, `/vms/${vmId}`)).slice(0, 4), [
      ['update_nic', 'finished'],
      ['update_nic', 'finished'],
      ['update_nic', 'finished'],
      ['stop', 'finished'],
    ]);
    t.is((await api.delete(`/vms/${vmId}`)).status, 200);
  });

  test.serial(`${tag} templates copy a VM's disks; VMs made from them get thin copies, or full ones with clone=true`, async (t) => {
    const { api } = shared.system;
    const sourceVm = await api.createVm('golden', 128);
    const base = await createDisk(t, api, 'golden-os', shared.sharedId, 256 * mib);
    t.is((await api.post(`/vms/${sourceVm}/diskattachments`, `<disk_attachment><bootable>true</bootable><disk id="${base.id}"/></disk_attachment>`)).status, 201);
    t.is((await api.post(`/vms/${sourceVm}/nics`, '<nic><name>eth0</name></nic>')).status, 201);
    const created = await api.post('/templates', `<template><name>golden-tpl</name><vm id="${sourceVm}"/></template>`);
    t.is(created.status, 201, created.text);
    const templateId = created.body.template.id;
    const template = await eventually(async () => {
      const body = (await api.get(`/templates/${templateId}`, { accept: 'json' })).body;
      return body.status === 'ok' ? body : undefined;
    }, 'the template to be ok');
    t.is(template.memory, String(128 * mib));
    const templateDisk = (await api.get(`/templates/${templateId}/diskattachments`, { accept: 'json' })).body.disk_attachment[0];
    t.is(templateDisk.bootable, 'true');
    const images = path.join(shared.sharedMount, shared.sharedId, 'images');
    const templateFile = path.join(images, templateDisk.id);
    t.is((await qcow2Header(templateFile)).backingFile, '', "a template's disk is a copy of its own");
    t.is((await api.get(`/templates/${templateId}/nics`, { accept: 'json' })).body.nic.length, 1);
    const templateTasks = (await api.get(`/templates/${templateId}/tasks`, { accept: 'json' })).body.task as any[];
    t.deepEqual(templateTasks.map((task) => [task.action, task.status]), [['create', 'finished']], "copying the VM's disks is the template's task");
    t.is(templateTasks[0].template.id, templateId);
    t.is(templateTasks[0].vm.id, sourceVm, 'made from the VM');
    t.deepEqual(await tasksOf(api, `/vms/${sourceVm}`), [['add_nic', 'finished'], ['attach_disk', 'finished']]);

    const thin = await api.post('/vms', `<vm><name>from-tpl</name><cluster><name>Default</name></cluster><template id="${templateId}"/></vm>`);
    t.is(thin.status, 201, thin.text);
    const thinId = thin.body.vm.id;
    t.is(thin.body.vm.memory, String(128 * mib), "the VM takes the template's settings");
    const thinDisk = (await api.get(`/vms/${thinId}/diskattachments`, { accept: 'json' })).body.disk_attachment[0];
    await waitForDisk(api, thinDisk.id, 'ok');
    const thinHeader = await qcow2Header(path.join(images, thinDisk.id));
    t.is(thinHeader.backingFile, templateFile, "the thin copy's backing file is the template's volume");
    t.is(thinHeader.virtualSize, 256 * mib);
    const thinNic = (await api.get(`/vms/${thinId}/nics`, { accept: 'json' })).body.nic[0];
    t.truthy(thinNic.mac.address, 'its NIC has an address of its own');

    const clone = await api.post('/vms?clone=true', `<vm><name>cloned</name><cluster><name>Default</name></cluster><template id="${templateId}"/></vm>`);
    t.is(clone.status, 201, clone.text);
    const cloneDisk = (await api.get(`/vms/${clone.body.vm.id}/diskattachments`, { accept: 'json' })).body.disk_attachment[0];
    await waitForDisk(api, cloneDisk.id, 'ok');
    const cloneHeader = await qcow2Header(path.join(images, cloneDisk.id));
    t.is(cloneHeader.magic, 'QFI\xfb');
    t.is(cloneHeader.backingFile, '', 'clone=true gives an independent copy');
    t.is((await api.action(thinId, 'start')).status, 200);
    t.is((await api.action(thinId, 'stop')).status, 200);
    t.deepEqual(await tasksOf(api, `/vms/${thinId}`), [['stop', 'finished'], ['start', 'finished'], ['create_disks', 'finished']], "the copies of the template's disks are the VM's first task");

    assertFault(t, await api.delete(`/templates/${templateId}`), 409, /used by/);
    assertFault(t, await api.delete(`/disks/${templateDisk.id}`), 409, /template/);
    assertFault(t, await api.delete('/templates/00000000-0000-0000-0000-000000000000'), 409, /Blank/);
    for (const id of [thinId, clone.body.vm.id]) t.is((await api.delete(`/vms/${id}`)).status, 200);
    t.false(await exists(path.join(images, thinDisk.id)), "removing a VM removes its disks' volumes");
    const removed = await api.delete(`/templates/${templateId}`);
    t.is(removed.status, 200, removed.text);
    t.false(await exists(templateFile));
  });

  test.serial(`${tag} a VM pool keeps its prestarted VMs running and hands each free VM to one caller`, async (t) => {
    const { api } = shared.system;
    const created = await api.post('/vmpools', '<vm_pool><name>desk</name><size>4</size><prestarted_vms>2</prestarted_vms><max_user_vms>10</max_user_vms><template><name>Blank</name></template><cluster><name>Default</name></cluster></vm_pool>');
    t.is(created.status, 201, created.text);
    const poolId = created.body.vm_pool.id;
    const members = async () => ((await api.get('/vms', { accept: 'json' })).body.vm ?? []).filter((vm: any) => vm.vm_pool?.id === poolId);
    t.is((await members()).length, 4);
    const upCount = async () => (await members()).filter((vm: any) => vm.status === 'up').length;
    await eventually(async () => (await upCount()) === 2, 'two prestarted VMs to run');
    const running = (await members()).find((vm: any) => vm.status === 'up');
    t.is((await api.action(running.id, 'stop')).status, 200);
    await eventually(async () => (await upCount()) === 2, 'the pool to start a VM again after one was stopped', 10_000);

    const answers = await Promise.all(Array.from({ length: 6 }, () => api.post(`/vmpools/${poolId}/allocatevm`, '<action/>')));
    const handed = answers.filter((answer) => answer.status === 200).map((answer) => answer.body.action.vm.id);
    t.is(handed.length, 4, answers.map((answer) => answer.status).join(','));
    t.is(new Set(handed).size, 4, 'no VM went to two callers');
    for (const answer of answers.filter((item) => item.status !== 200)) assertFault(t, answer, 409, /no free VM/);
    for (const id of handed) t.is(await api.vmStatus(id), 'up', 'a handed VM runs');

    const grown = await api.put(`/vmpools/${poolId}`, '<vm_pool><size>5</size></vm_pool>');
    t.is(grown.status, 200, grown.text);
    t.is((await members()).length, 5);
    assertFault(t, await api.put(`/vmpools/${poolId}`, '<vm_pool><prestarted_vms>9</prestarted_vms></vm_pool>'), 400, /cannot exceed/);
    assertFault(t, await api.put(`/vmpools/${poolId}`, '<vm_pool><size>2</size></vm_pool>'), 409, /can shrink by/);
    assertFault(t, await api.delete(`/vmpools/${poolId}`), 409, /handed to users/);
    const json = await api.get(`/vmpools/${poolId}`, { accept: 'json' });
    t.is(json.body.size, '5');
    t.deepEqual(json.body.actions.link.map((link: any) => link.rel), ['allocatevm']);
    // The next test needs the hosts' memory: the pool stops prestarting its free VMs.
    t.is((await api.put(`/vmpools/${poolId}`, '<vm_pool><prestarted_vms>0</prestarted_vms></vm_pool>')).status, 200);

    const shrinking = await api.post('/vmpools', '<vm_pool><name>shrink</name><size>3</size><template><name>Blank</name></template><cluster><name>Default</name></cluster></vm_pool>');
    const shrinkId = shrinking.body.vm_pool.id;
    const shrinkMembers = async () => ((await api.get('/vms', { accept: 'json' })).body.vm ?? []).filter((vm: any) => vm.vm_pool?.id === shrinkId);
    t.is((await shrinkMembers()).length, 3);
    t.is((await api.put(`/vmpools/${shrinkId}`, '<vm_pool><size>1</size></vm_pool>')).status, 200);
    await eventually(async () => (await shrinkMembers()).length === 1, 'the pool to shrink to one VM');
    const removed = await api.delete(`/vmpools/${shrinkId}`);
    t.is(removed.status, 200, removed.text);
    t.is((await shrinkMembers()).length, 0);
    assertFault(t, await api.get(`/vmpools/${shrinkId}`), 404);
  });

  test.serial(`${tag} a VM pool gives a user at most max_user_vms VMs; an automatic pool takes back the VMs its user shut down, a manual one does not`, async (t) => {
    const { api } = shared.system;
    const source = await api.createVm('small-source', 64);
    const template = await api.post('/templates', `<template><name>small</name><vm id="${source}"/></template>`);
    t.is(template.status, 201, template.text);
    await eventually(async () => (await api.get(`/templates/${template.body.template.id}`, { accept: 'json' })).body.status === 'ok', 'the template to be ok');
    const pool = async (body: string) => {
      const created = await api.post('/vmpools', `<vm_pool>${body}<template><name>small</name></template><cluster><name>Default</name></cluster></vm_pool>`);
      t.is(created.status, 201, created.text);
      return created.body.vm_pool;
    };
    const allocate = (id: string) => api.post(`/vmpools/${id}/allocatevm`, '<action/>');
    const auto = await pool('<name>auto</name><size>3</size><max_user_vms>2</max_user_vms><type>automatic</type>');
    t.deepEqual([auto.max_user_vms, auto.type], ['2', 'automatic']);
    const first = await allocate(auto.id);
    const second = await allocate(auto.id);
    t.is(first.status, 200, first.text);
    t.is(second.status, 200, second.text);
    const [a, b] = [first.body.action.vm.id, second.body.action.vm.id];
    t.not(a, b);
    assertFault(t, await allocate(auto.id), 409, /you already have 2 VM\(s\) of pool auto, its limit per user/);
    const members = ((await api.get(`/vmpools/${auto.id}/vms`, { accept: 'json' })).body.vm as any[]).map((vm) => vm.id);
    t.is(members.length, 3);
    const third = members.find((id: string) => id !== a && id !== b);
    t.is(await api.vmStatus(third), 'down', 'the limit, not a lack of free VMs, refused the third');

    t.is((await api.action(a, 'shutdown')).status, 200);
    await shared.system.waitForVmStatus(a, 'down');
    const again = await eventually(async () => {
      const answer = await allocate(auto.id);
      return answer.status === 200 ? answer : undefined;
    }, 'the pool to take back the VM its user shut down');
    t.true([a, third].includes(again.body.action.vm.id), 'a free VM is handed again');
    t.is(await api.vmStatus(again.body.action.vm.id), 'up');
    assertFault(t, await allocate(auto.id), 409, /its limit per user/);

    const manual = await pool('<name>manual</name><size>2</size><max_user_vms>1</max_user_vms><type>manual</type>');
    t.is(manual.type, 'manual');
    const kept = await allocate(manual.id);
    t.is(kept.status, 200, kept.text);
    const keptId = kept.body.action.vm.id;
    assertFault(t, await allocate(manual.id), 409, /you already have 1 VM\(s\) of pool manual/);
    t.is((await api.action(keptId, 'shutdown')).status, 200);
    await shared.system.waitForVmStatus(keptId, 'down');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assertFault(t, await allocate(manual.id), 409, /its limit per user/, 'xml');
    assertFault(t, await api.delete(`/vmpools/${manual.id}`), 409, /handed to users/, 'xml');
    t.is((await api.action(keptId, 'start')).status, 200, 'the user starts the VM that stayed theirs');
    t.is((await api.action(keptId, 'stop')).status, 200);

    // Removing a pool is a task of the pool: it fails while a member's host does not respond, and the pool stays.
    for (const id of [again.body.action.vm.id, b]) t.is((await api.action(id, 'shutdown')).status, 200);
    await eventually(async () => (await api.get(`/vmpools/${auto.id}/vms?search=${encodeURIComponent('status=up')}`, { accept: 'json' })).body.vm.length === 0, 'the pool VMs to be down');
    const placed = await api.vm(a);
    const frozen = placed.host.id === shared.alpha ? 'alpha' : 'beta';
    shared.system.signalAgent(frozen, 'SIGSTOP');
    let failedRemoval: ApiResponse;
    try {
      await shared.system.waitForHostStatus(frozen, 'non_responsive', 5_000);
      failedRemoval = await eventually(async () => {
        const answer = await api.delete(`/vmpools/${auto.id}`);
        return answer.status === 409 && /handed to users/.test(answer.text) ? undefined : answer;
      }, 'the pool to take back the VMs its user shut down');
    } finally {
      shared.system.signalAgent(frozen, 'SIGCONT');
    }
    t.true(failedRemoval.status >= 500, failedRemoval.text);
    t.is(failedRemoval.body.action.status, 'failed');
    t.regex(failedRemoval.body.action.fault.detail, /VM auto-\d is on host \S+, which is not responding/);
    t.is((await api.get(`/vmpools/${auto.id}`, { accept: 'json' })).status, 200, 'the pool stays');
    const poolTasks = (await api.get(`/vmpools/${auto.id}/tasks`, { accept: 'json' })).body.task as any[];
    t.deepEqual(poolTasks.map((task) => [task.action, task.status]), [['remove', 'failed']], 'the failed removal is listed under the pool');
    t.regex(poolTasks[0].fault.detail, /not responding/);
    t.is(poolTasks[0].vm_pool.id, auto.id);
    await shared.system.waitForHostStatus(frozen, 'up');
    const removed = await api.delete(`/vmpools/${auto.id}`);
    t.is(removed.status, 200, removed.text);
    t.is(removed.body.action.status, 'complete');
    assertFault(t, await api.get(`/vmpools/${auto.id}`), 404);
    assertFault(t, await api.get(`/vmpools/${auto.id}/tasks`), 404);
    const ended = await api.get(`/tasks?search=${encodeURIComponent('object_type=vm_pool and action=remove')}`, { accept: 'json' });
    t.deepEqual(
      (ended.body.task as any[]).filter((task) => task.vm_pool.id === auto.id).map((task) => task.status),
      ['finished', 'failed'],
      "the pool's tasks outlive it",
    );
    for (const id of [a, b, third]) assertFault(t, await api.get(`/vms/${id}`), 404);
  });
}
