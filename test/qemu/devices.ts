import { access, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ExecutionContext, TestFn } from 'ava';
import { volumeFiles } from '../../agent/hypervisor/libvirt/volume-files.js';
import { assertFault, type ApiResponse } from '../support/api.js';
import { eventually } from '../support/eventually.js';
import { ProcessSystem } from '../support/process-system.js';
import { guestDomainType } from '../support/qemu-daemon.js';
import type { DatabaseKind } from '../support/scratch-database.js';

type Test = TestFn<unknown>;

const mib = 1024 ** 2;
const unplugTimeoutMs = 2000;

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

/** Creates a storage domain and attaches it to the Default data center, which activates it on the hosts that reach it; returns its id. */
async function storageDomain(t: ExecutionContext, system: ProcessSystem, document: string): Promise<string> {
  const created = await system.api.post('/storagedomains', document);
  t.is(created.status, 201, created.text);
  const dataCenter = (await system.api.get('/datacenters', { accept: 'json' })).body.data_center.find((item: any) => item.name === 'Default');
  const attached = await system.api.post(`/datacenters/${dataCenter.id}/storagedomains`, `<storage_domain id="${created.body.storage_domain.id}"/>`);
  t.is(attached.status, 201, attached.text);
  return created.body.storage_domain.id;
}

async function localStorage(t: ExecutionContext, system: ProcessSystem, host: string): Promise<{ id: string; images: string }> {
  const directory = path.join(system.directory, `local-${host}`);
  await mkdir(directory, { recursive: true });
  const id = await storageDomain(t, system, `<storage_domain><name>local-${host}</name><type>data</type><host><name>${host}</name></host><storage><type>localfs</type><path>${directory}</path></storage></storage_domain>`);
  return { id, images: path.join(directory, id, 'images') };
}

async function createDisk(t: ExecutionContext, system: ProcessSystem, name: string, storageDomainId: string): Promise<string> {
  const created = await system.api.post(
    '/disks',
    `<disk><alias>${name}</alias><provisioned_size>${64 * mib}</provisioned_size><format>cow</format><storage_domains><storage_domain id="${storageDomainId}"/></storage_domains></disk>`,
  );
  t.is(created.status, 201, created.text);
  const id = created.body.disk.id as string;
  await eventually(async () => (await system.api.get(`/disks/${id}`, { accept: 'json' })).body?.status === 'ok', `disk ${name} to be ok`);
  return id;
}

/** Checks that a task-backed request failed with the status, as `<action><status>failed</status><fault>...`, and that the fault's detail says why. */
function assertFailedAction(t: ExecutionContext, response: ApiResponse, status: number, detail: RegExp): void {
  t.is(response.status, status, response.text);
  t.is(response.body?.action?.status, 'failed', response.text);
  t.regex(response.body?.action?.fault?.detail ?? '', detail);
}

