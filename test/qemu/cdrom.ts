import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ExecutionContext, TestFn } from 'ava';
import { DriverError } from '../../agent/hypervisor/driver.js';
import { LibvirtDriver } from '../../agent/hypervisor/libvirt/driver.js';
import type { StorageSpec } from '../../shared/model.js';
import type { Api, ApiResponse } from '../support/api.js';
import { ProcessSystem } from '../support/process-system.js';
import type { DatabaseKind } from '../support/scratch-database.js';

type Test = TestFn<unknown>;

const cdromId = '00000000-0000-0000-0000-000000000000';
const isoImageId = '11111111-1111-1111-1111-111111111111';

function expectStatus(t: ExecutionContext, response: ApiResponse, status: number, what: string): void {
  t.is(response.status, status, `${what}: ${response.text}`);
}

function expectFault(t: ExecutionContext, response: ApiResponse, status: number, detail: RegExp, what: string): void {
  t.is(response.status, status, `${what}: ${response.text}`);
  t.regex(String(response.body?.fault?.detail ?? ''), detail, `${what}: ${response.text}`);
}

/** Makes a small ISO 9660 image with genisoimage (Debian's genisoimage package) holding one text file. */
async function makeIso(directory: string, name: string, label: string): Promise<void> {
  const content = path.join(directory, `${label}-content`);
  await mkdir(content, { recursive: true });
  await writeFile(path.join(content, 'README.TXT'), `${label}\n`);
  await promisify(execFile)('genisoimage', ['-quiet', '-V', label, '-o', path.join(directory, name), content]);
}

/** A QEMU host with a local storage domain whose ISO directory holds two ISO files. */
async function systemWithIsoFiles(t: ExecutionContext, database: DatabaseKind) {
  const system = await ProcessSystem.start(database, { alpha: { qemu: true } });
  t.teardown(() => system.close());
  const { api } = system;
  const storagePath = path.join(system.directory, 'local-alpha');
  const domain = await api.addLocalStorage('local', 'alpha', storagePath);
  expectStatus(t, domain, 201, 'adding the storage domain');
  const storageDomainId = domain.body.storage_domain.id as string;
  const isoDirectory = path.join(storagePath, storageDomainId, 'images', isoImageId);
  await mkdir(isoDirectory, { recursive: true });
  await makeIso(isoDirectory, 'install.iso', 'INSTALL');
  await makeIso(isoDirectory, 'drivers.iso', 'DRIVERS');
  const dataCenter = (await api.get('/datacenters', { accept: 'json' })).body.data_center[0];
  expectStatus(t, await api.post(`/datacenters/${dataCenter.id}/storagedomains`, `<storage_domain id="${storageDomainId}"/>`), 201, 'attaching the storage domain');
  const storage: StorageSpec = { id: storageDomainId, kind: 'localfs', address: '', path: storagePath };
  return { system, api, storageDomainId, storage, isoDirectory };
}

async function cdromFile(api: Api, vmId: string, current: boolean): Promise<string | undefined> {
  const response = await api.get(`/vms/${vmId}/cdroms/${cdromId}${current ? '?current=true' : ''}`, { accept: 'json' });
  if (response.status !== 200) throw new Error(`GET cdrom answered ${response.status}: ${response.text}`);
  return response.body.file?.id;
}

function insert(api: Api, vmId: string, file: string, current: boolean): Promise<ApiResponse> {
  return api.put(`/vms/${vmId}/cdroms/${cdromId}${current ? '?current=true' : ''}`, `<cdrom><file id="${file}"/></cdrom>`);
}

/** The medium the domain's CD-ROM drive holds, by the domain XML libvirt gives (live, or the persistent definition with --inactive). */
function mediumIn(domainXml: string): string | undefined {
  const drive = /<disk type='file' device='cdrom'>([\s\S]*?)<\/disk>/.exec(domainXml)?.[1];
  if (drive === undefined) throw new Error(`the domain has no CD-ROM drive:\n${domainXml}`);
  return /<source file='([^']*)'/.exec(drive)?.[1];
}

function bootOrder(domainXml: string): string[] {
  return [...domainXml.matchAll(/<boot dev='(\w+)'\/>/g)].map((match) => match[1]!);
}

