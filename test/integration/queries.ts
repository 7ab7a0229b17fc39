import type { TestFn } from 'ava';
import { compareForSort, matches, type FieldType, type FieldValue } from '../../controller/query/search-reference.js';
import { parseSearch } from '../../controller/query/search.js';
import { TestSystem, type ApiResponse, type DatabaseKind } from './harness.js';
import { assertFault } from './api-compat.js';
import { writeFleet } from './bulk.js';

type Test = TestFn<unknown>;

interface Shared {
  system: TestSystem;
  /** The VMs as the reference evaluator sees them: flat records keyed by search field. */
  records: Array<Record<string, FieldValue>>;
}

const types: Record<string, FieldType> = {
  memory: 'number',
  'cpu.topology.sockets': 'number',
  'cpu.topology.cores': 'number',
  'cpu.topology.threads': 'number',
  num_vcpus_allocated: 'number',
};

/** A small deterministic PRNG, so a failing query can be reproduced from its seed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const ids = (response: ApiResponse): string[] => (response.body.vm ?? []).map((vm: any) => vm.id);

function statements(response: ApiResponse): number {
  const header = response.headers.get('x-drover-statements');
  if (header === null) throw new Error('the controller did not count statements');
  return Number(header);
}

/** Registers the search, reverse collection, follow and paging scenarios for one database. */
export function queriesSuite(test: Test, database: DatabaseKind): void {
  const shared = {} as Shared;
  const tag = `[${database}]`;

  test.before(async () => {
    const system = await TestSystem.start(database, { alpha: { memoryMiB: 8192 }, beta: { memoryMiB: 8192 } });
    shared.system = system;
    const { api } = system;
    const dc = (await api.get('/datacenters', { accept: 'json' })).body.data_center[0];
    for (const name of ['Blue', 'green']) {
      const created = await api.post('/clusters', `<cluster><name>${name}</name><data_center id="${dc.id}"/></cluster>`);
      if (created.status !== 201) throw new Error(created.text);
    }
    const random = prng(7);
    const clusters = ['Default', 'Default', 'Blue', 'green'];
    const words = ['web', 'db', 'Cache', 'batch', 'edge'];
    const started: string[] = [];
    for (let index = 0; index < 48; index++) {
      const name = `${words[index % words.length]}-${String(index).padStart(2, '0')}`;
      const memory = [64, 128, 256, 512][Math.floor(random() * 4)]! * 1024 * 1024;
      const cores = 1 + Math.floor(random() * 4);
      const os = random() < 0.5 ? 'rhel_9x64' : 'other';
      const display = random() < 0.5 ? 'vnc' : 'spice';
      const description = random() < 0.3 ? '' : `${random() < 0.5 ? 'Front' : 'back'} end ${index}`;
      const body = `<vm><name>${name}</name><memory>${memory}</memory><description>${description}</description><cpu><topology><sockets>1</sockets><cores>${cores}</cores><threads>1</threads></topology></cpu><os><type>${os}</type></os><display><type>${display}</type></display><cluster><name>${clusters[index % 4]}</name></cluster></vm>`;
      const created = await api.post('/vms', body);
      if (created.status !== 201) throw new Error(created.text);
      if (clusters[index % 4] === 'Default' && random() < 0.5) started.push(created.body.vm.id);
    }
    for (const id of started) {
      const answer = await api.action(id, 'start');
      if (answer.status !== 200) throw new Error(answer.text);
    }
    await api.action(started[0]!, 'suspend');
    const hosts = new Map((await api.hosts()).map((host: any) => [host.id, host.name]));
    const clusterNames = new Map(((await api.get('/clusters', { accept: 'json' })).body.cluster as any[]).map((cluster) => [cluster.id, cluster.name]));
    const all = (await api.get('/vms', { accept: 'json' })).body.vm as any[];
    shared.records = all.map((vm) => ({
      id: vm.id,
      uuid: vm.id,
      name: vm.name,
      description: vm.description ?? '',
      status: vm.status,
      memory: Number(vm.memory),
      'cpu.topology.sockets': Number(vm.cpu.topology.sockets),
      'cpu.topology.cores': Number(vm.cpu.topology.cores),
      'cpu.topology.threads': Number(vm.cpu.topology.threads),
      num_vcpus_allocated: Number(vm.cpu.topology.sockets) * Number(vm.cpu.topology.cores) * Number(vm.cpu.topology.threads),
      'os.type': vm.os.type,
      'display.type': vm.display.type,
      cluster: clusterNames.get(vm.cluster.id) ?? null,
      host: vm.host ? (hosts.get(vm.host.id) ?? null) : null,
      template: 'Blank',
    }));
  });
  test.after.always(async () => {
    await shared.system?.close();
  });

  test.serial(`${tag} searches give what an independent filter over the same VMs gives, for many generated queries`, async (t) => {
    const { api } = shared.system;
    const { records } = shared;
    const random = prng(database === 'sqlite' ? 11 : 13);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const textFields = ['name', 'description', 'status', 'os.type', 'display.type', 'cluster', 'host', 'template'];
    const numberFields = ['memory', 'cpu.topology.cores', 'num_vcpus_allocated'];
    const quote = (value: string) => (/^[A-Za-z0-9_.:-]+$/.test(value) ? value : `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`);
    const condition = (): string => {
      if (random() < 0.6) {
        const field = pick(textFields);
        const known = records.map((record) => record[field]).filter((value): value is string => typeof value === 'string' && value !== '');
        let value = known.length ? pick(known) : 'x';
        if (random() < 0.3) value = value.toUpperCase();
        if (random() < 0.35) value = random() < 0.5 ? `${value.slice(0, 2)}*` : `*${value.slice(-2)}`;
        return `${field}${pick(['=', '!=', '=', '<', '>='])}${quote(value)}`;
      }
      const field = pick(numberFields);
      const value = pick(records.map((record) => String(record[field])));
      return `${field}${pick(['=', '!=', '<', '>', '<=', '>='])}${value}`;
    };
    const expression = (depth: number): string => {
      if (depth === 0 || random() < 0.4) return condition();
      const left = expression(depth - 1);
      const right = expression(depth - 1);
      const joined = `${left} ${pick(['and', 'or', 'AND', ''])} ${right}`.replace(/\s+/g, ' ');
      return random() < 0.5 ? `(${joined})` : joined;
    };
    let checked = 0;
    for (let round = 0; round < 150; round++) {
      const search = expression(3);
      const caseSensitive = random() < 0.25;
      const sortField = random() < 0.3 ? pick(['name', 'memory', 'description', 'os.type']) : undefined;
      const direction = random() < 0.5 ? 'asc' : 'desc';
      const fullSearch = sortField ? `${search} sortby ${sortField} ${direction}` : search;
      const response = await api.get(`/vms?search=${encodeURIComponent(fullSearch)}${caseSensitive ? '&case_sensitive=true' : ''}`, { accept: 'json' });
      let expected: string[] | undefined;
      try {
        const query = parseSearch(fullSearch);
        expected = records.filter((record) => matches(query.where!, record, { caseSensitive, types })).map((record) => record.id as string);
      } catch {
        expected = undefined;
      }
      if (expected === undefined) {
        assertFault(t, response, 400, undefined, 'json');
        continue;
      }
      if (response.status !== 200) {
        t.fail(`${fullSearch} answered ${response.status}: ${response.text}`);
        continue;
      }
      const got = ids(response);
      t.deepEqual([...got].sort(), [...expected].sort(), `search ${fullSearch}${caseSensitive ? ' (case sensitive)' : ''}`);
      if (sortField) {
        const byId = new Map(records.map((record) => [record.id as string, record]));
        const type = types[sortField] ?? 'text';
        for (let index = 1; index < got.length; index++) {
          const order = compareForSort(byId.get(got[index - 1]!)![sortField]!, byId.get(got[index]!)![sortField]!, type, caseSensitive);
          if ((direction === 'asc' ? order : -order) > 0) t.fail(`${fullSearch}: ${got[index - 1]} comes before ${got[index]}`);
        }
      }
      t.is(Number(response.headers.get('x-total-count')), expected.length);
      checked++;
    }
    t.true(checked > 100, `${checked} queries compared`);
  });

  test.serial(`${tag} attribute filters are exact matches, combine with search, and an unknown attribute is a 400`, async (t) => {
    const { api } = shared.system;
    const sample = shared.records.find((record) => record.memory === 256 * 1024 * 1024 && record['cpu.topology.cores'] === 2) ?? shared.records[0]!;
    const filtered = await api.get(`/vms?memory=${sample.memory}&cpu.topology.cores=${sample['cpu.topology.cores']}`, { accept: 'json' });
    const expected = shared.records.filter((record) => record.memory === sample.memory && record['cpu.topology.cores'] === sample['cpu.topology.cores']).map((record) => record.id);
    t.deepEqual(ids(filtered).sort(), [...expected].sort() as string[]);
    const byName = await api.get(`/vms?name=${sample.name}`, { accept: 'json' });
    t.deepEqual(ids(byName), [sample.id]);
    t.deepEqual(ids(await api.get(`/vms?name=${String(sample.name).slice(0, 3)}*`, { accept: 'json' })), [], 'a * in a filter is itself, not a wildcard');
    const combined = await api.get(`/vms?search=${encodeURIComponent(`name=${String(sample.name).slice(0, 2)}*`)}&memory=${sample.memory}`, { accept: 'json' });
    t.true(ids(combined).includes(sample.id as string));
    t.true(shared.records.filter((record) => ids(combined).includes(record.id as string)).every((record) => record.memory === sample.memory));
    t.deepEqual(ids(await api.get(`/vms?uuid=${sample.id}`, { accept: 'json' })), [sample.id]);
    assertFault(t, await api.get('/vms?colour=red'), 400, /colour is neither a known option nor a field/);
    assertFault(t, await api.get('/vms?memory=lots'), 400, /number/);
    for (const [collection, field, value] of [
      ['hosts', 'name', 'alpha'],
      ['clusters', 'name', 'Blue'],
      ['datacenters', 'name', 'Default'],
      ['networks', 'name', 'ovirtmgmt'],
      ['templates', 'name', 'Blank'],
    ]) {
      const found = await api.get(`/${collection}?search=${encodeURIComponent(`${field}=${value!.toLowerCase()}`)}`, { accept: 'json' });
      t.is(found.status, 200, found.text);
      const list = Object.values(found.body as Record<string, any[]>)[0] ?? [];
      t.deepEqual(list.map((item: any) => item.name), [value], `${collection} are searchable`);
    }
    const tasks = await api.get(`/tasks?search=${encodeURIComponent('action=start and status=finished')}`, { accept: 'json' });
    t.true(tasks.body.task.length > 0 && tasks.body.task.every((task: any) => task.action === 'start' && task.status === 'finished'));
  });

  test.serial(`${tag} injection attempts through search and filters are values or 400s, never SQL`, async (t) => {
    const { api } = shared.system;
    const before = (await api.get('/vms', { accept: 'json' })).body.vm.length;
    const attempts = [
      `name="x' or '1'='1"`,
      `name=x'); drop table vms; --`,
      `name="\\" or 1=1 --"`,
      `description=*%*`,
      `description=*_*`,
      `memory>0 or 1=1`,
      `name=* sortby name; drop table vms`,
      `cluster="Default' union select id from hosts --"`,
    ];
    for (const search of attempts) {
      const response = await api.get(`/vms?search=${encodeURIComponent(search)}`, { accept: 'json' });
      t.true(response.status === 200 || response.status === 400, `${search}: ${response.status} ${response.text}`);
      if (search.startsWith('description=*%') || search.startsWith('description=*_')) t.deepEqual(ids(response), [], `${search}: % and _ are plain characters`);
    }
    for (const filter of [`name=${encodeURIComponent("x' or 1=1 --")}`, `${encodeURIComponent('name;drop table vms')}=x`, `memory=${encodeURIComponent('1 or 1=1')}`]) {
      const response = await api.get(`/vms?${filter}`, { accept: 'json' });
      t.true(response.status === 200 || response.status === 400, `${filter}: ${response.status}`);
      if (response.status === 200) t.deepEqual(ids(response), []);
    }
    assertFault(t, await api.get(`/vms?search=${encodeURIComponent('name=x sortby (select 1)')}`), 400);
    assertFault(t, await api.get(`/vms?search=${encodeURIComponent('cluster.name=x')}`), 400, /unknown field/);
    t.is((await api.get('/vms', { accept: 'json' })).body.vm.length, before, 'nothing changed');
  });

  test.serial(`${tag} reverse collections list the objects on the other end of each relation, and take search, max and follow`, async (t) => {
    const { api } = shared.system;
    const { records } = shared;
    const hosts = await api.hosts();
    for (const host of hosts) {
      const onHost = await api.get(`/hosts/${host.id}/vms`, { accept: 'json' });
      t.deepEqual(ids(onHost).sort(), records.filter((record) => record.host === host.name).map((record) => record.id as string).sort());
      t.true(host.link.some((link: any) => link.rel === 'vms' && link.href === `/ovirt-engine/api/hosts/${host.id}/vms`));
    }
    const clusters = (await api.get('/clusters', { accept: 'json' })).body.cluster as any[];
    for (const cluster of clusters) {
      const vms = await api.get(`/clusters/${cluster.id}/vms?search=${encodeURIComponent('memory>=128000000')}&max=3`, { accept: 'json' });
      const expected = records.filter((record) => record.cluster === cluster.name && (record.memory as number) >= 128_000_000).map((record) => record.name as string).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      t.deepEqual((vms.body.vm ?? []).map((vm: any) => vm.name), expected.slice(0, 3), `cluster ${cluster.name}: search and max apply`);
      t.is(Number(vms.headers.get('x-total-count')), expected.length);
      const clusterHosts = await api.get(`/clusters/${cluster.id}/hosts`, { accept: 'json' });
      t.deepEqual((clusterHosts.body.host ?? []).map((host: any) => host.name).sort(), cluster.name === 'Default' ? ['alpha', 'beta'] : []);
    }
    const dc = (await api.get('/datacenters', { accept: 'json' })).body.data_center[0];
    t.deepEqual(((await api.get(`/datacenters/${dc.id}/clusters`, { accept: 'json' })).body.cluster as any[]).map((cluster) => cluster.name).sort(), ['Blue', 'Default', 'green']);
    const blank = await api.get('/templates/00000000-0000-0000-0000-000000000000/vms?max=5', { accept: 'json' });
    t.is(blank.body.vm.length, 5);
    t.is(Number(blank.headers.get('x-total-count')), records.length);
    const network = (await api.get('/networks?search=name%3Dovirtmgmt', { accept: 'json' })).body.network[0];
    t.deepEqual((await api.get(`/networks/${network.id}/vms`, { accept: 'json' })).body, { vm: [] }, 'no VM has a NIC on it yet');
    const followed = await api.get(`/hosts/${hosts[0].id}/vms?follow=cluster`, { accept: 'json' });
    t.true((followed.body.vm ?? []).every((vm: any) => vm.cluster.name === 'Default'), 'follow works on reverse collections');
    assertFault(t, await api.get('/hosts/00000000-0000-4000-8000-000000000000/vms'), 404);
  });

  test.serial(`${tag} follow embeds linked objects exactly as they look at their own URLs, at any depth`, async (t) => {
    const { api } = shared.system;
    const vmId = shared.records.find((record) => record.host !== null)!.id as string;
    const sd = await api.post('/storagedomains', `<storage_domain><name>follow-sd</name><storage><type>posixfs</type><path>/follow</path></storage></storage_domain>`);
    t.is(sd.status, 201, sd.text);
    const profile = (await api.get('/vnicprofiles', { accept: 'json' })).body.vnic_profile[0];
    t.is((await api.post(`/vms/${shared.records.find((record) => record.host === null)!.id}/nics`, `<nic><name>eth0</name><vnic_profile id="${profile.id}"/></nic>`)).status, 201);
    const single = await api.get(`/vms/${vmId}?follow=cluster,nics,nics.vnic_profile,disk_attachments.disk,tasks`, { accept: 'json' });
    t.is(single.status, 200, single.text);
    const ownCluster = (await api.get(`/clusters/${single.body.cluster.id}`, { accept: 'json' })).body;
    t.deepEqual(single.body.cluster, ownCluster, 'an embedded object is what its own URL shows');
    t.deepEqual(single.body.nics, { nic: [] });
    t.deepEqual(single.body.disk_attachments, { disk_attachment: [] });
    const ownTasks = (await api.get(`/vms/${vmId}/tasks`, { accept: 'json' })).body.task;
    t.deepEqual(single.body.tasks.task, ownTasks);

    const withNics = await api.get('/vms?follow=nics.vnic_profile.network,nics', { accept: 'json' });
    const vm = withNics.body.vm.find((item: any) => item.nics.nic.length > 0);
    t.truthy(vm, 'a VM with a NIC has it embedded');
    const nic = vm.nics.nic[0];
    const ownNic = (await api.get(`/vms/${vm.id}/nics/${nic.id}`, { accept: 'json' })).body;
    const { vnic_profile: embeddedProfile, ...restOfNic } = nic;
    const { vnic_profile: _ref, ...restOfOwnNic } = ownNic;
    t.deepEqual(restOfNic, restOfOwnNic);
    const { network: embeddedNetwork, ...restOfProfile } = embeddedProfile;
    const { network: _netRef, ...restOfOwnProfile } = (await api.get(`/vnicprofiles/${profile.id}`, { accept: 'json' })).body;
    t.deepEqual(restOfProfile, restOfOwnProfile);
    t.deepEqual(embeddedNetwork, (await api.get(`/networks/${embeddedNetwork.id}`, { accept: 'json' })).body, 'three levels down, still the same object');
    t.true(withNics.body.vm.every((item: any) => Array.isArray(item.nics.nic)), 'every VM gets the element, empty or not');

    const xml = await api.get(`/vms/${vm.id}?follow=nics`, { accept: 'xml' });
    t.regex(xml.text, /<nics><nic href="[^"]+" id="[^"]+"><name>eth0<\/name>/);

    assertFault(t, await api.get('/vms?follow=nics.vnic_profile.colour'), 400, /vnic_profile has no link "colour"; it has network/);
    assertFault(t, await api.get(`/vms/${vm.id}?follow=disks`), 400, /it has cluster, disk_attachments, host, nics, tasks, template, vm_pool/);
    const cyclic = 'disk_attachments.disk.vms.disk_attachments.disk.vms.disk_attachments.disk.vms';
    assertFault(t, await api.get(`/vms?follow=${cyclic}`), 400, /deeper than 8/);
    const deep = await api.get(`/vms?follow=${cyclic.split('.').slice(0, 8).join('.')}`, { accept: 'json' });
    t.is(deep.status, 200, 'a deep cyclic path within the limit is answered');
    t.is((await api.get(`/storagedomains/${sd.body.storage_domain.id}?follow=disks,vms`, { accept: 'json' })).status, 200);
  });

  test.serial(`${tag} pages are stable, with a total count and a link to the next page`, async (t) => {
    const { api } = shared.system;
    const seen: string[] = [];
    let url: string | undefined = '/vms?max=10&search=sortby%20memory%20desc';
    let pages = 0;
    while (url && pages < 20) {
      const response: ApiResponse = await api.get(url, { accept: 'json' });
      t.is(response.status, 200, response.text);
      t.is(Number(response.headers.get('x-total-count')), shared.records.length);
      seen.push(...ids(response));
      const next = /<([^>]+)>; rel="next"/.exec(response.headers.get('link') ?? '')?.[1];
      url = next;
      pages++;
    }
    t.is(pages, Math.ceil(shared.records.length / 10));
    t.is(seen.length, shared.records.length);
    t.is(new Set(seen).size, shared.records.length, 'no VM on two pages, none left out');
    const third = await api.get(`/vms?max=10&search=${encodeURIComponent('sortby memory desc page 3')}`, { accept: 'json' });
    t.deepEqual(ids(third), seen.slice(20, 30));
    assertFault(t, await api.get(`/vms?search=${encodeURIComponent('page 2')}`), 400, /max/);
    assertFault(t, await api.get('/vms?max=-2'), 400);
    t.is((await api.get('/vms?max=-1', { accept: 'json' })).body.vm.length, shared.records.length);
    t.is((await api.get('/vms?max=0', { accept: 'json' })).body.vm.length, 0);
  });

  test.serial(`${tag} ETags: If-None-Match gives 304 on entities and collections; If-Match on PUT and DELETE gives 412 after a change`, async (t) => {
    const { api } = shared.system;
    const id = shared.records.find((record) => record.host === null)!.id as string;
    const first = await api.get(`/vms/${id}`);
    const etag = first.headers.get('etag')!;
    t.regex(etag, /^"[A-Za-z0-9_-]+"$/);
    const again = await api.get(`/vms/${id}`, { headers: { 'If-None-Match': etag } });
    t.is(again.status, 304);
    t.is(again.text, '');
    const list = await api.get('/clusters');
    t.is((await api.get('/clusters', { headers: { 'If-None-Match': list.headers.get('etag')! } })).status, 304);
    const stale = await api.put(`/vms/${id}`, '<vm><description>changed once</description></vm>', { headers: { 'If-Match': etag } });
    t.is(stale.status, 200, stale.text);
    t.not(stale.headers.get('etag'), etag);
    t.is((await api.get(`/vms/${id}`, { headers: { 'If-None-Match': etag } })).status, 200, 'a changed VM is sent again');
    assertFault(t, await api.put(`/vms/${id}`, '<vm><description>changed twice</description></vm>', { headers: { 'If-Match': etag } }), 412, /changed since/);
    t.is((await api.vm(id)).description, 'changed once', 'the refused update changed nothing');
    const current = (await api.get(`/vms/${id}`, { accept: 'json' })).headers.get('etag')!;
    t.is((await api.put(`/vms/${id}`, '<vm><description>changed twice</description></vm>', { headers: { 'If-Match': current } })).status, 200, 'the JSON tag is as good as the XML one');
    const cluster = (await api.post('/clusters', `<cluster><name>doomed</name><data_center><name>Default</name></data_center></cluster>`)).body.cluster;
    const clusterTag = (await api.get(`/clusters/${cluster.id}`)).headers.get('etag')!;
    t.is((await api.put(`/clusters/${cluster.id}`, '<cluster><description>edited</description></cluster>')).status, 200);
    assertFault(t, await api.delete(`/clusters/${cluster.id}`, { headers: { 'If-Match': clusterTag } }), 412);
    t.is((await api.get(`/clusters/${cluster.id}`)).status, 200, 'the refused delete removed nothing');
    t.is((await api.delete(`/clusters/${cluster.id}`, { headers: { 'If-Match': (await api.get(`/clusters/${cluster.id}`)).headers.get('etag')! } })).status, 200);
  });

  test.serial(`${tag} all_content adds the fields that take extra work`, async (t) => {
    const { api } = shared.system;
    const host = (await api.hosts())[0];
    t.is(host.summary, undefined, 'a host has no summary by default');
    const full = await api.get(`/hosts/${host.id}?all_content=true`, { accept: 'json' });
    t.is(Number(full.body.summary.total), shared.records.filter((record) => record.host === host.name).length);
    const header = await api.get('/hosts', { accept: 'json', headers: { 'All-Content': 'true' } });
    t.true(header.body.host.every((item: any) => item.summary !== undefined));
    const domains = await api.get('/storagedomains', { accept: 'json' });
    t.true(domains.body.storage_domain.every((item: any) => item.committed === undefined));
    t.true((await api.get('/storagedomains?all_content=true', { accept: 'json' })).body.storage_domain.every((item: any) => item.committed !== undefined));
  });

  test.serial(`${tag} the statements a request issues do not grow with the number of VMs`, async (t) => {
    const { system } = shared;
    const requests = [
      '/vms?follow=disk_attachments.disk,nics',
      '/vms?follow=disk_attachments.disk.storage_domains,nics.vnic_profile,cluster',
      `/vms?search=${encodeURIComponent('cluster=fleet* or memory>100 sortby memory desc')}&follow=nics`,
      '/disks?follow=vms',
      '/storagedomains?follow=disks&all_content=true',
      '/clusters?follow=vms.disk_attachments',
    ];
    const measure = async () => {
      const counts: number[] = [];
      for (const request of requests) {
        const response = await system.api.get(request, { accept: 'json' });
        t.is(response.status, 200, `${request}: ${response.text.slice(0, 300)}`);
        counts.push(statements(response));
      }
      return counts;
    };
    await system.killController('SIGTERM');
    await writeFleet(system.databaseLocation, 10, { prefix: 'fleet' });
    await system.startController();
    const small = await measure();
    const vmsBefore = Number((await system.api.get('/vms?max=0')).headers.get('x-total-count'));
    await system.killController('SIGTERM');
    await writeFleet(system.databaseLocation, 1000, { prefix: 'more' });
    await system.startController();
    const large = await measure();
    const vmsAfter = Number((await system.api.get('/vms?max=0')).headers.get('x-total-count'));
    t.is(vmsAfter - vmsBefore, 1000);
    t.deepEqual(large, small, `statements per request: ${small.join(', ')} with ${vmsBefore} VMs and ${large.join(', ')} with ${vmsAfter}`);
    t.true(small.every((count) => count > 0 && count < 20));
    const followed = await system.api.get('/vms?follow=disk_attachments.disk,nics&max=-1', { accept: 'json' });
    const fleetVm = followed.body.vm.find((vm: any) => vm.name === 'more-0500');
    t.is(fleetVm.disk_attachments.disk_attachment.length, 2);
    t.is(fleetVm.disk_attachments.disk_attachment[0].disk.provisioned_size, String(2 ** 30));
    t.is(fleetVm.nics.nic.length, 2);
    const tooMany = await system.api.get('/vms?follow=disk_attachments.disk.vms.disk_attachments.disk.vms');
    assertFault(t, tooMany, 400, /would embed more than 10000 objects/);
  });
}
