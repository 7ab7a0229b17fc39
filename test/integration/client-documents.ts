import type { TestFn } from 'ava';
import { XMLParser } from 'fast-xml-parser';
import { InProcessSystem } from '../support/in-process-system.js';
import type { DatabaseKind } from '../support/scratch-database.js';
import { assertFault } from '../support/api.js';

type Test = TestFn<unknown>;

/** The headers oVirt's Python SDK sends with every request (Ansible's modules use the SDK); its documents are XML. */
const sdk = { headers: { Version: '4', 'Content-Type': 'application/xml' }, accept: 'xml' as const };

/** Reads XML as the SDK does: attributes and elements by name, text untouched (an empty element is ""), repeated elements as lists. */
const listed = new Set(['hosts.host', 'vms.vm', 'snapshots.snapshot', 'cdroms.cdrom', 'graphics_consoles.graphics_console']);
const sdkXml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false, isArray: (name, jpath) => name === 'link' || listed.has(String(jpath)) });

const isoWithOffset = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00$/;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Documents as oVirt writes them, read with the requests oVirt's clients send. */
export function clientDocumentsSuite(test: Test, database: DatabaseKind): void {
  let system: InProcessSystem;
  let vmId: string;

  test.before(async () => {
    system = await InProcessSystem.start(database, { label: 'client-documents' });
    await system.addAgent({ name: 'alpha', memoryMiB: 2048 });
    vmId = await system.api.createVm('docs-vm', 128);
  });
  test.after.always(async () => {
    await system?.close();
  });

  test.serial(`[${database}] a host, as Ansible's ovirt_host finds it by name, has power management, SPM, a custom kernel command line that is "" and an oVirt host type`, async (t) => {
    const { api } = system;
    const xml = await api.get('/hosts?search=name%3D%22alpha%22', sdk);
    t.is(xml.status, 200, xml.text);
    t.true(xml.text.includes('<os><custom_kernel_cmdline></custom_kernel_cmdline></os>'), 'the empty command line is written open and closed, which the SDK reads as "", not None');
    t.false(xml.text.includes('<custom_kernel_cmdline/>'));
    t.true(xml.text.includes('<power_management><enabled>false</enabled><kdump_detection>false</kdump_detection></power_management>'), xml.text);
    t.true(xml.text.includes('<spm><priority>-1</priority><status>none</status></spm>'), xml.text);
    const [host] = sdkXml.parse(xml.text).hosts.host;
    t.is(host.name, 'alpha');
    t.is(host.type, 'rhel', "one of oVirt's HostType values (the SDK reads any other as None)");
    t.is(host.os.custom_kernel_cmdline, '');
    t.is(host.hypervisor.type, 'test', "Drover's own element still tells the hypervisor");

    const info = await api.get('/hosts?search=&all_content=false&follow=', sdk);
    t.is(info.status, 200, `ovirt_host_info's request, with its defaults: ${info.text}`);
    t.deepEqual(sdkXml.parse(info.text).hosts.host.map((listedHost: any) => listedHost.name), ['alpha']);

    const json = await api.get('/hosts?search=name%3Dalpha', { accept: 'json' });
    const [jsonHost] = json.body.host;
    t.deepEqual(jsonHost.os, { custom_kernel_cmdline: '' });
    t.deepEqual(jsonHost.power_management, { enabled: 'false', kdump_detection: 'false' });
    t.deepEqual(jsonHost.spm, { priority: '-1', status: 'none' });
    t.is(jsonHost.type, 'rhel');
  });

  test.serial(`[${database}] a VM, as Ansible's ovirt_vm reads it to compare with its task, has the memory policy, firmware, I/O, USB and SSO settings it compares, and VMs and templates have the empty comment (templates also the empty description) go-ovirt-client needs`, async (t) => {
    const { api } = system;
    const xml = await api.get('/vms?search=name%3D%22docs-vm%22&all_content=true', sdk);
    t.is(xml.status, 200, xml.text);
    const [vm] = sdkXml.parse(xml.text).vms.vm;
    const memory = String(128 * 1024 * 1024);
    t.deepEqual(vm.memory_policy, { ballooning: 'true', guaranteed: memory, max: memory });
    t.deepEqual(vm.bios, { boot_menu: { enabled: 'false' }, type: 'cluster_default' });
    t.deepEqual(vm.io, { threads: '0' });
    t.deepEqual(vm.usb, { enabled: 'false' });
    t.deepEqual(vm.console, { enabled: 'true' }, 'the serial console every VM has (go-ovirt-client warns of a VM without console)');
    t.true(xml.text.includes('<sso/>'), 'no single sign-on methods');
    t.true(xml.text.includes('<comment></comment>'), 'an empty comment, which go-ovirt-client needs, written open and closed');
    t.is(vm.comment, '');
    t.false(xml.text.includes('<description'), 'no empty description: libgovirt refuses one');
    t.like(vm, { stateless: 'false', delete_protected: 'false', soundcard_enabled: 'false', start_paused: 'false', use_latest_template_version: 'false', cpu_shares: '0', type: 'server' });
    t.true(vm.link.some((link: any) => link.rel === 'snapshots' && link.href === `/ovirt-engine/api/vms/${vmId}/snapshots`));

    const json = await api.vm(vmId);
    t.deepEqual(json.memory_policy, { ballooning: 'true', guaranteed: memory, max: memory });
    t.deepEqual(json.sso, {});
    t.is(json.comment, '');

    const template = await api.post('/templates', `<template><name>docs-template</name><vm id="${vmId}"/></template>`, sdk);
    t.is(template.status, 201, template.text);
    const templateId = template.body.template.id as string;
    const templateXml = await api.get(`/templates/${templateId}`, sdk);
    t.true(templateXml.text.includes('<description></description><comment></comment>'), `a template's empty description and comment, which go-ovirt-client needs: ${templateXml.text}`);
    t.deepEqual(sdkXml.parse(templateXml.text).template.memory_policy, { ballooning: 'true', guaranteed: memory, max: memory });
    t.like((await api.get(`/templates/${templateId}`, { accept: 'json' })).body, { description: '', comment: '' });
  });

  test.serial(`[${database}] a VM's snapshots are its active snapshot, with an id of its own, in XML and JSON; another snapshot id is a 404, and creating one a 405`, async (t) => {
    const { api } = system;
    const vmXml = await api.get(`/vms/${vmId}`, sdk);
    const vmJson = await api.vm(vmId);

    const xml = await api.get(`/vms/${vmId}/snapshots`, sdk);
    t.is(xml.status, 200, xml.text);
    const listed = sdkXml.parse(xml.text).snapshots.snapshot;
    t.is(listed.length, 1);
    const [active] = listed;
    t.regex(active.id, uuid);
    t.not(active.id, vmId);
    t.is(active.href, `/ovirt-engine/api/vms/${vmId}/snapshots/${active.id}`);
    t.like(active, { description: 'Active VM', snapshot_type: 'active', snapshot_status: 'ok', persist_memorystate: 'false', vm: { href: `/ovirt-engine/api/vms/${vmId}`, id: vmId } });
    t.regex(active.date, isoWithOffset);
    t.is(active.date, vmXml.body.vm.creation_time, 'dated from the VM\'s creation');

    const json = await api.get(`/vms/${vmId}/snapshots`, { accept: 'json' });
    t.is(json.status, 200, json.text);
    const [jsonActive] = json.body.snapshot;
    t.is(jsonActive.id, active.id, 'the same id at every read');
    t.is(typeof jsonActive.date, 'number');
    t.is(jsonActive.date, Date.parse(active.date));
    t.is(jsonActive.date, vmJson.creation_time);

    const one = await api.get(`/vms/${vmId}/snapshots/${active.id}`, sdk);
    t.is(one.status, 200, one.text);
    t.like(sdkXml.parse(one.text).snapshot, { id: active.id, snapshot_type: 'active', snapshot_status: 'ok' });
    const oneJson = await api.get(`/vms/${vmId}/snapshots/${active.id}`, { accept: 'json' });
    t.like(oneJson.body, { id: active.id, snapshot_type: 'active', description: 'Active VM' });

    const otherVm = await api.createVm('docs-other', 128);
    const otherActive = (await api.get(`/vms/${otherVm}/snapshots`, { accept: 'json' })).body.snapshot[0].id;
    t.not(otherActive, active.id, 'each VM has an active snapshot id of its own');
    assertFault(t, await api.get(`/vms/${vmId}/snapshots/${otherActive}`, sdk), 404, /snapshot .* does not exist/);
    assertFault(t, await api.get(`/vms/${vmId}/snapshots/not-a-snapshot`, { accept: 'json' }), 404, /snapshot not-a-snapshot does not exist/, 'json');
    assertFault(t, await api.get('/vms/00000000-0000-4000-8000-000000000000/snapshots', sdk), 404);

    const created = await api.post(`/vms/${vmId}/snapshots`, '<snapshot><description>before upgrade</description><persist_memorystate>false</persist_memorystate></snapshot>', sdk);
    assertFault(t, created, 405, /POST is not allowed on .*\/snapshots; allowed: HEAD, GET$/);
    t.regex(created.headers.get('allow') ?? '', /^(HEAD, GET|GET, HEAD)$/);
    t.is((await api.get(`/vms/${vmId}/snapshots`, { accept: 'json' })).body.snapshot.length, 1, 'nothing was created');

    const numa = await api.get(`/vms/${vmId}/numanodes`, sdk);
    t.is(numa.status, 200, numa.text);
    t.regex(numa.text, /<vm_numa_nodes\/>$/, 'no virtual NUMA nodes');
    t.deepEqual((await api.get(`/vms/${vmId}/numanodes`, { accept: 'json' })).body, { vm_numa_node: [] });
  });

  test.serial(`[${database}] a VM's CD-ROM drive and graphics console read as Ansible's ovirt_vm reads them`, async (t) => {
    const { api } = system;
    const cdroms = await api.get(`/vms/${vmId}/cdroms`, sdk);
    t.is(cdroms.status, 200, cdroms.text);
    const [drive] = sdkXml.parse(cdroms.text).cdroms.cdrom;
    t.truthy(drive.id);
    const current = await api.get(`/vms/${vmId}/cdroms/${drive.id}?current=false`, sdk);
    t.is(current.status, 200, current.text);
    t.like(sdkXml.parse(current.text).cdrom, { id: drive.id, vm: { id: vmId } });
    t.is(sdkXml.parse(current.text).cdrom.file, undefined, 'an empty drive has no file');

    const consoles = await api.get(`/vms/${vmId}/graphicsconsoles`, sdk);
    t.is(consoles.status, 200, consoles.text);
    const [console] = sdkXml.parse(consoles.text).graphics_consoles.graphics_console;
    t.is(console.protocol, 'vnc');
    t.like(console, { vm: { id: vmId } });
  });

  test.serial(`[${database}] dates are epoch milliseconds (numbers) in JSON and ISO 8601 with the offset in XML, wherever the API writes one`, async (t) => {
    const { api } = system;
    const before = Date.now();
    const started = await api.action(vmId, 'start');
    t.is(started.status, 200, started.text);
    const taskId = started.body.action.task.id as string;

    const taskJson = (await api.get(`/tasks/${taskId}`, { accept: 'json' })).body;
    const taskXml = (await api.get(`/tasks/${taskId}`, sdk)).body.task;
    for (const field of ['creation_time', 'start_time', 'end_time']) {
      t.is(typeof taskJson[field], 'number', `task ${field} in JSON: ${JSON.stringify(taskJson[field])}`);
      t.true(taskJson[field] >= before - 1000 && taskJson[field] <= Date.now(), `task ${field} is a time of this test`);
      t.regex(taskXml[field], isoWithOffset, `task ${field} in XML`);
      t.is(Date.parse(taskXml[field]), taskJson[field], `task ${field} is the same instant in both`);
    }
    const vmJson = await api.vm(vmId);
    t.is(typeof vmJson.creation_time, 'number');
    t.regex((await api.get(`/vms/${vmId}`, sdk)).body.vm.creation_time, isoWithOffset);
    const rootJson = (await api.get('/', { accept: 'json' })).body;
    t.is(typeof rootJson.time, 'number');
    t.regex((await api.get('/', sdk)).body.api.time, isoWithOffset);
    t.is((await api.action(vmId, 'stop')).status, 200);
  });

  test.serial(`[${database}] a date in a request: JSON takes epoch milliseconds or ISO 8601, XML takes ISO 8601`, async (t) => {
    const { api } = system;
    const expiry = Math.floor(Date.now() / 1000) * 1000 + 3_600_000;
    const iso = new Date(expiry).toISOString();
    const sent = [
      await api.post('/hostenrollmenttokens', { description: 'json-number', expiration_time: expiry }, { accept: 'json' }),
      await api.post('/hostenrollmenttokens', { description: 'json-iso', expiration_time: iso.replace('Z', '+00:00') }, { accept: 'json' }),
      await api.post('/hostenrollmenttokens', `<host_enrollment_token><description>xml-iso</description><expiration_time>${iso}</expiration_time></host_enrollment_token>`, { accept: 'json' }),
    ];
    for (const response of sent) {
      t.is(response.status, 201, response.text);
      t.is(response.body.expiration_time, expiry, `${response.body.description}: expires when asked`);
    }
    const readBack = await api.get(`/hostenrollmenttokens/${sent[2]!.body.id}`, sdk);
    t.is(readBack.body.host_enrollment_token.expiration_time, iso.replace('Z', '+00:00'));

    assertFault(t, await api.post('/hostenrollmenttokens', `<host_enrollment_token><expiration_time>${expiry}</expiration_time></host_enrollment_token>`), 400, /host_enrollment_token\.expiration_time must be a date and time, as ISO 8601 with a time zone/);
    assertFault(t, await api.post('/hostenrollmenttokens', { expiration_time: '2026-12-07T10:00:00' }, { accept: 'json' }), 400, /milliseconds since the epoch or ISO 8601 with a time zone/, 'json');
    assertFault(t, await api.post('/hostenrollmenttokens', { expiration_time: expiry, lifetime: 60 }, { accept: 'json' }), 400, /a lifetime or an expiration_time, not both/, 'json');
    assertFault(t, await api.post('/hostenrollmenttokens', { expiration_time: Date.now() - 60_000 }, { accept: 'json' }), 400, /lives from 1 second/, 'json');
  });
}
