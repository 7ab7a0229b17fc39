import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { DomainState as UnraidDomainState, Hypervisor } from '@unraid/libvirt';
import { loadedLibvirtVersion } from '../../../agent/hypervisor/libvirt/node-facts.js';
import {
  DomainEvent,
  DomainState,
  ErrorCode,
  LibvirtConnection,
  isLibvirtError,
  type DomainLifecycleEvent,
  type LibvirtError,
} from '../../../agent/hypervisor/libvirt/native/index.js';
import { eventually } from '../../support/eventually.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';
import { privateTestHost, testDomainXml } from '../../support/test-hosts.js';

type Teardown = { teardown: (fn: () => Promise<void>) => void };

/** Domains of the private hosts: one per state the test driver can start a domain in. */
const hostDomains = [
  { name: 'running', uuid: '10000000-0000-4000-8000-000000000001', runstate: undefined },
  { name: 'paused', uuid: '10000000-0000-4000-8000-000000000003', runstate: 3 },
  { name: 'shutting-down', uuid: '10000000-0000-4000-8000-000000000004', runstate: 4 },
  { name: 'shutoff', uuid: '10000000-0000-4000-8000-000000000005', runstate: 5 },
  { name: 'crashed', uuid: '10000000-0000-4000-8000-000000000006', runstate: 6 },
  { name: 'pm-suspended', uuid: '10000000-0000-4000-8000-000000000007', runstate: 7 },
];

function domainXml(name: string, uuid: string, extra = ''): string {
  return `<domain type='test'><name>${name}</name><uuid>${uuid}</uuid><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os>${extra}</domain>`;
}

/** A private test-driver host (its own host per connection) holding hostDomains. */
async function privateHost(t: Teardown) {
  const directory = await temporaryDirectory('addon');
  const uri = await privateTestHost(directory.path, 'host', {
    memoryMiB: 16384,
    cores: 4,
    threads: 2,
    domains: hostDomains.map(({ name, uuid, runstate }) => testDomainXml(name, uuid, runstate)),
  });
  const connection = new LibvirtConnection(uri);
  await connection.open();
  t.teardown(async () => {
    await connection.close();
    await directory.remove();
  });
  return { connection, directory: directory.path };
}

async function defaultHost(t: Teardown): Promise<LibvirtConnection> {
  const connection = new LibvirtConnection('test:///default');
  await connection.open();
  t.teardown(() => connection.close());
  return connection;
}

async function libvirtError(promise: Promise<unknown>): Promise<LibvirtError> {
  try {
    await promise;
  } catch (error) {
    if (isLibvirtError(error)) return error;
    throw new Error(`expected a libvirt error, got ${String(error)}`);
  }
  throw new Error('expected a libvirt error, but the call succeeded');
}

test('host facts come from the connection', async (t) => {
  const { connection } = await privateHost(t);
  t.deepEqual(await connection.nodeInfo(), { model: 'x86_64', memoryKiB: 16777216, cpus: 8, mhz: 2000, nodes: 1, sockets: 1, cores: 4, threads: 2 });
  t.true((await connection.hostname()).length > 0);
  t.is(await connection.hypervisorType(), 'TEST');
  t.is(await connection.hypervisorVersion(), '0.0.2'); // the test driver's fixed version
  t.is(await connection.libraryVersion(), await loadedLibvirtVersion());
});

test('listDomains reports every domain with its state, id and name in one call', async (t) => {
  const { connection } = await privateHost(t);
  const listed = await connection.listDomains();
  t.is(listed.length, hostDomains.length);
  const byUuid = new Map(listed.map((domain) => [domain.uuid, domain]));
  for (const { name, uuid, runstate } of hostDomains) {
    const domain = byUuid.get(uuid);
    t.is(domain?.name, name);
    t.is(domain?.state, runstate ?? DomainState.RUNNING, name);
    if (runstate === DomainState.SHUTOFF) t.is(domain?.id, -1);
    else t.true((domain?.id ?? -1) > 0, name);
  }
  for (const { uuid } of hostDomains) t.deepEqual(await connection.domainStatus(uuid), byUuid.get(uuid));
});

