import type { ExecutionContext, TestFn } from 'ava';
import { LibvirtConnection, type NetworkSummary } from '../../agent/hypervisor/libvirt/native/index.js';
import { eventually } from '../support/eventually.js';
import { ProcessSystem } from '../support/process-system.js';
import type { DatabaseKind } from '../support/scratch-database.js';

type Test = TestFn<unknown>;

/** A connection of the test's own to a host's hypervisor, which outlives the host's agent (a LibvirtDaemon's test driver). */
async function hypervisorOf(t: ExecutionContext, system: ProcessSystem, host: string): Promise<LibvirtConnection> {
  const connection = new LibvirtConnection(system.host(host).uri);
  await connection.open();
  t.teardown(() => connection.close());
  return connection;
}

async function droverNetwork(connection: LibvirtConnection, networkId: string): Promise<NetworkSummary | undefined> {
  return (await connection.listNetworks()).find((network) => network.name === `drover-net-${networkId}`);
}

async function networkIdOf(system: ProcessSystem, name: string): Promise<string> {
  const networks = (await system.api.get('/networks', { accept: 'json' })).body.network as { id: string; name: string }[];
  const found = networks.find((network) => network.name === name);
  if (!found) throw new Error(`no network ${name}`);
  return found.id;
}

/** Networks are realized on every host that may run a VM of their data center, and removed from the hosts when deleted; on libvirt's test driver, hosts in libvirt daemons of their own. */
export function networksSuite(test: Test, database: DatabaseKind): void {
  test.serial(`[${database}] networks exist on every host of their data center (a new network at once, every network on a host that comes up later) and leave every host when deleted, refused while a running domain on a host uses one`, async (t) => {
    const system = await ProcessSystem.start(database, { alpha: { daemon: true } });
    t.teardown(() => system.close());
    const alpha = await hypervisorOf(t, system, 'alpha');
    const managementId = await networkIdOf(system, 'ovirtmgmt');
    await eventually(async () => (await droverNetwork(alpha, managementId))?.active, 'the host that came up to have the management network');

    const created = await system.api.post('/networks', '<network><name>blue</name><data_center><name>Default</name></data_center><mtu>1400</mtu></network>');
    t.is(created.status, 201, created.text);
    const blueId = created.body.network.id as string;
    await eventually(async () => (await droverNetwork(alpha, blueId))?.active, 'the new network to run on alpha, though no VM uses it');

    await system.addHost('beta', { daemon: true });
    const beta = await hypervisorOf(t, system, 'beta');
    await eventually(async () => (await droverNetwork(beta, blueId))?.active && (await droverNetwork(beta, managementId))?.active, 'a host that came up later to have every network of its data center');
    t.regex(await beta.networkXml(`drover-net-${blueId}`), /<mtu size=['"]1400['"]\/>/, 'as the network describes it');

    const outsider = await beta.defineDomain(
      `<domain type='test'><name>outsider</name><memory unit='MiB'>64</memory><os><type>hvm</type></os><devices><interface type='network'><source network='drover-net-${blueId}'/></interface></devices></domain>`,
      { thenCreate: true },
    );
    const refused = await system.api.delete(`/networks/${blueId}`);
    t.is(refused.status, 409, refused.text);
    t.regex(refused.body.fault.detail, /host beta keeps network blue: network blue is used by the running domain outsider/);
    t.truthy((await system.api.get(`/networks/${blueId}`)).status === 200, 'the network stays');
    await eventually(async () => (await droverNetwork(alpha, blueId))?.active && (await droverNetwork(beta, blueId))?.active, 'every host to have the network again');

    await beta.domainOperation(outsider.uuid, 'destroy');
    const removed = await system.api.delete(`/networks/${blueId}`);
    t.is(removed.status, 200, removed.text);
    t.is((await system.api.get(`/networks/${blueId}`)).status, 404);
    t.is(await droverNetwork(alpha, blueId), undefined, 'alpha no longer has the network');
    t.is(await droverNetwork(beta, blueId), undefined, 'beta no longer has the network');
    t.truthy((await droverNetwork(beta, managementId))?.active, 'the other networks stay');
  });
}
