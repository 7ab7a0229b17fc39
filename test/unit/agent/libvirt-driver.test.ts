import { existsSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { Hypervisor } from '@unraid/libvirt';
import { DriverError } from '../../../agent/hypervisor/driver.js';
import { LibvirtDriver } from '../../../agent/hypervisor/libvirt/driver.js';
import { serializeDomainXml } from '../../../agent/hypervisor/libvirt/domain-xml.js';
import { designDomain } from '../../../agent/hypervisor/libvirt/designer.js';
import { StateWatcher } from '../../../agent/watch/state-watcher.js';
import { readDroverMetadata } from '../../../agent/hypervisor/libvirt/domain-xml.js';
import { loadedLibvirtVersion } from '../../../agent/hypervisor/libvirt/node-facts.js';
import type { DomainChange, DomainStatus } from '../../../shared/model.js';
import { vmSpec } from './helpers.js';
import { eventually } from '../../support/eventually.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';
import { privateTestHost, testDomainXml } from '../../support/test-hosts.js';

const domainCount = 1_000;

function uuidFor(index: number): string {
  return `00000000-0000-4000-8000-${index.toString(16).padStart(12, '0')}`;
}

function runstateFor(index: number): number | undefined {
  if (index % 10 === 0) return 3;
  if (index % 10 < 4) return 5;
  return undefined;
}

async function privateHost(t: { teardown: (fn: () => Promise<void>) => void }, domains = 0) {
  const directory = await temporaryDirectory('libvirt');
  const uri = await privateTestHost(directory.path, 'host', {
    memoryMiB: 16384,
    cores: 4,
    threads: 2,
    domains: Array.from({ length: domains }, (_, index) => testDomainXml(`vm-${index}`, uuidFor(index), runstateFor(index))),
  });
  const driver = new LibvirtDriver({ uri, dataDir: path.join(directory.path, 'agent') });
  await driver.open();
  t.teardown(async () => {
    await driver.close();
    await directory.remove();
  });
  return { driver, directory: directory.path };
}

async function expectKind(promise: Promise<unknown>, kind: DriverError['kind']): Promise<DriverError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DriverError && error.kind === kind) return error;
    throw new Error(`expected a ${kind} DriverError, got ${String(error)}`);
  }
  throw new Error(`expected a ${kind} DriverError, but the call succeeded`);
}

test('define writes a domain with Drover metadata and devices, and redefining updates it', async (t) => {
  const { driver } = await privateHost(t);
  const spec = vmSpec({ displayType: 'spice', cpu: { sockets: 1, cores: 2, threads: 2 } });
  const defined = await driver.define(spec);
  t.deepEqual(defined, { uuid: spec.id, name: `drover-${spec.id}`, state: 'shutoff', managed: true });

  const xml = await driver.domainXml(spec.id);
  t.deepEqual(readDroverMetadata(xml), { id: spec.id, name: spec.name, description: spec.description, clusterId: spec.clusterId, osType: spec.osType });
  t.regex(xml, /<domain type='test'/);
  t.regex(xml, /<memory unit='KiB'>524288<\/memory>/);
  t.regex(xml, /<vcpu placement='static'>4<\/vcpu>/);
  t.regex(xml, /<topology sockets='1' (dies='1' )?cores='2' threads='2'\/>/);
  t.regex(xml, /<graphics type='spice' autoport='yes'/);
  t.regex(xml, /<model type='qxl'/);

  await driver.define({ ...spec, name: 'renamed', memoryBytes: 2 ** 30, cpu: { sockets: 1, cores: 1, threads: 1 }, displayType: 'vnc' });
  const updated = await driver.domainXml(spec.id);
  t.is(readDroverMetadata(updated)?.name, 'renamed');
  t.regex(updated, /<memory unit='KiB'>1048576<\/memory>/);
  t.regex(updated, /<graphics type='vnc' (port='-1' )?autoport='yes'/);
  t.is((await driver.listDomains()).filter((domain) => domain.uuid === spec.id).length, 1);
});