/** Hot-unplug on real QEMU, and volumes a guest uses, which are never deleted. */
export function qemuDevicesSuite(test: Test, database: DatabaseKind): void {
  test.serial(`[${database}] QEMU: an unplug completes only once the guest released the device; a device the guest holds stays plugged, defined and listed, and a NIC keeps its MAC`, async (t) => {
    const system = await ProcessSystem.start(database, { alpha: { qemu: true, agentEnvironment: { DROVER_UNPLUG_TIMEOUT_MS: String(unplugTimeoutMs) } } });
    t.teardown(() => system.close());
    const { api } = system;
    const daemon = system.qemuDaemon('alpha');
    const local = await localStorage(t, system, 'alpha');
    const vmId = await api.createVm('unplugged', 128);
    const scsi = await createDisk(t, system, 'scsi-1', local.id);
    const held = await createDisk(t, system, 'virtio-1', local.id);
    for (const [disk, bus] of [
      [scsi, 'virtio_scsi'],
      [held, 'virtio'],
    ] as const) {
      const attached = await api.post(`/vms/${vmId}/diskattachments`, `<disk_attachment><interface>${bus}</interface><active>true</active><disk id="${disk}"/></disk_attachment>`);
      t.is(attached.status, 201, attached.text);
    }
    const nic = await api.post(`/vms/${vmId}/nics`, '<nic><name>nic1</name><interface>virtio</interface></nic>');
    t.is(nic.status, 201, nic.text);
    const nicId = nic.body.nic.id as string;
    const mac = nic.body.nic.mac.address as string;
    t.is((await api.action(vmId, 'start')).status, 200);
    t.is(await api.vmStatus(vmId), 'up');
    const live = () => daemon.virsh('dumpxml', vmId);
    const defined = () => daemon.virsh('dumpxml', '--inactive', vmId);
    const listedDisks = async () => ((await api.get(`/vms/${vmId}/diskattachments`, { accept: 'json' })).body.disk_attachment ?? []).map((item: any) => item.id).sort();
    for (const id of [scsi, held, nicId]) t.true((await live()).includes(`ua-${id}`), `the running guest has device ${id}`);

    const unplugged = await api.delete(`/vms/${vmId}/diskattachments/${scsi}`);
    t.is(unplugged.status, 200, unplugged.text);
    t.false((await live()).includes(`ua-${scsi}`), 'a virtio-scsi disk, which needs no guest to let go, has left the running guest when the detach answers');
    t.false((await defined()).includes(`ua-${scsi}`), 'and the definition');
    t.deepEqual(await listedDisks(), [held]);

    const started = Date.now();
    const refused = await api.delete(`/vms/${vmId}/diskattachments/${held}`);
    assertFault(t, refused, 409, /has not released device .* within 2 s/);
    t.true(Date.now() - started >= unplugTimeoutMs, 'the unplug waited its timeout for the guest');
    t.true((await live()).includes(`ua-${held}`), 'a virtio-blk disk the guest (with no operating system) did not release is still in the running guest');
    t.true((await defined()).includes(`ua-${held}`), 'and in its definition');
    t.deepEqual(await listedDisks(), [held], 'and listed');
    t.is((await api.get(`/vms/${vmId}/diskattachments/${held}`, { accept: 'json' })).body.active, 'true');
    const failed = ((await api.get(`/vms/${vmId}/tasks`, { accept: 'json' })).body.task as any[])[0];
    t.deepEqual([failed.action, failed.status], ['detach_disk', 'failed'], 'the refused unplug is the failed task');

    assertFault(t, await api.delete(`/vms/${vmId}/nics/${nicId}`), 409, /has not released device/);
    t.true((await live()).includes(`<mac address='${mac}'/>`), 'the NIC the guest holds is still in the running guest');
    t.true((await defined()).includes(`<mac address='${mac}'/>`), 'and in its definition');
    t.is((await api.get(`/vms/${vmId}/nics/${nicId}`, { accept: 'json' })).body.mac.address, mac, 'and listed with its MAC');
    const other = await api.createVm('other', 64);
    assertFault(t, await api.post(`/vms/${other}/nics`, `<nic><name>nic1</name><mac><address>${mac}</address></mac></nic>`), 409, /already in use/);
    t.regex(await daemon.virsh('domstate', vmId), /running/, 'the guest runs on');
  });

  test.serial(`[${database}] QEMU: a volume a guest started by hand uses is not deleted (409, file and guest stay), nor one on shared storage while a host that reaches it cannot answer (503); new qcow2 volumes are compat 1.1`, async (t) => {
    const system = await ProcessSystem.start(database, { alpha: { qemu: true }, beta: {} });
    t.teardown(() => system.close());
    const { api } = system;
    const daemon = system.qemuDaemon('alpha');
    const local = await localStorage(t, system, 'alpha');
    const sharedMount = path.join(system.mountRoot, 'nfs.example.org:_exports_data');
    await mkdir(sharedMount, { recursive: true });
    const sharedId = await storageDomain(t, system, '<storage_domain><name>shared-nfs</name><type>data</type><storage><type>nfs</type><address>nfs.example.org</address><path>/exports/data</path></storage></storage_domain>');
    const localDisk = await createDisk(t, system, 'local-1', local.id);
    const sharedDisk = await createDisk(t, system, 'shared-1', sharedId);
    const localFile = path.join(local.images, localDisk);
    const sharedFile = path.join(sharedMount, sharedId, 'images', sharedDisk);
    t.is((await volumeFiles.info(localFile)).compat, '1.1', 'a qcow2 volume QEMU\'s libvirt created is compat 1.1');

    const handMade = path.join(system.directory, 'hand-made.xml');
    const diskXml = (file: string, target: string) => `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${file}'/><target dev='${target}' bus='virtio'/></disk>`;
    await writeFile(
      handMade,
      `<domain type='${await guestDomainType()}'><name>hand-made</name><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os><features><acpi/></features><devices>${diskXml(localFile, 'vda')}${diskXml(sharedFile, 'vdb')}</devices></domain>`,
    );
    await daemon.virsh('define', handMade);
    await daemon.virsh('start', 'hand-made');

    for (const [disk, file] of [
      [localDisk, localFile],
      [sharedDisk, sharedFile],
    ] as const) {
      assertFailedAction(t, await api.delete(`/disks/${disk}`), 409, /^host alpha: domain hand-made \(running\) has the volume .* as a disk; the volume is not deleted$/);
      t.true(await exists(file), 'the volume file is still there');
      await eventually(async () => (await system.api.diskStatus(disk)) === 'ok', 'the disk to be unlocked again');
    }
    t.regex(await daemon.virsh('domstate', 'hand-made'), /running/, 'the guest still runs');
    const checks = ['alpha', 'beta'].map((host) => system.host(host).output.join('').split('\n').filter((line) => line.includes('"executing command"') && line.includes('"kind":"check_volume_unused"')).length);
    t.is(checks[0]! + checks[1]!, 1, 'for the shared volume, the host that did not delete it was asked whether it uses it');

    await daemon.virsh('destroy', 'hand-made');
    assertFailedAction(t, await api.delete(`/disks/${localDisk}`), 409, /hand-made \(defined\)/);
    await daemon.virsh('undefine', 'hand-made');

    await system.killAgent('beta');
    await system.waitForHostStatus('beta', 'non_responsive');
    assertFailedAction(t, await api.delete(`/disks/${sharedDisk}`), 503, /host beta may use disk shared-1 .* cannot be asked/);
    t.true(await exists(sharedFile), 'a volume on shared storage stays while a host that may use it cannot answer');
    await eventually(async () => (await system.api.diskStatus(sharedDisk)) === 'ok', 'the disk to be unlocked again');

    const removed = await api.delete(`/disks/${localDisk}`);
    t.is(removed.status, 200, removed.text);
    t.false(await exists(localFile), 'a volume no domain uses is deleted');

    await system.startAgent('beta');
    await system.waitForHostStatus('beta', 'up');
    const removedShared = await api.delete(`/disks/${sharedDisk}`);
    t.is(removedShared.status, 200, removedShared.text);
    t.false(await exists(sharedFile), 'and one on shared storage once every host that reaches it said none of its guests uses it');
  });
}
