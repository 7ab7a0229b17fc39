import type { TestFn } from 'ava';
import { ProcessSystem } from '../support/process-system.js';
import { eventually } from '../support/eventually.js';
import type { DatabaseKind } from '../support/scratch-database.js';
import { assertFault } from '../support/api.js';

type Test = TestFn<unknown>;

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Shared {
  system: ProcessSystem;
}

const names = (list: any[] | undefined) => (list ?? []).map((item) => item.name);

/** Registers the data center, cluster and host scenarios for one database. */
export function resourcesSuite(test: Test, database: DatabaseKind): void {
  const shared = {} as Shared;
  test.before(async () => {
    shared.system = await ProcessSystem.start(database);
  });
  test.after.always(async () => {
    await shared.system?.close();
  });
  const tag = `[${database}]`;

  test.serial(`${tag} the Default data center and cluster exist from the start`, async (t) => {
    const { api } = shared.system;
    const dcs = await api.get('/datacenters', { accept: 'json' });
    t.is(dcs.status, 200);
    t.deepEqual(names(dcs.body.data_center), ['Default']);
    const dc = dcs.body.data_center[0];
    t.regex(dc.id, uuidPattern);
    t.is(dc.local, 'false');
    const clusters = await api.get('/clusters', { accept: 'json' });
    t.deepEqual(names(clusters.body.cluster), ['Default']);
    const cluster = clusters.body.cluster[0];
    t.is(cluster.data_center.id, dc.id);
    t.is(cluster.cpu.architecture, 'x86_64');
    const inDc = await api.get(`/datacenters/${dc.id}/clusters`, { accept: 'json' });
    t.deepEqual(inDc.body.cluster.map((item: any) => item.id), [cluster.id]);
    t.deepEqual((await api.get('/hosts', { accept: 'json' })).body, { host: [] }, 'no hosts before an agent registers');
  });

  test.serial(`${tag} data centers: create, list, get, update, delete`, async (t) => {
    const { api } = shared.system;
    const created = await api.post('/datacenters', '<data_center><name>dc-east</name><description>East wing</description><local>true</local></data_center>');
    t.is(created.status, 201, created.text);
    const id = created.body.data_center.id;
    t.regex(id, uuidPattern);
    t.is(created.headers.get('location'), `/ovirt-engine/api/datacenters/${id}`);
    t.is(created.body.data_center.href, `/ovirt-engine/api/datacenters/${id}`);
    t.is(created.body.data_center.name, 'dc-east');
    t.is(created.body.data_center.description, 'East wing');
    t.is(created.body.data_center.local, 'true');

    const json = await api.post('/datacenters', { name: 'dc-west', description: `quotes ' " \\ and <markup> & ünïcode` }, { accept: 'json' });
    t.is(json.status, 201, json.text);
    t.is(json.body.description, `quotes ' " \\ and <markup> & ünïcode`, 'text round-trips exactly');
    t.is(json.body.local, 'false');

    t.deepEqual(names((await api.get('/datacenters', { accept: 'json' })).body.data_center), ['Default', 'dc-east', 'dc-west']);
    const got = await api.get(`/datacenters/${id}`);
    t.is(got.status, 200);
    t.is(got.body.data_center.name, 'dc-east');
    t.is(got.body.data_center.link[0].rel, 'clusters');
    t.deepEqual((await api.get(`/datacenters/${id}/clusters`, { accept: 'json' })).body, { cluster: [] });

    const updated = await api.put(`/datacenters/${id}`, '<data_center><name>dc-north</name><description>moved</description></data_center>');
    t.is(updated.status, 200, updated.text);
    t.is(updated.body.data_center.name, 'dc-north');
    t.is(updated.body.data_center.description, 'moved');
    t.is(updated.body.data_center.local, 'true', 'fields left out of an update keep their values');
    t.is((await api.get(`/datacenters/${id}`, { accept: 'json' })).body.name, 'dc-north');

    const removed = await api.delete(`/datacenters/${id}`);
    t.is(removed.status, 200);
    t.is(removed.body.action.status, 'complete');
    assertFault(t, await api.get(`/datacenters/${id}`), 404);
    assertFault(t, await api.delete(`/datacenters/${id}`), 404);
    t.is((await api.delete(`/datacenters/${json.body.id}`)).status, 200);
    t.deepEqual(names((await api.get('/datacenters', { accept: 'json' })).body.data_center), ['Default']);
  });

  test.serial(`${tag} clusters: create, list, get, update, delete`, async (t) => {
    const { api } = shared.system;
    const dc = await api.post('/datacenters', '<data_center><name>dc-clusters</name></data_center>');
    const dcId = dc.body.data_center.id;
    const byName = await api.post('/clusters', '<cluster><name>cl-one</name><description>first</description><data_center><name>dc-clusters</name></data_center><cpu><architecture>aarch64</architecture></cpu></cluster>');
    t.is(byName.status, 201, byName.text);
    const one = byName.body.cluster;
    t.is(byName.headers.get('location'), `/ovirt-engine/api/clusters/${one.id}`);
    t.is(one.data_center.id, dcId);
    t.is(one.cpu.architecture, 'aarch64');
    t.is(one.description, 'first');
    const byId = await api.post('/clusters', { name: 'cl-two', data_center: { id: dcId } }, { accept: 'json' });
    t.is(byId.status, 201, byId.text);
    t.is(byId.body.data_center.id, dcId);
    t.is(byId.body.cpu.architecture, 'x86_64');
    const byAttribute = await api.post('/clusters', `<cluster><name>cl-three</name><data_center id="${dcId}"/></cluster>`);
    t.is(byAttribute.status, 201, byAttribute.text);

    t.deepEqual(names((await api.get('/clusters', { accept: 'json' })).body.cluster), ['Default', 'cl-one', 'cl-three', 'cl-two']);
    t.deepEqual(names((await api.get(`/datacenters/${dcId}/clusters`, { accept: 'json' })).body.cluster).sort(), ['cl-one', 'cl-three', 'cl-two']);
    const got = await api.get(`/clusters/${one.id}`, { accept: 'json' });
    t.is(got.body.name, 'cl-one');
    t.is(got.body.href, `/ovirt-engine/api/clusters/${one.id}`);

    const updated = await api.put(`/clusters/${one.id}`, '<cluster><name>cl-uno</name><description>renamed</description></cluster>');
    t.is(updated.status, 200, updated.text);
    t.is(updated.body.cluster.name, 'cl-uno');
    t.is(updated.body.cluster.description, 'renamed');
    t.is(updated.body.cluster.cpu.architecture, 'aarch64');
    const moved = await api.put(`/clusters/${one.id}`, '<cluster><data_center><name>Default</name></data_center></cluster>');
    assertFault(t, moved, 409, /cannot move/);
    t.is((await api.get(`/clusters/${one.id}`, { accept: 'json' })).body.data_center.id, dcId);

    for (const id of [one.id, byId.body.id, byAttribute.body.cluster.id]) {
      const removed = await api.delete(`/clusters/${id}`);
      t.is(removed.status, 200, removed.text);
      t.is(removed.body.action.status, 'complete');
      assertFault(t, await api.get(`/clusters/${id}`), 404);
    }
    t.is((await api.delete(`/datacenters/${dcId}`)).status, 200);
    t.deepEqual(names((await api.get('/clusters', { accept: 'json' })).body.cluster), ['Default']);
  });

  test.serial(`${tag} a data center with a cluster, and a cluster with a VM, cannot be deleted`, async (t) => {
    const { api } = shared.system;
    const dc = (await api.post('/datacenters', '<data_center><name>dc-busy</name></data_center>')).body.data_center;
    const cluster = (await api.post('/clusters', '<cluster><name>cl-busy</name><data_center><name>dc-busy</name></data_center></cluster>')).body.cluster;
    const refusedDc = await api.delete(`/datacenters/${dc.id}`);
    assertFault(t, refusedDc, 409, /dc-busy still has 1 cluster/);
    t.is((await api.get(`/datacenters/${dc.id}`)).status, 200, 'the data center is still there');

    const vm = await api.post('/vms', '<vm><name>vm-in-busy</name><memory>134217728</memory><cluster><name>cl-busy</name></cluster></vm>');
    t.is(vm.status, 201, vm.text);
    t.is(vm.body.vm.cluster.id, cluster.id);
    const refusedCluster = await api.delete(`/clusters/${cluster.id}`);
    assertFault(t, refusedCluster, 409, /cl-busy still has 0 host\(s\), 1 VM\(s\)/);
    t.is((await api.get(`/clusters/${cluster.id}`)).status, 200, 'the cluster is still there');

    t.is((await api.delete(`/vms/${vm.body.vm.id}`)).status, 200);
    t.is((await api.delete(`/clusters/${cluster.id}`)).status, 200);
    t.is((await api.delete(`/datacenters/${dc.id}`)).status, 200);
  });

  test.serial(`${tag} a host appears with its facts when its agent registers`, async (t) => {
    const { system } = shared;
    await system.addHost('alpha', { memoryMiB: 3072 });
    const hosts = await system.api.get('/hosts', { accept: 'json' });
    t.is(hosts.body.host.length, 1);
    const host = hosts.body.host[0];
    t.is(host.name, 'alpha');
    t.is(host.status, 'up');
    t.regex(host.id, uuidPattern);
    t.is(host.href, `/ovirt-engine/api/hosts/${host.id}`);
    t.is(host.memory, String(3072 * 1024 * 1024));
    t.is(host.cpu.topology.cores, '4');
    t.regex(host.cpu.name, /\S/);
    t.regex(host.libvirt_version.full_version, /^libvirt-\d+\.\d+\.\d+$/);
    t.is(host.libvirt_version.full_version, `libvirt-${host.libvirt_version.major}.${host.libvirt_version.minor}.${host.libvirt_version.build}`);
    t.true(typeof host.address === 'string' && host.address.length > 0, `address ${host.address}`);
    t.regex(host.version.full_version, /^drover-agent-\d+\.\d+\.\d+/);
    const defaultCluster = (await system.api.get('/clusters', { accept: 'json' })).body.cluster.find((cluster: any) => cluster.name === 'Default');
    t.is(host.cluster.id, defaultCluster.id);
    const single = await system.api.get(`/hosts/${host.id}`);
    t.is(single.body.host.name, 'alpha');
    t.is(single.body.host.status, 'up');
    const root = await system.api.get('/', { accept: 'json' });
    t.deepEqual(root.body.summary.hosts, { active: '1', total: '1' });
  });

  test.serial(`${tag} a cluster with a host cannot be deleted`, async (t) => {
    const { api } = shared.system;
    const cluster = (await api.get('/clusters', { accept: 'json' })).body.cluster.find((item: any) => item.name === 'Default');
    assertFault(t, await api.delete(`/clusters/${cluster.id}`), 409, /still has 1 host/);
    t.is((await api.get(`/clusters/${cluster.id}`)).status, 200);
    assertFault(t, await api.delete(`/datacenters/${cluster.data_center.id}`), 409, /still has 1 cluster/);
  });

  test.serial(`${tag} a host with a VM defined on it cannot be deleted`, async (t) => {
    const { system } = shared;
    const hostId = await system.hostId('alpha');
    const vmId = await system.api.createVm('vm-on-alpha', 256);
    const started = await system.api.action(vmId, 'start');
    t.is(started.status, 200, started.text);
    t.is((await system.api.vm(vmId)).host.id, hostId);
    const hostTasks = await system.api.get(`/hosts/${hostId}/tasks`, { accept: 'json' });
    t.deepEqual(hostTasks.body.task.map((task: any) => task.action), ['start']);

    const refused = await system.api.delete(`/hosts/${hostId}`);
    assertFault(t, refused, 409, /still has 1 VM/);
    const host = await system.api.get(`/hosts/${hostId}`, { accept: 'json' });
    t.is(host.status, 200);
    t.is(host.body.status, 'up');
    t.is(await system.api.vmStatus(vmId), 'up', 'the VM keeps running');
    assertFault(t, await system.api.delete(`/vms/${vmId}`), 409, /vm-on-alpha/);
    t.is(await system.api.vmStatus(vmId), 'up', 'a running VM is not removed');
    t.is((await system.api.action(vmId, 'stop')).status, 200);
    const stillDefined = await system.api.delete(`/hosts/${hostId}`);
    assertFault(t, stillDefined, 409, /still has 1 VM/, 'xml');
  });

  test.serial(`${tag} hosts cannot be added through the API`, async (t) => {
    const { api } = shared.system;
    const before = (await api.get('/hosts')).text;
    const xml = await api.post('/hosts', '<host><name>intruder</name><address>10.0.0.9</address><root_password>x</root_password></host>');
    assertFault(t, xml, 400, /enroll themselves.*hostenrollmenttokens/);
    const json = await api.post('/hosts', { name: 'intruder' }, { accept: 'json' });
    assertFault(t, json, 400, /enroll themselves/, 'json');
    t.is((await api.get('/hosts')).text, before);
  });

  test.serial(`${tag} a host without VMs can be deleted, also while its agent is connected: its session ends and its agent cannot register again`, async (t) => {
    const { system } = shared;
    await system.addHost('beta', { memoryMiB: 1024 });
    const hostId = await system.hostId('beta');
    const removed = await system.api.delete(`/hosts/${hostId}`);
    t.is(removed.status, 200);
    t.is(removed.body.action.status, 'complete');
    assertFault(t, await system.api.get(`/hosts/${hostId}`), 404);
    await eventually(() => system.host('beta').output.join('').includes('was revoked'), 'the agent to be refused as revoked');
    t.deepEqual(names((await system.api.get('/hosts', { accept: 'json' })).body.host), ['alpha']);
    await system.killAgent('beta', 'SIGTERM');
  });

  test.serial(`${tag} a host whose agent is gone becomes non_responsive`, async (t) => {
    const { system } = shared;
    await system.killAgent('alpha');
    await system.waitForHostStatus('alpha', 'non_responsive');
    const root = await system.api.get('/', { accept: 'json' });
    t.deepEqual(root.body.summary.hosts, { active: '0', total: '1' });
    await system.startAgent('alpha');
    await system.waitForHostStatus('alpha', 'up');
    await eventually(async () => (await system.api.get('/', { accept: 'json' })).body.summary.hosts.active === '1', 'the summary to count the host again');
    t.pass();
  });
}