/** The CD-ROM drive, ISO files and boot order on real QEMU, through a real controller and agent. */
export function qemuCdromSuite(test: Test, database: DatabaseKind): void {
  test.serial(`[${database}] QEMU: ISO files go into and out of the CD-ROM drive of a stopped VM and of its running guest, and the VM boots in its boot order`, async (t) => {
    const { system, api, storageDomainId, storage, isoDirectory } = await systemWithIsoFiles(t, database);
    const daemon = system.qemuDaemon('alpha');
    const driver = new LibvirtDriver({ uri: daemon.uri, dataDir: path.join(system.directory, 'second-driver'), mountRoot: system.mountRoot });
    await driver.open();
    t.teardown(() => driver.close().catch(() => undefined));
    const refusal = async (change: Promise<unknown>) => (await t.throwsAsync(change, { instanceOf: DriverError })).kind;

    const files = await api.get(`/storagedomains/${storageDomainId}/files`, { accept: 'json' });
    expectStatus(t, files, 200, 'listing the ISO files');
    t.deepEqual(
      files.body.file.map((file: any) => [file.id, file.name]),
      [
        ['drivers.iso', 'drivers.iso'],
        ['install.iso', 'install.iso'],
      ],
      'the storage domain lists the files of its ISO directory',
    );

    const vmId = await api.createVm('with-cd', 128, '<os><boot><devices><device>cdrom</device><device>hd</device></devices></boot></os>');
    t.deepEqual((await api.vm(vmId)).os.boot.devices.device, ['cdrom', 'hd'], 'the VM shows its boot order');
    const drives = await api.get(`/vms/${vmId}/cdroms`, { accept: 'json' });
    expectStatus(t, drives, 200, 'listing the CD-ROM drives');
    t.deepEqual(
      drives.body.cdrom.map((drive: any) => [drive.id, drive.file]),
      [[cdromId, undefined]],
      'every VM has one CD-ROM drive, empty at first',
    );

    expectStatus(t, await insert(api, vmId, 'install.iso', false), 200, 'inserting an ISO into the stopped VM');
    t.is(await cdromFile(api, vmId, false), 'install.iso', 'the stopped VM starts with the ISO');
    expectStatus(t, await api.action(vmId, 'start'), 200, 'starting the VM');
    const started = await daemon.virsh('dumpxml', vmId);
    t.is(mediumIn(started), path.join(isoDirectory, 'install.iso'), 'QEMU has the ISO in the drive');
    t.deepEqual(bootOrder(started), ['cdrom', 'hd'], 'the domain boots in the VM boot order');

    expectStatus(t, await insert(api, vmId, 'drivers.iso', true), 200, 'changing the medium of the running guest');
    t.is(mediumIn(await daemon.virsh('dumpxml', vmId)), path.join(isoDirectory, 'drivers.iso'), 'the running guest has the new medium');
    t.is(mediumIn(await daemon.virsh('dumpxml', '--inactive', vmId)), path.join(isoDirectory, 'install.iso'), 'the persistent definition keeps the medium the VM starts with');
    t.is(await cdromFile(api, vmId, true), 'drivers.iso', 'current=true shows the medium in the running guest');
    t.is(await cdromFile(api, vmId, false), 'install.iso', 'without current, the medium the VM starts with');
    t.is(await refusal(driver.changeMedium(vmId, { storage, name: 'gone.iso' })), 'hypervisor_failure', 'a driver refuses a medium whose file the host lacks');
    t.deepEqual(await driver.readMedium(vmId), { storageId: storageDomainId, name: 'drivers.iso' }, 'and the drive keeps its medium');

    expectStatus(t, await insert(api, vmId, '', true), 200, 'ejecting the medium of the running guest');
    t.is(mediumIn(await daemon.virsh('dumpxml', vmId)), undefined, 'the running guest has an empty drive');
    t.is(await cdromFile(api, vmId, true), undefined, 'current=true shows the empty drive');
    expectStatus(t, await insert(api, vmId, 'drivers.iso', false), 200, 'changing what the running VM starts with');
    t.is(mediumIn(await daemon.virsh('dumpxml', '--inactive', vmId)), path.join(isoDirectory, 'drivers.iso'), 'the persistent definition holds the medium for the next start');
    t.is(mediumIn(await daemon.virsh('dumpxml', vmId)), undefined, 'the running guest keeps its drive as it was');

    expectStatus(t, await api.action(vmId, 'stop'), 200, 'stopping the VM');
    t.is(await refusal(driver.changeMedium(vmId, undefined)), 'invalid_state', 'a driver changes no medium of a domain that is shut off');
    t.is(await refusal(driver.readMedium(vmId)), 'invalid_state', 'nor reads one');
    expectStatus(t, await insert(api, vmId, 'install.iso', false), 200, 'inserting another ISO into the stopped VM, defined on its host');
    t.is(mediumIn(await daemon.virsh('dumpxml', '--inactive', vmId)), path.join(isoDirectory, 'install.iso'), 'the persistent definition holds the new medium at once');
    expectStatus(t, await insert(api, vmId, '', false), 200, 'ejecting the medium of the stopped VM');
    t.is(mediumIn(await daemon.virsh('dumpxml', '--inactive', vmId)), undefined, 'the persistent definition has an empty drive');
    t.is(await cdromFile(api, vmId, false), undefined, 'the VM starts with an empty drive');

    expectStatus(t, await api.put(`/vms/${vmId}`, '<vm><os><boot><devices><device>network</device><device>hd</device><device>cdrom</device></devices></boot></os></vm>'), 200, 'changing the boot order');
    expectStatus(t, await api.action(vmId, 'start'), 200, 'starting the VM again');
    t.deepEqual(bootOrder(await daemon.virsh('dumpxml', vmId)), ['network', 'hd', 'cdrom'], 'the domain boots in the changed order');
    expectStatus(t, await api.action(vmId, 'stop'), 200, 'stopping the VM again');
  });

  test.serial(`[${database}] QEMU: a CD-ROM change names an ISO file the storage domain has, the one drive, and a well-formed body, or is refused with a fault; a VM does not start while its medium's storage domain is not active`, async (t) => {
    const { api, storageDomainId } = await systemWithIsoFiles(t, database);
    const vmId = await api.createVm('refusals', 128);
    const drive = `/vms/${vmId}/cdroms/${cdromId}`;

    expectFault(t, await insert(api, vmId, 'missing.iso', false), 404, /ISO file missing\.iso/, 'a file the storage domain lacks');
    expectFault(t, await api.put(drive, `<cdrom><file id="missing.iso"><storage_domain id="${storageDomainId}"/></file></cdrom>`), 404, /ISO file missing\.iso/, 'a file the named storage domain lacks');
    expectFault(t, await insert(api, vmId, '../install.iso', false), 400, /not an ISO file name/, 'a name with a path');
    expectFault(t, await insert(api, vmId, `${'a'.repeat(201)}.iso`, false), 400, /not an ISO file name/, 'a name too long');
    expectFault(t, await api.put(`/vms/${vmId}/cdroms/1`, '<cdrom><file id="install.iso"/></cdrom>'), 404, /CD-ROM 1/, 'another drive id');
    expectFault(t, await api.get(`/vms/${vmId}/cdroms/1`), 404, /CD-ROM 1/, 'reading another drive id');
    expectFault(t, await api.put(drive, '<cdrom/>'), 400, /cdrom\.file is required/, 'a body without a file');
    expectFault(t, await api.put(drive, '<cdrom><file/></cdrom>'), 400, /cdrom\.file is required/, 'an empty file');
    expectFault(t, await api.put(drive, '<cdrom><file><name>install.iso</name></file></cdrom>'), 400, /cdrom\.file\.id is required/, 'a file without an id');
    t.is((await api.put(drive, '<cdrom><file id="install.iso">')).status, 400, 'a body that is not XML');
    expectFault(t, await insert(api, vmId, 'install.iso', true), 409, /not running/, 'current=true on a VM that does not run');
    expectFault(t, await api.get(`/storagedomains/${storageDomainId}/files/missing.iso`), 404, /ISO file missing\.iso/, 'reading a file the storage domain lacks');
    t.is(await cdromFile(api, vmId, false), undefined, 'nothing refused changed the drive');

    expectFault(t, await api.put(`/vms/${vmId}`, '<vm><os><boot><devices><device>floppy</device></devices></boot></os></vm>'), 400, /must be one of hd, cdrom, network/, 'an unknown boot device');
    expectFault(t, await api.put(`/vms/${vmId}`, '<vm><os><boot><devices><device>hd</device><device>hd</device></devices></boot></os></vm>'), 400, /hd more than once/, 'a boot device twice');
    expectFault(t, await api.put(`/vms/${vmId}`, '<vm><os><boot><devices/></boot></os></vm>'), 400, /at least one boot device/, 'no boot device');
    t.deepEqual((await api.vm(vmId)).os.boot.devices.device, ['hd', 'cdrom', 'network'], 'nothing refused changed the boot order');

    expectStatus(t, await api.put(drive, { file: { id: 'install.iso' } }), 200, 'inserting an ISO with a JSON body');
    expectStatus(t, await api.post(`/storagedomains/${storageDomainId}/deactivate`, '<action/>'), 200, 'putting the storage domain of the ISO in maintenance');
    const start = await api.action(vmId, 'start');
    t.is(start.status, 409, start.text);
    t.regex(start.text, /storage domain local of disk install\.iso \(the ISO file in its CD-ROM drive\) is maintenance, not active/, 'a VM does not start while the storage domain of its medium is not active');
  });
}