test('domains are defined and operated, each operation answering the state after it', async (t) => {
  const { connection } = await privateHost(t);
  const uuid = randomUUID();
  const defined = await connection.defineDomain(domainXml('fresh', uuid));
  t.deepEqual(defined, { uuid, name: 'fresh', id: -1, state: DomainState.SHUTOFF });
  t.true((await connection.listDomains()).some((domain) => domain.uuid === uuid));

  const started = await connection.domainOperation(uuid, 'create');
  t.is(started?.state, DomainState.RUNNING);
  t.true((started?.id ?? -1) > 0);
  t.is((await connection.domainOperation(uuid, 'suspend'))?.state, DomainState.PAUSED);
  t.is((await connection.domainStatus(uuid))?.state, DomainState.PAUSED);
  t.is((await connection.domainOperation(uuid, 'resume', { requiredStates: [DomainState.PAUSED] }))?.state, DomainState.RUNNING);
  t.is((await connection.domainOperation(uuid, 'reboot'))?.state, DomainState.RUNNING);
  t.is((await connection.domainOperation(uuid, 'shutdown'))?.state, DomainState.SHUTOFF);
  t.is((await connection.domainOperation(uuid, 'create'))?.state, DomainState.RUNNING);
  t.deepEqual(await connection.domainOperation(uuid, 'destroy'), { uuid, name: 'fresh', id: -1, state: DomainState.SHUTOFF });
  t.is(await connection.domainOperation(uuid, 'undefine'), null);
  t.is(await connection.domainStatus(uuid), null);
  t.false((await connection.listDomains()).some((domain) => domain.uuid === uuid));
});

test('XML, metadata, save and restore', async (t) => {
  const { connection, directory } = await privateHost(t);
  const uuid = randomUUID();
  const namespace = 'https://example.org/addon-test';
  await connection.defineDomain(domainXml('described', uuid, `<metadata><x:tag xmlns:x='${namespace}'><x:id>${uuid}</x:id></x:tag></metadata>`));
  t.regex(await connection.domainXml(uuid, { inactive: true }), new RegExp(`<uuid>${uuid}</uuid>`));
  // libvirt answers with the element stripped of its namespace.
  t.regex((await connection.domainMetadata(uuid, namespace)) ?? '', new RegExp(`^<tag>\\s*<id>${uuid}</id>\\s*</tag>$`));
  t.is(await connection.domainMetadata(uuid, 'https://example.org/absent'), null);
  t.is(await connection.domainMetadata(hostDomains[0].uuid, namespace), null);

  await connection.domainOperation(uuid, 'create');
  const file = path.join(directory, 'described.save');
  t.is((await connection.saveDomain(uuid, file))?.state, DomainState.SHUTOFF);
  t.true(existsSync(file));
  await connection.restoreDomain(file);
  t.is((await connection.domainStatus(uuid))?.state, DomainState.RUNNING);
});

test('failures carry libvirt error codes', async (t) => {
  const { connection } = await privateHost(t);
  const unknown = randomUUID();
  const notFound = await libvirtError(connection.domainOperation(unknown, 'create'));
  t.is(notFound.code, ErrorCode.NO_DOMAIN);
  t.is(typeof notFound.libvirtDomain, 'number');
  t.is((await libvirtError(connection.domainXml(unknown))).code, ErrorCode.NO_DOMAIN);
  t.is(await connection.domainStatus(unknown), null);

  // Drivers differ in what they answer for an operation in the wrong state (the test driver
  // refuses to pause a paused domain with an internal error), so requiredStates checks first.
  const [running, paused] = hostDomains;
  await libvirtError(connection.domainOperation(paused.uuid, 'suspend'));
  t.is((await libvirtError(connection.domainOperation(paused.uuid, 'suspend', { requiredStates: [DomainState.RUNNING] }))).code, ErrorCode.OPERATION_INVALID);
  const wrongState = await libvirtError(connection.domainOperation(running.uuid, 'create', { requiredStates: [DomainState.SHUTOFF] }));
  t.is(wrongState.code, ErrorCode.OPERATION_INVALID);
  t.is(wrongState.message, "domain 'running' is running");
  t.is((await connection.domainStatus(running.uuid))?.state, DomainState.RUNNING);

  const unsupported = await libvirtError(connection.attachDevice(running.uuid, "<disk type='file' device='disk'><source file='/tmp/x.img'/><target dev='vdb'/></disk>", { live: true }));
  t.is(unsupported.code, ErrorCode.NO_SUPPORT);
  t.regex(unsupported.message, /virDomainAttachDeviceFlags/);
  t.is((await libvirtError(connection.detachDevice(running.uuid, "<disk type='file' device='disk'><target dev='vdb'/></disk>", { config: true }))).code, ErrorCode.NO_SUPPORT);

  t.is((await libvirtError(connection.defineDomain('<domain>'))).code, ErrorCode.XML_DETAIL); // malformed XML
  t.is((await libvirtError(connection.startStoragePool('absent'))).code, ErrorCode.NO_STORAGE_POOL);
  t.is((await libvirtError(connection.networkXml('absent'))).code, ErrorCode.NO_NETWORK);
  t.false(isLibvirtError(new Error('plain')));
});