test('a domain goes through its whole life cycle with the state checked after each step', async (t) => {
  const { driver } = await privateHost(t);
  const spec = vmSpec();
  const stateOf = async () => (await driver.getDomain(spec.id))?.state;
  const listedStateOf = async () => (await driver.listDomains()).find((domain) => domain.uuid === spec.id)?.state;
  await driver.define(spec);

  await driver.start(spec.id);
  t.is(await stateOf(), 'running');
  await driver.pause(spec.id);
  t.is(await stateOf(), 'paused');
  t.is(await listedStateOf(), 'paused');
  await driver.resume(spec.id);
  t.is(await stateOf(), 'running');

  await driver.suspend(spec.id);
  t.is(await stateOf(), 'suspended');
  t.is(await listedStateOf(), 'suspended');
  t.true(existsSync(driver.saveImagePath(spec.id)));
  await driver.start(spec.id);
  t.is(await stateOf(), 'running');
  t.false(existsSync(driver.saveImagePath(spec.id)));

  await driver.suspend(spec.id);
  await driver.resume(spec.id);
  t.is(await stateOf(), 'running');
  t.false(existsSync(driver.saveImagePath(spec.id)));

  await driver.reboot(spec.id, 2_000);
  t.is(await stateOf(), 'running');
  await driver.shutdown(spec.id, 2_000);
  t.is(await stateOf(), 'shutoff');
  t.is(await listedStateOf(), 'shutoff');

  await driver.start(spec.id);
  await driver.destroy(spec.id);
  t.is(await stateOf(), 'shutoff');

  await driver.start(spec.id);
  await expectKind(driver.undefine(spec.id), 'invalid_state');
  await driver.destroy(spec.id);
  await driver.undefine(spec.id);
  t.is(await driver.getDomain(spec.id), undefined);
  t.false((await driver.listDomains()).some((domain) => domain.uuid === spec.id));
});

test('operations in the wrong state fail with invalid_state and unknown domains with domain_not_found', async (t) => {
  const { driver } = await privateHost(t);
  const spec = vmSpec();
  await driver.define(spec);
  await expectKind(driver.pause(spec.id), 'invalid_state');
  await expectKind(driver.resume(spec.id), 'invalid_state');
  await expectKind(driver.shutdown(spec.id, 100), 'invalid_state');
  await expectKind(driver.destroy(spec.id), 'invalid_state');
  await expectKind(driver.reboot(spec.id, 100), 'invalid_state');
  await expectKind(driver.suspend(spec.id), 'invalid_state');
  await driver.start(spec.id);
  const error = await expectKind(driver.start(spec.id), 'invalid_state');
  t.regex(error.message, /running/);
  await expectKind(driver.resume(spec.id), 'invalid_state');
  await driver.pause(spec.id);
  await expectKind(driver.pause(spec.id), 'invalid_state');
  await expectKind(driver.start('9b6a3f0e-0000-4000-8000-00000000dead'), 'domain_not_found');
  t.is(await driver.getDomain('9b6a3f0e-0000-4000-8000-00000000dead'), undefined);
});

test('destroying a suspended domain discards its saved memory', async (t) => {
  const { driver } = await privateHost(t);
  const spec = vmSpec();
  await driver.define(spec);
  await driver.start(spec.id);
  await driver.suspend(spec.id);
  await driver.destroy(spec.id);
  t.is((await driver.getDomain(spec.id))?.state, 'shutoff');
  t.false(existsSync(driver.saveImagePath(spec.id)));
});

test('listDomains reports a thousand domains with correct states on the cheap path', async (t) => {
  const { driver } = await privateHost(t, domainCount);
  const spec = vmSpec();
  await driver.define(spec);
  await driver.start(spec.id);
  await driver.suspend(spec.id);

  const first = await driver.listDomains();
  t.is(first.length, domainCount + 1);
  const byUuid = new Map<string, DomainStatus>(first.map((domain) => [domain.uuid, domain]));
  const expected = (index: number) => ({ 3: 'paused', 5: 'shutoff' })[runstateFor(index) ?? 0] ?? 'running';
  const wrong = Array.from({ length: domainCount }, (_, index) => index).filter((index) => byUuid.get(uuidFor(index))?.state !== expected(index));
  t.deepEqual(wrong, []);
  t.deepEqual(byUuid.get(spec.id), { uuid: spec.id, name: `drover-${spec.id}`, state: 'suspended', managed: true });
  t.false(byUuid.get(uuidFor(1))?.managed);

  const durations: number[] = [];
  for (let round = 0; round < 7; round++) {
    const started = performance.now();
    const listed = await driver.listDomains();
    durations.push(performance.now() - started);
    t.is(listed.length, domainCount + 1);
  }
  durations.sort((a, b) => a - b);
  t.log(`listDomains with ${domainCount + 1} domains: median ${durations[3].toFixed(1)} ms`);
  t.true(durations[3] < 100, `median listDomains took ${durations[3]} ms`);
});

