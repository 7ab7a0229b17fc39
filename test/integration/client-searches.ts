import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { ExecutionContext, TestFn } from 'ava';
import { XMLParser } from 'fast-xml-parser';
import { assertFault, type ApiResponse } from '../support/api.js';
import { eventually } from '../support/eventually.js';
import { InProcessSystem } from '../support/in-process-system.js';
import type { DatabaseKind } from '../support/scratch-database.js';
import { apiRoutes } from '../../controller/api/server.js';
import { topLevel } from '../../controller/api/collections.js';
import { resources } from '../../controller/query/catalog.js';
import type { Services } from '../../controller/api/services.js';

type Test = TestFn<unknown>;

/** What the search names, as the clients' own encoders write a query parameter (Python's urlencode, Go's url.Values): `+` for a space, every reserved character escaped. */
const searchParameter = (search: string): string =>
  `search=${encodeURIComponent(search)
    .replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)
    .replaceAll('%20', '+')}`;

interface Fleet {
  system: InProcessSystem;
  hostId: string;
  dataCenters: Record<'Default' | 'Remote', string>;
  vms: Record<'web' | 'db' | 'tplSource' | 'fromTpl' | 'far', string>;
  domains: Record<'sdA' | 'sdB' | 'spare', string>;
}

async function must(request: Promise<ApiResponse>, status = 201): Promise<any> {
  const response = await request;
  if (response.status !== status) throw new Error(`${response.status}: ${response.text}`);
  return response.body;
}

/**
 * The names a collection answers for a search, asked in XML and in JSON as
 * the clients send it; the two answers must name the same objects.
 */
async function namesFound(t: ExecutionContext, fleet: Fleet, collection: string, root: string, element: string, search: string): Promise<string[]> {
  const url = `/${collection}?${searchParameter(search)}`;
  const xml = await fleet.system.api.get(url, { accept: 'xml' });
  t.is(xml.status, 200, `${url}: ${xml.text}`);
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false, isArray: (_name, jpath) => jpath === `${root}.${element}` });
  const document = parser.parse(xml.text);
  t.true(root in document, `${url} answers <${root}>: ${xml.text.slice(0, 200)}`);
  const xmlNames = ((document[root] || {})[element] ?? []).map((item: any) => String(item.name)).sort();
  const json = await fleet.system.api.get(url, { accept: 'json' });
  t.is(json.status, 200, `${url}: ${json.text}`);
  t.deepEqual(Object.keys(json.body), [element], `${url} answers {"${element}": [...]}`);
  const jsonNames = (json.body[element] as any[]).map((item) => String(item.name)).sort();
  t.deepEqual(jsonNames, xmlNames, `${url}: XML and JSON name the same objects`);
  return jsonNames;
}