test('storage pools go through define, build, start, refresh, stop and undefine', async (t) => {
  const { connection, directory } = await privateHost(t);
  const target = path.join(directory, 'images');
  t.deepEqual(await connection.listStoragePools(), []);
  const defined = await connection.defineStoragePool(`<pool type='dir'><name>images</name><target><path>${target}</path></target></pool>`);
  t.like(defined, { name: 'images', active: false, persistent: true });
  t.regex(defined.uuid, /^[0-9a-f-]{36}$/);
  t.regex(await connection.storagePoolXml('images'), new RegExp(`<path>${target}</path>`));
  await connection.buildStoragePool('images');
  await connection.startStoragePool('images');
  t.deepEqual(await connection.listStoragePools(), [{ ...defined, active: true }]);
  const info = await connection.storagePoolInfo('images');
  t.is(info?.state, 2); // VIR_STORAGE_POOL_RUNNING
  t.true((info?.capacity ?? 0) > 0);
  t.is(info?.available, (info?.capacity ?? 0) - (info?.allocation ?? 0));
  await connection.refreshStoragePool('images');
  await connection.stopStoragePool('images');
  t.is((await connection.storagePoolInfo('images'))?.state, 0); // VIR_STORAGE_POOL_INACTIVE
  await connection.undefineStoragePool('images');
  t.is(await connection.storagePoolInfo('images'), null);
  t.deepEqual(await connection.listStoragePools(), []);
});

test('volumes are created as qcow2 and raw, cloned, described and deleted', async (t) => {
  const { connection, directory } = await privateHost(t);
  const target = path.join(directory, 'images');
  await connection.defineStoragePool(`<pool type='dir'><name>images</name><target><path>${target}</path></target></pool>`);
  await connection.startStoragePool('images');

  const qcow2 = await connection.createVolume('images', "<volume><name>base.qcow2</name><capacity unit='G'>2</capacity><target><format type='qcow2'/></target></volume>");
  t.deepEqual(qcow2, { name: 'base.qcow2', path: path.join(target, 'base.qcow2'), key: path.join(target, 'base.qcow2') });
  const raw = await connection.createVolume(
    'images',
    "<volume><name>scratch.img</name><capacity unit='M'>64</capacity><allocation unit='M'>64</allocation><target><format type='raw'/></target></volume>",
  );
  t.is(raw.path, path.join(target, 'scratch.img'));
  t.regex(await connection.volumeXml('images', 'base.qcow2'), /<format type='qcow2'\/>/);
  t.regex(await connection.volumeXml('images', 'scratch.img'), /<format type='raw'\/>/);
  const base = await connection.volumeInfo('images', 'base.qcow2');
  t.like(base, { type: 0, capacity: 2 * 2 ** 30 }); // VIR_STORAGE_VOL_FILE
  t.like(await connection.volumeInfo('images', 'scratch.img'), { capacity: 64 * 2 ** 20, allocation: 64 * 2 ** 20 });
  t.is((await connection.storagePoolInfo('images'))?.allocation, (base?.allocation ?? NaN) + 64 * 2 ** 20);

  const clone = await connection.cloneVolume('images', "<volume><name>vm1.qcow2</name><capacity unit='G'>2</capacity><target><format type='qcow2'/></target></volume>", 'images', 'base.qcow2');
  t.is(clone.name, 'vm1.qcow2');
  t.deepEqual((await connection.listVolumes('images')).map((volume) => volume.name).sort(), ['base.qcow2', 'scratch.img', 'vm1.qcow2']);

  await connection.deleteVolume('images', 'scratch.img');
  t.is(await connection.volumeInfo('images', 'scratch.img'), null);
  t.is((await libvirtError(connection.volumeXml('images', 'scratch.img'))).code, ErrorCode.NO_STORAGE_VOL);
  t.is((await libvirtError(connection.volumeInfo('absent', 'scratch.img'))).code, ErrorCode.NO_STORAGE_POOL);
  t.deepEqual((await connection.listVolumes('images')).map((volume) => volume.name).sort(), ['base.qcow2', 'vm1.qcow2']);
});

