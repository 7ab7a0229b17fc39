import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestFn } from 'ava';
import { ProcessSystem } from '../support/process-system.js';
import type { DatabaseKind } from '../support/scratch-database.js';

type Test = TestFn<unknown>;

const cdromId = '00000000-0000-0000-0000-000000000000';

/** Where a VM with an ISO file of a host's local storage may run, on two hosts of libvirt's test driver. */
export function cdromPlacementSuite(test: Test, database: DatabaseKind): void {
  test.serial(`[${database}] an ISO file on a host's local storage pins the VM that holds it to that host, and a VM defined on another host cannot take it`, async (t) => {
    const system = await ProcessSystem.start(database, { alpha: { memoryMiB: 8192 }, beta: { memoryMiB: 2048 } });
    t.teardown(() => system.close());
    const { api } = system;
    const storagePath = path.join(system.directory, 'local-beta');
    const domain = await api.addLocalStorage('local-beta', 'beta', storagePath);
    t.is(domain.status, 201, domain.text);
    const storageDomainId = domain.body.storage_domain.id as string;
    const isoDirectory = path.join(storagePath, storageDomainId, 'images', '11111111-1111-1111-1111-111111111111');
    await mkdir(isoDirectory, { recursive: true });
    await writeFile(path.join(isoDirectory, 'tools.iso'), 'not really ISO 9660');
    const dataCenter = (await api.get('/datacenters', { accept: 'json' })).body.data_center[0];
    const attached = await api.post(`/datacenters/${dataCenter.id}/storagedomains`, `<storage_domain id="${storageDomainId}"/>`);
    t.is(attached.status, 201, attached.text);
    const [alpha, beta] = [await system.hostId('alpha'), await system.hostId('beta')];

    const pinned = await api.createVm('pinned', 64);
    const inserted = await api.put(`/vms/${pinned}/cdroms/${cdromId}`, '<cdrom><file id="tools.iso"/></cdrom>');
    t.is(inserted.status, 200, inserted.text);
    t.is((await api.action(pinned, 'start')).status, 200);
    t.is((await api.vm(pinned)).host.id, beta, 'the VM starts on the host of its medium, not on the one with the most free memory');

    const elsewhere = await api.createVm('elsewhere', 64);
    t.is((await api.action(elsewhere, 'start')).status, 200);
    t.is((await api.vm(elsewhere)).host.id, alpha);
    t.is((await api.action(elsewhere, 'stop')).status, 200);
    const refused = await api.put(`/vms/${elsewhere}/cdroms/${cdromId}`, '<cdrom><file id="tools.iso"/></cdrom>');
    t.is(refused.status, 409, refused.text);
    t.regex(refused.body.fault.detail, /the ISO file tools\.iso is on the local storage of host beta, but VM elsewhere is defined on host alpha/);
    t.is((await api.action(pinned, 'stop')).status, 200);
  });
}