/** A data center with two clusters, a second data center, storage domains, VMs with disks, a template and a VM made from it, on one host. */
async function buildFleet(database: DatabaseKind): Promise<Fleet> {
  const system = await InProcessSystem.start(database, { label: 'client-searches' });
  try {
    const { api } = system;
    const { hostId } = await system.addAgent({ name: 'alpha', memoryMiB: 4096 });
    const json = async (url: string) => (await api.get(url, { accept: 'json' })).body;
    const defaultDc = ((await json('/datacenters')).data_center as any[]).find((dc) => dc.name === 'Default').id as string;
    const remoteDc = (await must(api.post('/datacenters', '<data_center><name>Remote</name></data_center>'))).data_center.id as string;
    await must(api.post('/clusters', `<cluster><name>Blue</name><data_center id="${defaultDc}"/></cluster>`));
    await must(api.post('/clusters', `<cluster><name>far</name><data_center id="${remoteDc}"/></cluster>`));

    const domain = async (name: string) => {
      await mkdir(path.join(system.mountRoot, `_${name}`), { recursive: true });
      return (await must(api.post('/storagedomains', `<storage_domain><name>${name}</name><storage><type>posixfs</type><path>/${name}</path></storage></storage_domain>`))).storage_domain.id as string;
    };
    const domains = { sdA: await domain('sd-a'), sdB: await domain('sd-b'), spare: await domain('sd-spare') };
    for (const id of [domains.sdA, domains.sdB]) await must(api.post(`/datacenters/${defaultDc}/storagedomains`, `<storage_domain id="${id}"/>`));

    const vm = async (name: string, cluster: string, template = 'Blank') =>
      (await must(api.post('/vms', `<vm><name>${name}</name><memory>${128 * 1024 * 1024}</memory><cluster><name>${cluster}</name></cluster><template><name>${template}</name></template></vm>`))).vm.id as string;
    const web = await vm('web', 'Default');
    const db = await vm('db', 'Blue');
    const tplSource = await vm('tpl-source', 'Default');
    const far = await vm('far-1', 'far');
    const diskOn = (domainId: string, name: string) => `<disk><name>${name}</name><provisioned_size>${16 * 1024 * 1024}</provisioned_size><storage_domains><storage_domain id="${domainId}"/></storage_domains></disk>`;
    await must(api.post(`/vms/${web}/diskattachments`, `<disk_attachment><interface>virtio</interface><active>true</active>${diskOn(domains.sdA, 'web-disk')}</disk_attachment>`));
    await must(api.post(`/vms/${db}/diskattachments`, `<disk_attachment><interface>virtio</interface><active>true</active>${diskOn(domains.sdB, 'db-disk')}</disk_attachment>`));
    await must(api.post('/disks', diskOn(domains.sdA, 'loose')));
    await eventually(async () => ((await json('/disks')).disk as any[]).every((disk) => disk.status === 'ok'), 'the disks to be made');

    const template = (await must(api.post('/templates', `<template><name>tpl</name><vm id="${tplSource}"/></template>`), 201)).template.id as string;
    await eventually(async () => (await json(`/templates/${template}`)).status === 'ok', 'template tpl to be ok');
    const fromTpl = await vm('from-tpl', 'Default', 'tpl');
    await must(api.action(web, 'start'), 200);
    await eventually(async () => (await api.vm(web)).status === 'up' && (await api.vm(web)).host?.id === hostId, 'web to run on alpha');
    return { system, hostId, dataCenters: { Default: defaultDc, Remote: remoteDc }, vms: { web, db, tplSource, fromTpl, far }, domains };
  } catch (error) {
    await system.close();
    throw error;
  }
}