test('networks go through define, start, stop and undefine', async (t) => {
  const { connection } = await privateHost(t);
  const before = await connection.listNetworks();
  const defined = await connection.defineNetwork(
    "<network><name>lab</name><bridge name='virbr42'/><forward mode='nat'/><ip address='192.168.142.1' netmask='255.255.255.0'/></network>",
  );
  t.like(defined, { name: 'lab', active: false, persistent: true, bridge: 'virbr42' });
  t.regex(await connection.networkXml('lab'), /<bridge name='virbr42'/);
  await connection.startNetwork('lab');
  t.like((await connection.listNetworks()).find((network) => network.name === 'lab'), { active: true, uuid: defined.uuid });
  await connection.stopNetwork('lab');
  t.like((await connection.listNetworks()).find((network) => network.name === 'lab'), { active: false });
  await connection.undefineNetwork('lab');
  t.deepEqual(await connection.listNetworks(), before);
});

test('lifecycle events arrive for a start and a destroy', async (t) => {
  const { connection } = await privateHost(t);
  const events: DomainLifecycleEvent[] = [];
  await connection.onDomainLifecycle((event) => events.push(event));
  const shutoff = hostDomains.find((domain) => domain.runstate === DomainState.SHUTOFF)!;
  await connection.domainOperation(shutoff.uuid, 'create');
  await eventually(() => events.some((event) => event.event === DomainEvent.STARTED), 'the started event', 2_000);
  await connection.domainOperation(shutoff.uuid, 'destroy');
  await eventually(() => events.some((event) => event.event === DomainEvent.STOPPED), 'the stopped event', 2_000);
  t.deepEqual(
    events.map(({ uuid, name, event, detail }) => ({ uuid, name, event, detail })),
    [
      { uuid: shutoff.uuid, name: 'shutoff', event: DomainEvent.STARTED, detail: 0 }, // VIR_DOMAIN_EVENT_STARTED_BOOTED
      { uuid: shutoff.uuid, name: 'shutoff', event: DomainEvent.STOPPED, detail: 1 }, // VIR_DOMAIN_EVENT_STOPPED_DESTROYED
    ],
  );
});

test('closing is idempotent, lets running jobs finish and refuses new ones', async (t) => {
  const { connection } = await privateHost(t);
  const listing = connection.listDomains();
  await connection.close();
  t.is((await listing).length, hostDomains.length);
  await connection.close();
  await t.throwsAsync(connection.listDomains(), { message: /not open/ });
  await t.throwsAsync(connection.open(), { message: /already opened/ });
});

test('what the addon does on test:///default is seen through an independent connection, and the reverse', async (t) => {
  const connection = await defaultHost(t);
  const outsider = new Hypervisor({ uri: 'test:///default' });
  await outsider.connectOpen();
  t.teardown(() => outsider.connectClose());
  const events: DomainLifecycleEvent[] = [];
  await connection.onDomainLifecycle((event) => events.push(event));

  const uuid = randomUUID();
  const name = `addon-${uuid.slice(0, 8)}`;
  await connection.defineDomain(domainXml(name, uuid));
  await connection.domainOperation(uuid, 'create');
  const seen = await outsider.domainLookupByUUIDString(uuid);
  t.is(await seen.getName(), name);
  t.is((await outsider.domainGetInfo(seen)).state, UnraidDomainState.RUNNING);
  t.regex(await outsider.domainGetXMLDesc(seen), new RegExp(`<name>${name}</name>`));

  await outsider.domainSuspend(seen);
  t.is((await connection.domainStatus(uuid))?.state, DomainState.PAUSED);
  await eventually(() => events.some((event) => event.uuid === uuid && event.event === DomainEvent.SUSPENDED), 'the suspended event', 2_000);

  await connection.domainOperation(uuid, 'destroy');
  t.is((await outsider.domainGetInfo(seen)).state, UnraidDomainState.SHUTOFF);
  await connection.domainOperation(uuid, 'undefine');
  await t.throwsAsync(outsider.domainLookupByUUIDString(uuid));
});
