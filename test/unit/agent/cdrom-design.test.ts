import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { cdromAlias, designDomain, isoDirectory } from '../../../agent/hypervisor/libvirt/designer.js';
import { readCdrom, serializeDomainXml } from '../../../agent/hypervisor/libvirt/domain-xml.js';
import { listIsoFiles, mediumOf } from '../../../agent/hypervisor/libvirt/iso-media.js';
import { CommandExecutor, commandProblem } from '../../../agent/commands/executor.js';
import { CommandJournal } from '../../../agent/commands/journal.js';
import { FakeDriver } from '../../../agent/hypervisor/fake/driver.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';
import type { StorageSpec } from '../../../shared/model.js';
import { vmSpec } from './helpers.js';

const storage = (directory: string): StorageSpec => ({ id: randomUUID(), kind: 'localfs', address: '', path: directory });

test('every domain has a CD-ROM drive on SATA after the disks of its bus family, holding the spec medium from the ISO directory where oVirt keeps ISO files', (t) => {
  const domain = storage('/srv/vms');
  const diskId = randomUUID();
  const disk = { diskId, volume: { storage: domain, volumeId: diskId, format: 'qcow2' as const }, bus: 'sata' as const, bootable: true, readOnly: false };
  const empty = designDomain(vmSpec({ disks: [disk] }), 'qemu');
  t.deepEqual(empty.cdrom, { path: undefined, bus: 'sata', target: 'sdb', alias: cdromAlias }, 'the drive is there, empty, and its name is the next on its bus');
  const holding = designDomain(vmSpec({ cdrom: { storage: domain, name: 'install.iso' } }), 'qemu');
  t.is(holding.cdrom?.path, `/srv/vms/${domain.id}/images/11111111-1111-1111-1111-111111111111/install.iso`);
  const xml = serializeDomainXml(holding);
  t.deepEqual(readCdrom(xml, cdromAlias), holding.cdrom, 'the drive reads back as written');
  t.regex(xml, /<disk type="file" device="cdrom"><driver name="qemu" type="raw"\/><source file="[^"]+install\.iso"\/><target dev="sda" bus="sata"\/><readonly\/>/);
});

test('the domain boots from the spec boot devices in order, and from hd, cdrom, network when the spec names none', (t) => {
  t.deepEqual(designDomain(vmSpec({ bootDevices: ['cdrom', 'hd'] }), 'qemu').os.boot, ['cdrom', 'hd']);
  t.deepEqual(designDomain(vmSpec({}), 'qemu').os.boot, ['hd', 'cdrom', 'network']);
  t.regex(serializeDomainXml(designDomain(vmSpec({ bootDevices: ['network', 'cdrom'] }), 'qemu')), /<boot dev="network"\/><boot dev="cdrom"\/><\/os>/);
});

test('a medium reads as a file of a storage domain ISO directory when it is one, as its path otherwise, and as nothing for an empty drive', (t) => {
  const id = randomUUID();
  t.deepEqual(mediumOf(`/mnt/${id}/images/11111111-1111-1111-1111-111111111111/x.iso`), { storageId: id, name: 'x.iso' });
  t.deepEqual(mediumOf('/var/lib/libvirt/images/other.iso'), { storageId: '', name: '/var/lib/libvirt/images/other.iso' });
  t.deepEqual(mediumOf(undefined), { storageId: '', name: '' });
});

test('the ISO directory lists its regular files with plain names by name; a missing ISO directory lists nothing and a missing storage directory is unreachable', async (t) => {
  const directory = await mkdtemp(path.join(tmpdir(), 'drover-iso-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  const domain = storage(directory);
  t.deepEqual(await listIsoFiles(domain, '/unused'), []);
  const isos = isoDirectory(domain, '/unused');
  await mkdir(path.join(isos, 'a-directory.iso'), { recursive: true });
  await writeFile(path.join(isos, 'b.iso'), 'bb');
  await writeFile(path.join(isos, 'a.iso'), 'a');
  await writeFile(path.join(isos, '.hidden.iso'), '');
  await writeFile(path.join(isos, 'with space.iso'), '');
  t.deepEqual(await listIsoFiles(domain, '/unused'), [
    { name: 'a.iso', sizeBytes: 1 },
    { name: 'b.iso', sizeBytes: 2 },
  ]);
  await t.throwsAsync(listIsoFiles(storage(path.join(directory, 'missing')), '/unused'), { message: /does not exist on this host/ });
});

test('the agent refuses a medium or a spec CD-ROM whose file name has a path, and a boot order that repeats a device', (t) => {
  const vmId = randomUUID();
  const medium = { storage: storage('/srv/vms'), name: '../etc/passwd' };
  t.regex(commandProblem({ commandId: 'c', taskId: 't', kind: 'change_medium', vmId, medium }) ?? '', /not a plain file name/);
  t.is(commandProblem({ commandId: 'c', taskId: 't', kind: 'change_medium', vmId }), undefined, 'ejecting needs no medium');
  t.regex(commandProblem({ commandId: 'c', taskId: 't', kind: 'define', vmId, spec: vmSpec({ id: vmId, cdrom: medium }) }) ?? '', /not a plain file name/);
  t.regex(commandProblem({ commandId: 'c', taskId: 't', kind: 'define', vmId, spec: vmSpec({ id: vmId, bootDevices: ['hd', 'hd'] }) }) ?? '', /repeat a device/);
});

test('an agent whose driver has no CD-ROM media answers its CD-ROM commands not_supported, and journals only the outcome of the command that acts', async (t) => {
  const directory = await temporaryDirectory('cdrom-executor');
  const journal = await CommandJournal.open(directory.path);
  t.teardown(async () => {
    await journal.close();
    await directory.remove();
  });
  const executor = new CommandExecutor({ driver: new FakeDriver(), journal, shutdownTimeoutMs: 1_000, rebootTimeoutMs: 1_000 });
  const vmId = randomUUID();
  for (const command of [
    { commandId: randomUUID(), taskId: 't', kind: 'change_medium' as const, vmId },
    { commandId: randomUUID(), taskId: 't', kind: 'read_medium' as const, vmId },
    { commandId: randomUUID(), taskId: 't', kind: 'list_iso_files' as const, storage: storage(directory.path) },
  ]) {
    t.like(await executor.execute(command), { ok: false, error: 'not_supported' }, command.kind);
    t.is(journal.get(command.commandId) !== undefined, command.kind === 'change_medium', `${command.kind} is journaled only when it acts`);
  }
});