test('a suspended domain survives a driver restart, and a save file of a domain started behind the agent is discarded', async (t) => {
  const directory = await temporaryDirectory('libvirt-default');
  t.teardown(directory.remove);
  const spec = vmSpec();
  // test:///default lives while any connection of the process is open: this one keeps it across the restart.
  const outsider = new Hypervisor({ uri: 'test:///default' });
  await outsider.connectOpen();
  const first = new LibvirtDriver({ uri: 'test:///default', dataDir: directory.path });
  await first.open();
  await first.define(spec);
  await first.start(spec.id);
  await first.suspend(spec.id);
  await first.close();

  const second = new LibvirtDriver({ uri: 'test:///default', dataDir: directory.path });
  await second.open();
  t.teardown(() => second.close());
  t.is((await second.listDomains()).find((domain) => domain.uuid === spec.id)?.state, 'suspended');

  await outsider.domainCreate(await outsider.domainLookupByUUIDString(spec.id));
  await outsider.connectClose();

  t.is((await second.listDomains()).find((domain) => domain.uuid === spec.id)?.state, 'running');
  t.false(existsSync(second.saveImagePath(spec.id)));
  await second.destroy(spec.id);
  await second.undefine(spec.id);
});

test('node facts describe the node and the libvirt library', async (t) => {
  const { driver } = await privateHost(t);
  const facts = await driver.nodeFacts();
  t.regex(facts.libvirtVersion, /^\d+\.\d+\.\d+$/);
  t.is(facts.libvirtVersion, await loadedLibvirtVersion());
  t.is(facts.cpuCount, 8);
  t.is(facts.cpuModel, 'x86_64');
  t.is(facts.memoryBytes, 16 * 2 ** 30);
  t.is(facts.hypervisorType, 'TEST');
  t.regex(facts.hypervisorVersion, /^\d+\.\d+\.\d+$/);
  t.true(facts.uri.startsWith('test:///'));
  t.true(facts.hostname.length > 0);
});

/** A driver on test:///default and an independent connection to the same host (it lives while either is open). */
async function sharedDefaultHost(t: { teardown: (fn: () => Promise<void>) => void }) {
  const directory = await temporaryDirectory('libvirt-default');
  const outsider = new Hypervisor({ uri: 'test:///default' });
  await outsider.connectOpen();
  const driver = new LibvirtDriver({ uri: 'test:///default', dataDir: directory.path });
  await driver.open();
  t.teardown(async () => {
    await driver.close();
    await outsider.connectClose();
    await directory.remove();
  });
  return { driver, outsider };
}

test('domains are managed by their Drover metadata, also for a driver that did not define them', async (t) => {
  const { driver, outsider } = await sharedDefaultHost(t);
  const managed = vmSpec();
  const impostor = vmSpec();
  const bare = vmSpec();
  await outsider.domainDefineXML(serializeDomainXml(designDomain(managed, 'test')));
  // Drover's name and metadata, but the metadata of another VM.
  await outsider.domainDefineXML(serializeDomainXml({ ...designDomain(impostor, 'test'), metadata: designDomain(vmSpec(), 'test').metadata }));
  await outsider.domainDefineXML(`<domain type='test'><name>drover-${bare.id}</name><uuid>${bare.id}</uuid><memory>65536</memory><os><type>hvm</type></os></domain>`);
  t.teardown(async () => {
    for (const id of [managed.id, impostor.id, bare.id]) await driver.undefine(id).catch(() => undefined);
  });

  const listed = new Map((await driver.listDomains()).map((domain) => [domain.uuid, domain]));
  t.deepEqual(listed.get(managed.id), { uuid: managed.id, name: `drover-${managed.id}`, state: 'shutoff', managed: true });
  t.deepEqual(listed.get(impostor.id), { uuid: impostor.id, name: `drover-${impostor.id}`, state: 'shutoff', managed: false });
  t.deepEqual(listed.get(bare.id), { uuid: bare.id, name: `drover-${bare.id}`, state: 'shutoff', managed: false });
  t.false([...listed.values()].find((domain) => domain.name === 'test')?.managed);
  t.true((await driver.getDomain(managed.id))?.managed);
});

