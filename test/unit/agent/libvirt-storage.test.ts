import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, open, stat } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { DriverError } from '../../../agent/hypervisor/driver.js';
import { LibvirtDriver } from '../../../agent/hypervisor/libvirt/driver.js';
import { findDeviceXml } from '../../../agent/hypervisor/libvirt/domain-xml.js';
import { volumeFiles } from '../../../agent/hypervisor/libvirt/volume-files.js';
import type { DiskDevice, NicDevice, StorageSpec, VolumeSpec } from '../../../shared/model.js';
import { vmSpec } from './helpers.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';
import { eventually } from '../../support/eventually.js';
import { privateTestHost } from '../../support/test-hosts.js';

const mib = 1024 ** 2;

async function setUp(t: { teardown: (fn: () => Promise<void>) => void }) {
  const directory = await temporaryDirectory('storage');
  const uri = await privateTestHost(directory.path, 'host', { memoryMiB: 4096, cores: 2 });
  const mountRoot = path.join(directory.path, 'mnt');
  const driver = new LibvirtDriver({ uri, dataDir: path.join(directory.path, 'agent'), mountRoot });
  await driver.open();
  t.teardown(async () => {
    await driver.close();
    await directory.remove();
  });
  const localDir = path.join(directory.path, 'local');
  await mkdir(localDir);
  const local: StorageSpec = { id: randomUUID(), kind: 'localfs', address: '', path: localDir };
  return { driver, directory: directory.path, mountRoot, local, images: path.join(localDir, local.id, 'images') };
}

function volume(storage: StorageSpec, overrides: Partial<VolumeSpec> = {}): VolumeSpec {
  return { storage, volumeId: randomUUID(), format: 'qcow2', capacityBytes: 512 * mib, sparse: true, ...overrides };
}

async function header(file: string): Promise<{ magic: string; size: number; backing: string }> {
  const handle = await open(file, 'r');
  try {
    const bytes = Buffer.alloc(1024);
    await handle.read(bytes, 0, 1024, 0);
    const offset = Number(bytes.readBigUInt64BE(8));
    const length = bytes.readUInt32BE(16);
    return { magic: bytes.subarray(0, 4).toString('latin1'), size: Number(bytes.readBigUInt64BE(24)), backing: offset ? bytes.subarray(offset, offset + length).toString('utf8') : '' };
  } finally {
    await handle.close();
  }
}

async function expectKind(promise: Promise<unknown>, kind: DriverError['kind']): Promise<DriverError> {
  const error = await promise.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  if (error instanceof DriverError && error.kind === kind) return error;
  throw new Error(`expected a ${kind} DriverError, got ${String(error)}`);
}

test('preparing storage creates the images directory, reports the real file system space, and expects shared storage mounted where oVirt would mount it', async (t) => {
  const { driver, local, images, mountRoot } = await setUp(t);
  const usage = await driver.prepareStorage(local);
  t.true(usage.availableBytes > 0 && usage.usedBytes > 0);
  t.true((await stat(images)).isDirectory());

  const nfs: StorageSpec = { id: randomUUID(), kind: 'nfs', address: 'filer.example', path: '/exports/vm' };
  const refused = await expectKind(driver.prepareStorage(nfs), 'storage_unreachable');
  t.true(refused.message.includes(path.join(mountRoot, 'filer.example:_exports_vm')), 'the message names where the mount was expected');
  await mkdir(path.join(mountRoot, 'filer.example:_exports_vm'), { recursive: true });
  t.is((await driver.prepareStorage(nfs)).storageId, nfs.id, 'once mounted there it is usable');
  t.true((await stat(path.join(mountRoot, 'filer.example:_exports_vm', nfs.id, 'images'))).isDirectory());
});