/** The searches oVirt clients (Ansible's modules, the Python SDK, go-ovirt-client) send, and the paths they read, for one database. */
export function clientSearchesSuite(test: Test, database: DatabaseKind): void {
  const tag = `[${database}]`;
  let fleet: Fleet;
  test.before(async () => {
    fleet = await buildFleet(database);
  });
  test.after.always(async () => {
    await fleet?.system.close();
  });

  test.serial(`${tag} Ansible ovirt_vm finds the template to create a VM from by name and data center, and an existing VM's template by vm.name`, async (t) => {
    const templates = (search: string) => namesFound(t, fleet, 'templates', 'templates', 'template', search);
    t.deepEqual(await templates('name=Blank and datacenter=Default'), ['Blank'], 'Blank is a template of every data center');
    t.deepEqual(await templates('name=Blank and datacenter=Remote'), ['Blank']);
    t.deepEqual(await templates('name=tpl and datacenter=Default'), ['tpl'], "tpl is in its cluster's data center");
    t.deepEqual(await templates('name=tpl and datacenter=Remote'), []);
    t.deepEqual(await templates('datacenter=Remote'), ['Blank']);
    t.deepEqual(await templates('datacenter!=Remote'), ['tpl']);
    t.deepEqual(await templates('name=Blank and datacenter=Nowhere'), [], 'no data center of that name has templates');
    t.deepEqual(await templates('vm.name=from-tpl'), ['tpl'], 'the template a VM was made from');
    t.deepEqual(await templates('vm.name=web'), ['Blank']);
    t.deepEqual(await templates('vm.name=no-such-vm'), []);
    t.deepEqual(await templates('Vms.name=from-* sortby name'), ['tpl']);
    t.deepEqual(await templates('VM.NAME=WEB'), ['Blank'], 'field names and values are case-insensitive');
    t.deepEqual(await templates('vm.name!=from-tpl'), ['Blank'], '!= holds for a template no VM of that name was made from');
  });

  test.serial(`${tag} Ansible ovirt_nic finds a cluster's data center with Clusters.name, quoted as module_utils quotes it`, async (t) => {
    const dataCenters = (search: string) => namesFound(t, fleet, 'datacenters', 'data_centers', 'data_center', search);
    t.deepEqual(await dataCenters('Clusters.name="Default"'), ['Default']);
    t.deepEqual(await dataCenters('Clusters.name="Blue"'), ['Default']);
    t.deepEqual(await dataCenters('Clusters.name="far"'), ['Remote']);
    t.deepEqual(await dataCenters('Clusters.name="none"'), []);
    t.deepEqual(await dataCenters('clusters.name!=far'), ['Default']);
    t.deepEqual(await dataCenters('cluster=B*'), ['Default']);
    t.deepEqual(await dataCenters('storage.name=sd-a'), ['Default']);
    t.deepEqual(await dataCenters('Storage.name!=sd-a'), ['Remote']);
    t.deepEqual(await dataCenters('network=ovirtmgmt'), ['Default', 'Remote']);
    t.deepEqual(await dataCenters('NAME=remote'), ['Remote']);
  });

  test.serial(`${tag} Ansible ovirt_disk finds a VM's disk with Storage.name and vm_names, quoted as module_utils quotes them`, async (t) => {
    const disks = (search: string) => namesFound(t, fleet, 'disks', 'disks', 'disk', search);
    t.deepEqual(await disks('Storage.name="sd-a" and vm_names="web"'), ['web-disk']);
    t.deepEqual(await disks('Storage.name="sd-b" and vm_names="db"'), ['db-disk']);
    t.deepEqual(await disks('Storage.name="sd-a" and vm_names="db"'), []);
    t.deepEqual(await disks('Storage.name="sd-spare" and vm_names="web"'), []);
    t.deepEqual(await disks('name="web-disk" and vm_names="web"'), ['web-disk']);
    t.deepEqual(await disks('vm_names!=* and storage.name=sd-a'), ['loose'], 'a floating disk has no VM names');
    t.deepEqual(await disks('storages.name=sd-b'), ['db-disk']);
    t.deepEqual(await disks('VMS.NAME=w* or vm.name=db'), ['db-disk', 'web-disk']);
    t.deepEqual(await disks('datacenter=Default and vm_names=*'), ['db-disk', 'web-disk']);
    t.deepEqual(await disks('datacenter=Remote'), []);
  });

  test.serial(`${tag} go-ovirt-client's VM search and the Terraform provider's criteria, with spaces around the operators and upper-case AND and OR`, async (t) => {
    const vms = (search: string) => namesFound(t, fleet, 'vms', 'vms', 'vm', search);
    t.deepEqual(await vms('name = "web" AND (status = up OR status = down)'), ['web']);
    t.deepEqual(await vms('name = "db" AND (status = up)'), []);
    t.deepEqual(await vms('(status != down AND status != paused)'), ['web']);
    t.deepEqual(await vms('name = "far-1" AND (status = up OR status = down) AND (status != paused)'), ['far-1']);
    t.deepEqual(await vms('name = web and status = up'), ['web']);
    const disks = (search: string) => namesFound(t, fleet, 'disks', 'disks', 'disk', search);
    t.deepEqual(await disks('name=loose'), ['loose'], "go-ovirt-client's ListDisksByAlias");
  });

  test.serial(`${tag} the related fields users write search every collection by the related objects' names, in any case`, async (t) => {
    const vms = (search: string) => namesFound(t, fleet, 'vms', 'vms', 'vm', search);
    t.deepEqual(await vms('cluster=Default'), ['from-tpl', 'tpl-source', 'web']);
    t.deepEqual(await vms('Clusters.name=blue'), ['db']);
    t.deepEqual(await vms('host=alpha'), ['web']);
    t.deepEqual(await vms('Hosts.name=alpha'), ['web']);
    t.deepEqual(await vms('host.name!=alpha sortby name'), ['db', 'far-1', 'from-tpl', 'tpl-source']);
    t.deepEqual(await vms('datacenter=Remote'), ['far-1']);
    t.deepEqual(await vms('DataCenter.name=Default and cluster!=Blue'), ['from-tpl', 'tpl-source', 'web']);
    t.deepEqual(await vms('template=tpl'), ['from-tpl']);
    t.deepEqual(await vms('Templates.name=tpl'), ['from-tpl']);
    t.deepEqual(await vms('storage=sd-a'), ['web']);
    t.deepEqual(await vms('Storage.name=sd-*'), ['db', 'web']);
    t.deepEqual(await vms('name="web"'), ['web']);

    const hosts = (search: string) => namesFound(t, fleet, 'hosts', 'hosts', 'host', search);
    t.deepEqual(await hosts('cluster=Default'), ['alpha']);
    t.deepEqual(await hosts('cluster=Blue'), []);
    t.deepEqual(await hosts('datacenter=Default'), ['alpha']);
    t.deepEqual(await hosts('Datacenter=Remote'), []);
    t.deepEqual(await hosts('Vms.name=web'), ['alpha'], 'the host a VM runs on');
    t.deepEqual(await hosts('vms.name=db'), [], 'db does not run');

    const clusters = (search: string) => namesFound(t, fleet, 'clusters', 'clusters', 'cluster', search);
    t.deepEqual(await clusters('datacenter=Default'), ['Blue', 'Default']);
    t.deepEqual(await clusters('DataCenter.name=remote'), ['far']);
    t.deepEqual(await clusters('hosts.name=alpha'), ['Default']);
    t.deepEqual(await clusters('vms.name=db'), ['Blue']);

    const domains = (search: string) => namesFound(t, fleet, 'storagedomains', 'storage_domains', 'storage_domain', search);
    t.deepEqual(await domains('datacenter=Default'), ['sd-a', 'sd-b']);
    t.deepEqual(await domains('datacenter!=Default'), ['sd-spare']);
    t.deepEqual(await domains('Clusters.name=Blue'), ['sd-a', 'sd-b'], "a cluster's data center's domains");
    t.deepEqual(await domains('clusters.name=far'), []);

    const networks = (search: string) => namesFound(t, fleet, 'networks', 'networks', 'network', search);
    t.deepEqual(await networks('datacenter=Remote'), ['ovirtmgmt']);
    t.deepEqual(await networks('DataCenter.name=Default and name=ovirtmgmt'), ['ovirtmgmt']);
    const profiles = (search: string) => namesFound(t, fleet, 'vnicprofiles', 'vnic_profiles', 'vnic_profile', search);
    t.deepEqual(await profiles('Network.name=ovirtmgmt'), ['ovirtmgmt', 'ovirtmgmt']);
    t.deepEqual(await profiles('networks.name=none'), []);

    assertFault(t, await fleet.system.api.get(`/templates?${searchParameter('vm.colour=red')}`), 400, /unknown field "vm.colour"/);
  });

  test.serial(`${tag} every search field of every collection runs on the database, with = and != alike`, async (t) => {
    const { api } = fleet.system;
    let compared = 0;
    for (const [collection, resourceName] of topLevel) {
      for (const [name, field] of resources[resourceName].fields) {
        const value = field.type === 'number' ? '1' : field.type === 'boolean' ? 'true' : '"a b"';
        for (const search of [`${name}=${value}`, `${name}!=${value}`, `${name.toUpperCase()}=*`]) {
          if (search.endsWith('=*') && field.type !== 'text') continue;
          const response = await api.get(`/${collection}?${searchParameter(search)}`, { accept: 'json' });
          t.is(response.status, 200, `/${collection}?search=${search}: ${response.text}`);
          compared++;
        }
      }
    }
    t.true(compared > 300, `${compared} searches`);
  });

  test.serial(`${tag} a VM's and a host's NUMA nodes are an empty list; an unknown VM or host is a 404`, async (t) => {
    const { api } = fleet.system;
    for (const [owner, id, root, element] of [
      ['vms', fleet.vms.web, 'vm_numa_nodes', 'vm_numa_node'],
      ['hosts', fleet.hostId, 'host_numa_nodes', 'host_numa_node'],
    ] as const) {
      const xml = await api.get(`/${owner}/${id}/numanodes`, { accept: 'xml' });
      t.is(xml.status, 200, xml.text);
      t.regex(xml.text, new RegExp(`^<\\?xml[^>]*\\?>\\s*<${root}/>$`));
      const json = await api.get(`/${owner}/${id}/numanodes`, { accept: 'json' });
      t.is(json.status, 200, json.text);
      t.deepEqual(json.body, { [element]: [] });
      assertFault(t, await api.get(`/${owner}/00000000-0000-0000-0000-00000000dead/numanodes`), 404);
      assertFault(t, await api.get(`/${owner}/00000000-0000-0000-0000-00000000dead/numanodes`, { accept: 'json' }), 404, undefined, 'json');
      assertFault(t, await api.post(`/${owner}/${id}/numanodes`, '<vm_numa_node/>'), 405);
    }
  });

  test.serial(`${tag} an unknown sub-path of any object is a 404 fault, and a known path asked with another method a 405 naming the allowed ones`, async (t) => {
    const { api } = fleet.system;
    const routes = apiRoutes({} as Services).declared();
    const objectPaths = [...new Set(routes.map((route) => route.path).filter((pattern) => /^\/[a-z]+\/:[a-z]+$/.test(pattern)))];
    t.true(objectPaths.length >= 12, `${objectPaths.length} kinds of object`);
    const someId = async (collection: string) => {
      const listed = await api.get(`/${collection}`, { accept: 'json' });
      const items = listed.status === 200 ? ((Object.values(listed.body ?? {})[0] as any[] | undefined) ?? []) : [];
      return (items[0]?.id as string | undefined) ?? '00000000-0000-0000-0000-0000000000aa';
    };
    for (const pattern of objectPaths) {
      const collection = pattern.split('/')[1]!;
      const object = `/${collection}/${await someId(collection)}`;
      for (const method of ['GET', 'POST', 'PUT', 'DELETE'] as const) {
        const response = await api.request(method, `${object}/no-such-thing`, method === 'POST' || method === 'PUT' ? { body: '<action/>' } : {});
        assertFault(t, response, 404, /matches no resource/);
        t.is(response.headers.get('allow'), null, `${method} ${pattern}/no-such-thing names no methods`);
      }
      assertFault(t, await api.get(`${object}/no-such-thing`, { accept: 'json' }), 404, /matches no resource/, 'json');
      assertFault(t, await api.get(`${object}/actions/start/more`), 404);
    }
    const actions = routes.filter((route) => route.method === 'post' && /^\/(vms|hosts)\/:id\/[a-z]+$/.test(route.path) && !routes.some((other) => other.method === 'get' && other.path === route.path));
    t.true(actions.length >= 5, `${actions.length} actions`);
    for (const action of actions) {
      const segments = action.path.split('/');
      const url = `/${segments[1]}/${segments[1] === 'vms' ? fleet.vms.web : fleet.hostId}/${segments[3]}`;
      const response = await api.get(url);
      assertFault(t, response, 405, /allowed: POST/);
      t.is(response.headers.get('allow'), 'POST', `GET ${action.path} names POST`);
    }
  });

  test.serial(`${tag} a data center's storage domain path answers 404 for a domain not attached to it, as for an unknown one`, async (t) => {
    const { api } = fleet.system;
    const { Default, Remote } = fleet.dataCenters;
    const attached = await api.get(`/datacenters/${Default}/storagedomains/${fleet.domains.sdA}`, { accept: 'json' });
    t.is(attached.status, 200, attached.text);
    t.is(attached.body.id, fleet.domains.sdA);
    // A domain attached to another data center, one attached to none, an unknown one, and a known one under an unknown data center.
    for (const [dc, domain] of [
      [Remote, fleet.domains.sdA],
      [Default, fleet.domains.spare],
      [Default, '00000000-0000-0000-0000-0000000000bb'],
      ['00000000-0000-0000-0000-0000000000cc', fleet.domains.sdA],
    ] as const) {
      const url = `/datacenters/${dc}/storagedomains/${domain}`;
      assertFault(t, await api.get(url), 404, undefined, 'xml');
      assertFault(t, await api.get(url, { accept: 'json' }), 404, undefined, 'json');
      assertFault(t, await api.delete(url), 404);
      assertFault(t, await api.post(`${url}/deactivate`, '<action/>'), 404);
    }
    const stillAttached = await api.get(`/datacenters/${Default}/storagedomains`, { accept: 'json' });
    t.deepEqual((stillAttached.body.storage_domain as any[]).map((domain) => domain.name).sort(), ['sd-a', 'sd-b'], 'the refused requests changed nothing');
    const put = await api.put(`/datacenters/${Default}/storagedomains/${fleet.domains.sdA}`, '<storage_domain><description>x</description></storage_domain>');
    assertFault(t, put, 405);
    t.regex(put.headers.get('allow') ?? '', /GET/, "oVirt's attached storage domain has no update: PUT is not one of its methods");
  });
}