test('lifecycle events make the watcher report a change made behind the agent long before its next poll', async (t) => {
  const { driver, outsider } = await sharedDefaultHost(t);
  const spec = vmSpec();
  await driver.define(spec);
  t.teardown(async () => {
    await driver.destroy(spec.id).catch(() => undefined);
    await driver.undefine(spec.id);
  });
  const changes: DomainChange[] = [];
  const watcher = new StateWatcher({ driver, pollIntervalMs: 5_000, onChange: (change) => changes.push(change) });
  await watcher.start();
  t.teardown(() => watcher.stop());
  t.is(changes.find((change) => change.domain.uuid === spec.id)?.domain.state, 'shutoff');

  const changedAt = performance.now();
  await outsider.domainCreate(await outsider.domainLookupByUUIDString(spec.id));
  const change = await eventually(() => changes.find((change) => change.domain.uuid === spec.id && change.domain.state === 'running'), 'the running domain', 1_000);
  const latency = performance.now() - changedAt;
  t.log(`a start behind the agent was reported after ${latency.toFixed(1)} ms (poll interval 5000 ms)`);
  t.true(latency < 1_000);
  t.deepEqual(change, { domain: { uuid: spec.id, name: `drover-${spec.id}`, state: 'running', managed: true }, removed: false });
});

test('lifecycle reports carry what they imply: a definition, running, paused, or nothing certain for a stop', async (t) => {
  const { driver } = await privateHost(t);
  const spec = vmSpec();
  const hints: Array<[string, string | undefined]> = [];
  driver.onDomainChange((uuid, hint) => {
    if (uuid === spec.id) hints.push([uuid, hint]);
  });
  const expectHints = async (step: () => Promise<unknown>, expected: Array<string | undefined>, what: string) => {
    hints.length = 0;
    await step();
    await eventually(() => hints.length >= expected.length, what, 1_000);
    t.deepEqual(hints.map(([, hint]) => hint), expected, what);
  };
  await expectHints(() => driver.start(spec.id, spec), ['definition', 'running'], 'define and start');
  await expectHints(() => driver.pause(spec.id), ['paused'], 'pause');
  await expectHints(() => driver.resume(spec.id), ['running'], 'resume');
  await expectHints(() => driver.destroy(spec.id), [undefined], 'destroy');
});

test('start with a spec defines and starts the domain in one step; on a running domain it is invalid_state and the new definition stays for the next start', async (t) => {
  const { driver } = await privateHost(t);
  const spec = vmSpec({ memoryBytes: 256 * 2 ** 20 });
  const started = await driver.start(spec.id, spec);
  t.deepEqual(started, { uuid: spec.id, name: `drover-${spec.id}`, state: 'running', managed: true });
  t.is((await driver.getDomain(spec.id))?.state, 'running');

  const renamed = { ...spec, description: 'changed while running', memoryBytes: 512 * 2 ** 20 };
  const refused = await expectKind(driver.start(spec.id, renamed), 'invalid_state');
  t.regex(refused.message, /running/);
  const inactive = await driver.domainXml(spec.id, true);
  t.regex(inactive, /<memory unit='KiB'>524288<\/memory>/, 'the persistent definition was replaced all the same');
  t.is(readDroverMetadata(inactive)?.description, 'changed while running');
  t.regex(await driver.domainXml(spec.id), /<memory unit='KiB'>262144<\/memory>/, 'while the running domain keeps its own');

  await driver.destroy(spec.id);
  t.is((await driver.start(spec.id))?.state, 'running', 'a plain start uses the definition that is there');
});