test('volumes are real files in the right format and size, thin copies have their backing file, copies are independent', async (t) => {
  const { driver, local, images } = await setUp(t);
  const base = volume(local);
  const created = await driver.createVolume(base);
  const file = path.join(images, base.volumeId);
  t.is(created.volume.path, file);
  t.true(created.volume.actualSizeBytes > 0);
  t.deepEqual(await header(file), { magic: 'QFI\xfb', size: 512 * mib, backing: '' });
  t.deepEqual((await driver.createVolume(base)).volume.path, file, 'creating the same volume again is success');

  const overlay = volume(local, { backing: { storage: local, volumeId: base.volumeId, format: 'qcow2' } });
  await driver.createVolume(overlay);
  t.deepEqual(await header(path.join(images, overlay.volumeId)), { magic: 'QFI\xfb', size: 512 * mib, backing: file });

  const copy = volume(local, { format: 'raw', copyOf: { storage: local, volumeId: base.volumeId, format: 'qcow2' } });
  await driver.createVolume(copy);
  const copyStat = await stat(path.join(images, copy.volumeId));
  t.is(copyStat.size, 512 * mib, 'a raw copy has the full size');
  t.not((await header(path.join(images, copy.volumeId))).magic, 'QFI\xfb');

  const raw = volume(local, { format: 'raw', capacityBytes: 8 * mib, sparse: false });
  await driver.createVolume(raw);
  const rawStat = await stat(path.join(images, raw.volumeId));
  t.true(rawStat.blocks * 512 >= 8 * mib, 'a preallocated volume takes its space');
});

test('new qcow2 volumes are version 1.1 (compat 1.1), empty ones, overlays and copies alike, where qemu-img writes them', async (t) => {
  const { driver, local, images } = await setUp(t);
  const base = volume(local);
  await driver.createVolume(base);
  const overlay = volume(local, { backing: { storage: local, volumeId: base.volumeId, format: 'qcow2' } });
  await driver.createVolume(overlay);
  const copy = volume(local, { copyOf: { storage: local, volumeId: base.volumeId, format: 'qcow2' } });
  await driver.createVolume(copy);
  for (const made of [base, overlay, copy]) t.is((await volumeFiles.info(path.join(images, made.volumeId))).compat, '1.1');
});

test('a volume whose image a process holds open (a guest libvirt does not show, as qemu-io here) is in_use and stays; once the process let go it is deleted', async (t) => {
  const { driver, local, images } = await setUp(t);
  const held = volume(local);
  await driver.createVolume(held);
  const file = path.join(images, held.volumeId);
  const holder = spawn('qemu-io', ['-c', 'sleep 600000', file], { stdio: 'ignore' });
  const exited = new Promise((resolve) => holder.once('exit', resolve));
  t.teardown(() => void holder.kill('SIGKILL'));
  await eventually(() => volumeFiles.locked(file), 'qemu-io to hold the image lock');
  const refused = await expectKind(driver.deleteVolume(held), 'in_use');
  t.regex(refused.message, /holds the lock/);
  t.true((await stat(file)).isFile(), 'the file stays');
  holder.kill('SIGKILL');
  await exited;
  await driver.deleteVolume(held);
  await t.throwsAsync(stat(file), { code: 'ENOENT' });
});

test('a domain is defined with its disks and NICs, on networks the driver realizes; the test driver refuses to unplug a device from a running domain, which keeps it', async (t) => {
  const { driver, local, images } = await setUp(t);
  const diskVolume = volume(local);
  await driver.createVolume(diskVolume);
  const disk: DiskDevice = { diskId: diskVolume.volumeId, volume: diskVolume, bus: 'virtio', bootable: true, readOnly: false };
  const scsi: DiskDevice = { ...disk, diskId: randomUUID(), volume: { ...diskVolume, volumeId: randomUUID() }, bus: 'virtio_scsi', bootable: false, readOnly: true };
  const network = { id: randomUUID(), name: 'backend', vlanId: 42, mtu: 9000 };
  const nic: NicDevice = { nicId: randomUUID(), name: 'eth0', mac: '56:6f:00:00:00:10', model: 'virtio', network, linked: true };
  const spec = vmSpec({ disks: [disk, scsi], nics: [nic] });
  await driver.define(spec);
  const xml = await driver.domainXml(spec.id, true);
  t.true(xml.includes(`<source file='${path.join(images, disk.diskId)}'/>`));
  t.true(xml.includes("<target dev='vda' bus='virtio'/>"));
  t.true(xml.includes("<target dev='sda' bus='scsi'/>"));
  t.true(xml.includes('<readonly/>'));
  t.true(xml.includes(`<source network='drover-net-${network.id}'/>`));
  t.true(xml.includes("<mac address='56:6f:00:00:00:10'/>"));
  t.regex(findDeviceXml(xml, `ua-${nic.nicId}`) ?? '', /^<interface type="network">/);

  await driver.start(spec.id);
  const refused = await expectKind(driver.unplugDevice(spec, nic.nicId), 'not_supported');
  t.regex(refused.message, /not supported/);
  t.true((await driver.domainXml(spec.id)).includes(nic.mac), 'the running domain still has the NIC');
});
