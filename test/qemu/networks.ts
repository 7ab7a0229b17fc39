import { access } from 'node:fs/promises';
import type { TestFn } from 'ava';
import { eventually } from '../support/eventually.js';
import { ProcessSystem } from '../support/process-system.js';
import type { QemuDaemon } from '../support/qemu-daemon.js';
import type { DatabaseKind } from '../support/scratch-database.js';

type Test = TestFn<unknown>;

const exists = (file: string) => access(file).then(() => true, () => false);

/** The bridge of a running libvirt network, or undefined while the network does not run. */
async function activeBridge(daemon: QemuDaemon, networkId: string): Promise<string | undefined> {
  const info = await daemon.virsh('net-info', `drover-net-${networkId}`).catch(() => '');
  if (!/^Active:\s+yes$/m.test(info)) return undefined;
  return /^Bridge:\s+(\S+)$/m.exec(info)?.[1];
}

/** Networks on a real libvirtd: one host only, since every QEMU daemon of a test shares the machine's network namespace and would make the same bridges. */
export function qemuNetworksSuite(test: Test, database: DatabaseKind): void {
  test.serial(`[${database}] QEMU: a network runs on the host with a bridge of its own as soon as it is created, its bridge is gone once it is deleted, and stopping the host leaves no bridge behind`, async (t) => {
    const system = await ProcessSystem.start(database, { alpha: { qemu: true } });
    let closed = false;
    t.teardown(() => (closed ? undefined : system.close()));
    const daemon = system.qemuDaemon('alpha');
    const networks = (await system.api.get('/networks', { accept: 'json' })).body.network as { id: string; name: string }[];
    const managementId = networks.find((network) => network.name === 'ovirtmgmt')!.id;
    const managementBridge = await eventually(() => activeBridge(daemon, managementId), 'the management network to run on the host that came up');

    const created = await system.api.post('/networks', '<network><name>qemu-blue</name><data_center><name>Default</name></data_center></network>');
    t.is(created.status, 201, created.text);
    const blueId = created.body.network.id as string;
    const bridge = await eventually(() => activeBridge(daemon, blueId), 'the new network to run on the host');
    t.true(await exists(`/sys/class/net/${bridge}/bridge`), `the kernel has the bridge ${bridge}`);

    const removed = await system.api.delete(`/networks/${blueId}`);
    t.is(removed.status, 200, removed.text);
    await t.throwsAsync(daemon.virsh('net-info', `drover-net-${blueId}`), { message: /[Nn]etwork not found|no network with matching name/ }, 'the network is undefined');
    t.false(await exists(`/sys/class/net/${bridge}`), 'its bridge is gone');

    closed = true;
    await system.close();
    t.false(await exists(`/sys/class/net/${managementBridge}`), 'the stopped host left no bridge behind');
  });
}
