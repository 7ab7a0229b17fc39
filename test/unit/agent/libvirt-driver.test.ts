import { existsSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { Hypervisor } from '@unraid/libvirt';
import { LibvirtDriver } from '../../../agent/hypervisor/libvirt/driver.js';
import { serializeDomainXml } from '../../../agent/hypervisor/libvirt/domain-xml.js';
import { designDomain } from '../../../agent/hypervisor/libvirt/designer.js';
import { StateWatcher } from '../../../agent/watch/state-watcher.js';
import { readDroverMetadata } from '../../../agent/hypervisor/libvirt/domain-xml.js';
import { loadedLibvirtVersion } from '../../../agent/hypervisor/libvirt/node-facts.js';
import type { DomainChange } from '../../../shared/model.js';
import { vmSpec } from './helpers.js';
import { eventually } from '../../support/eventually.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';
import { privateTestHost } from '../../support/test-hosts.js';

async function privateHost(t: { teardown: (fn: () => Promise<void>) => void }) {
  const directory = await temporaryDirectory('libvirt');
  const uri = await privateTestHost(directory.path, 'host', { memoryMiB: 16384, cores: 4, threads: 2 });
  const driver = new LibvirtDriver({ uri, dataDir: path.join(directory.path, 'agent') });
  await driver.open();
  t.teardown(async () => {
    await driver.close();
    await directory.remove();
  });
  return { driver, directory: directory.path };
}

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
  return { driver, outsider, dataDir: directory.path };
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
});

test("suspend saves the memory image in the agent's data directory; a restore, a destroy and an undefine delete it, and so does a listing that sees the domain started behind the agent", async (t) => {
  const { driver, outsider, dataDir } = await sharedDefaultHost(t);
  const spec = vmSpec();
  t.teardown(async () => {
    await driver.destroy(spec.id).catch(() => undefined);
    await driver.undefine(spec.id).catch(() => undefined);
  });
  const image = driver.saveImagePath(spec.id);
  const suspendedThen = async (step: () => Promise<unknown>, what: string) => {
    await driver.suspend(spec.id);
    t.true(existsSync(image), `saved before ${what}`);
    await step();
    t.false(existsSync(image), `deleted by ${what}`);
  };
  await driver.start(spec.id, spec);
  await suspendedThen(() => driver.start(spec.id), 'a start');
  await suspendedThen(() => driver.resume(spec.id), 'a resume');
  await suspendedThen(() => driver.destroy(spec.id), 'a destroy');
  await driver.start(spec.id);
  await suspendedThen(async () => {
    await outsider.domainCreate(await outsider.domainLookupByUUIDString(spec.id));
    await driver.listDomains();
  }, 'a listing after a start behind the agent');
  await suspendedThen(() => driver.undefine(spec.id), 'an undefine');
  t.true(image.startsWith(`${dataDir}${path.sep}`), 'the image is in the data directory');
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

test("a domain is managed only when its Drover metadata names its own UUID, whatever its name says", async (t) => {
  const { driver, outsider } = await sharedDefaultHost(t);
  const impostor = vmSpec();
  const bare = vmSpec();
  // Drover's name and metadata, but the metadata of another VM.
  await outsider.domainDefineXML(serializeDomainXml({ ...designDomain(impostor, 'test'), metadata: designDomain(vmSpec(), 'test').metadata }));
  await outsider.domainDefineXML(`<domain type='test'><name>drover-${bare.id}</name><uuid>${bare.id}</uuid><memory>65536</memory><os><type>hvm</type></os></domain>`);
  t.teardown(async () => {
    for (const id of [impostor.id, bare.id]) await driver.undefine(id).catch(() => undefined);
  });

  const listed = new Map((await driver.listDomains()).map((domain) => [domain.uuid, domain]));
  t.deepEqual(listed.get(impostor.id), { uuid: impostor.id, name: `drover-${impostor.id}`, state: 'shutoff', managed: false });
  t.deepEqual(listed.get(bare.id), { uuid: bare.id, name: `drover-${bare.id}`, state: 'shutoff', managed: false });
  t.false((await driver.getDomain(impostor.id))?.managed);
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

test('a definition replaced while the domain runs takes effect at its next start', async (t) => {
  const { driver } = await privateHost(t);
  const spec = vmSpec({ memoryBytes: 256 * 2 ** 20 });
  await driver.start(spec.id, spec);
  t.regex(await driver.domainXml(spec.id), /<memory unit='KiB'>262144<\/memory>/);

  await driver.define({ ...spec, memoryBytes: 512 * 2 ** 20 });
  t.regex(await driver.domainXml(spec.id, true), /<memory unit='KiB'>524288<\/memory>/, 'the persistent definition is replaced');
  t.regex(await driver.domainXml(spec.id), /<memory unit='KiB'>262144<\/memory>/, 'while the running domain keeps its own');

  await driver.destroy(spec.id);
  await driver.start(spec.id);
  t.regex(await driver.domainXml(spec.id), /<memory unit='KiB'>524288<\/memory>/, 'the next start uses it');
});
