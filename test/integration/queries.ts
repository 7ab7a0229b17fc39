import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ExecutionContext, TestFn } from 'ava';
import { XMLParser } from 'fast-xml-parser';
import { prng } from '../support/random.js';
import { compareForSort, matches, type FieldType, type FieldValue, type MatchOptions } from '../../controller/query/search-reference.js';
import { parseSearch, type Condition } from '../../controller/query/search.js';
import { ProcessSystem } from '../support/process-system.js';
import { eventually } from '../support/eventually.js';
import { Api, assertFault, basicAuthorization, type ApiResponse } from '../support/api.js';
import type { DatabaseKind } from '../support/scratch-database.js';
import { writeFleet } from '../support/fleet.js';
import { subCollections, topLevel } from '../../controller/api/collections.js';
import { apiRoutes } from '../../controller/api/server.js';
import { requirementOf } from '../../controller/api/permits.js';
import type { Services } from '../../controller/api/services.js';
import { resources, type ResourceName } from '../../controller/query/catalog.js';

type Test = TestFn<unknown>;

/** A flat record keyed by search field; a related field with several objects (a VM's storage domains) holds their names. */
type SearchRecord = Record<string, FieldValue | string[]>;

/** A disk of the fleet as it was made, read back from the disks' own URLs. */
interface FleetDisk {
  name: string;
  size: number;
  domainId: string;
  vmId: string | null;
  templateId: string | null;
}

interface Shared {
  system: ProcessSystem;
  /** The VMs as the reference evaluator sees them: flat records keyed by search field. */
  records: SearchRecord[];
  /** Every disk of the fleet (templates' too), by id. */
  disks: Map<string, FleetDisk>;
  /** The networks each VM has a NIC on, by VM id (network ids). */
  vmNetworks: Map<string, string[]>;
  /** The storage domains the fleet made, name to id. */
  domains: Map<string, string>;
  /** The VM pools the fleet made, name to id. */
  pools: Map<string, string>;
}

const types: Record<string, FieldType> = {
  memory: 'number',
  'cpu.topology.sockets': 'number',
  'cpu.topology.cores': 'number',
  'cpu.topology.threads': 'number',
  num_vcpus_allocated: 'number',
};

const ids = (response: ApiResponse): string[] => (response.body.vm ?? []).map((vm: any) => vm.id);
/** The ids of a JSON collection answer of any kind (`{"disk": [...]}`). */
const listIds = (response: ApiResponse): string[] => ((Object.values(response.body ?? {})[0] as any[] | undefined) ?? []).map((item: any) => item.id);
const sorted = (items: readonly string[]): string[] => [...items].sort();
const unique = (items: readonly string[]): string[] => [...new Set(items)].sort();

/**
 * A record with each related field also under oVirt's cross-reference
 * spellings (`clusters.name` for `cluster`), which name the same field.
 */
function withSpellings(record: SearchRecord, spellings: Record<string, readonly string[]>): SearchRecord {
  const spelled = { ...record };
  for (const [field, objects] of Object.entries(spellings)) for (const object of objects) spelled[`${object}.name`] = record[field]!;
  return spelled;
}

const vmSpellings = { cluster: ['cluster', 'clusters'], host: ['host', 'hosts'], template: ['template', 'templates'], pool: ['pool', 'pools'], storage: ['storage', 'storages'], network: ['network', 'networks'], datacenter: ['datacenter'] } as const;

function statements(response: ApiResponse): number {
  const header = response.headers.get('x-drover-statements');
  if (header === null) throw new Error('the controller did not count statements');
  return Number(header);
}

/**
 * The reference evaluator extended to related fields that name several
 * objects (the storage domains of a VM's disks, the networks of its NICs):
 * `=`, `<` and the like hold when one of the related objects meets them, and
 * `!=` holds when none is equal (so also for an object without any).
 */
function holds(condition: Condition, record: SearchRecord, options: MatchOptions): boolean {
  if (condition.kind !== 'compare') {
    const left = holds(condition.left, record, options);
    return condition.kind === 'and' ? left && holds(condition.right, record, options) : left || holds(condition.right, record, options);
  }
  const field = condition.field.toLowerCase();
  const value = record[field];
  if (!Array.isArray(value)) return matches(condition, { [field]: value ?? null }, options);
  if (condition.op === '!=') return !value.some((item) => matches({ ...condition, op: '=' }, { [field]: item }, options));
  return value.some((item) => matches(condition, { [field]: item }, options));
}

interface SearchFields {
  text: string[];
  number: string[];
  boolean?: string[];
  sort: string[];
}

/**
 * Compares `rounds` generated searches on a collection with what the
 * reference evaluator gives over the same records (including the order of a
 * `sortby`, the total count, and 400s for searches the evaluator refuses),
 * and returns how many were compared.
 */
async function compareGeneratedSearches(t: ExecutionContext, api: Api, collection: string, records: SearchRecord[], fields: SearchFields, fieldTypes: Record<string, FieldType>, seed: number, rounds: number): Promise<number> {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const quote = (value: string) => (/^[A-Za-z0-9_.:-]+$/.test(value) ? value : `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`);
  const known = (field: string) => records.flatMap((record) => [record[field]].flat()).filter((value): value is string => typeof value === 'string' && value !== '');
  const condition = (): string => {
    const roll = random();
    if (fields.boolean?.length && roll < 0.15) return `${pick(fields.boolean)}${pick(['=', '!=', '<'])}${pick(['true', 'false', 'TRUE'])}`;
    if (roll < 0.6 || fields.number.length === 0) {
      const field = pick(fields.text);
      const values = known(field);
      let value = values.length ? pick(values) : 'x';
      if (random() < 0.3) value = value.toUpperCase();
      if (random() < 0.35) value = random() < 0.5 ? `${value.slice(0, 2)}*` : `*${value.slice(-2)}`;
      return `${field}${pick(['=', '!=', '=', '<', '>='])}${quote(value)}`;
    }
    const field = pick(fields.number);
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
  for (let round = 0; round < rounds; round++) {
    const search = expression(3);
    const caseSensitive = random() < 0.25;
    const sortField = random() < 0.3 ? pick(fields.sort) : undefined;
    const direction = random() < 0.5 ? 'asc' : 'desc';
    const fullSearch = sortField ? `${search} sortby ${sortField} ${direction}` : search;
    const response = await api.get(`/${collection}?search=${encodeURIComponent(fullSearch)}${caseSensitive ? '&case_sensitive=true' : ''}`, { accept: 'json' });
    let expected: string[] | undefined;
    try {
      const query = parseSearch(fullSearch);
      // Every condition is checked, also those an evaluation would skip: the compiler refuses a search with a bad one.
      const check = (condition: Condition): unknown => (condition.kind === 'compare' ? matches(condition, {}, { caseSensitive, types: fieldTypes }) : [check(condition.left), check(condition.right)]);
      check(query.where!);
      expected = records.filter((record) => holds(query.where!, record, { caseSensitive, types: fieldTypes })).map((record) => record.id as string);
    } catch {
      expected = undefined;
    }
    if (expected === undefined) {
      assertFault(t, response, 400, undefined, 'json');
      continue;
    }
    if (response.status !== 200) {
      t.fail(`${collection}: ${fullSearch} answered ${response.status}: ${response.text}`);
      continue;
    }
    const got = listIds(response);
    t.deepEqual(sorted(got), sorted(expected), `${collection}: search ${fullSearch}${caseSensitive ? ' (case sensitive)' : ''}`);
    if (sortField) {
      const byId = new Map(records.map((record) => [record.id as string, record]));
      const type = fieldTypes[sortField] ?? 'text';
      for (let index = 1; index < got.length; index++) {
        const order = compareForSort(byId.get(got[index - 1]!)![sortField] as FieldValue, byId.get(got[index]!)![sortField] as FieldValue, type, caseSensitive);
        if ((direction === 'asc' ? order : -order) > 0) t.fail(`${collection}: ${fullSearch}: ${got[index - 1]} comes before ${got[index]}`);
      }
    }
    t.is(Number(response.headers.get('x-total-count')), expected.length);
    checked++;
  }
  return checked;
}

/** Parses XML keeping the order of elements and every attribute, to compare documents as they are written. */
const orderedXml = new XMLParser({ ignoreAttributes: false, preserveOrder: true, parseTagValue: false, parseAttributeValue: false, trimValues: false });
type XmlNode = Record<string, any>;
const tagOf = (node: XmlNode): string => Object.keys(node).find((key) => key !== ':@')!;
const childrenOf = (node: XmlNode): XmlNode[] => (Array.isArray(node[tagOf(node)]) ? node[tagOf(node)] : []);
const attributesOf = (node: XmlNode): Record<string, string> => node[':@'] ?? {};
const documentElement = (text: string): XmlNode => (orderedXml.parse(text) as XmlNode[]).find((node) => !tagOf(node).startsWith('?'))!;

/** A follow tree as nested objects: `{nics: {vnic_profile: {}}}`. */
type FollowPaths = { [link: string]: FollowPaths };

function followTree(paths: string): FollowPaths {
  const tree: FollowPaths = {};
  for (const followPath of paths.split(',')) {
    let level = tree;
    for (const name of followPath.split('.')) level = level[name] ??= {};
  }
  return tree;
}

/**
 * Checks that objects embedded by `?follow=` are, element for element (XML)
 * or member for member (JSON), the documents their own URLs answer: the
 * object without its followed links equals its own document without them; a
 * followed reference (or list of references) is replaced by the objects it
 * names, each again its own document; a followed collection holds the
 * objects its `<link rel>` lists.
 */
/** The member a followed link's objects appear as: its own name, or, for a single link kept in a list of references (a storage domain's data_center, in data_centers), the list's. */
function memberOf(members: Set<string>, name: string): string {
  return !members.has(name) && members.has(`${name}s`) ? `${name}s` : name;
}

class FollowChecker {
  private readonly own = new Map<string, any>();
  compared = 0;

  constructor(
    private readonly t: ExecutionContext,
    private readonly api: Api,
  ) {}

  private async document(href: string, media: 'xml' | 'json'): Promise<any> {
    const key = `${media} ${href}`;
    if (!this.own.has(key)) {
      const response = await this.api.get(href, { accept: media });
      if (response.status !== 200) throw new Error(`GET ${href} answered ${response.status}: ${response.text}`);
      this.own.set(key, media === 'xml' ? documentElement(response.text) : response.body);
    }
    return this.own.get(key);
  }

  async xml(node: XmlNode, tree: FollowPaths, where: string): Promise<void> {
    const { t } = this;
    const href = attributesOf(node)['@_href']!;
    const own = await this.document(href, 'xml');
    const ownTags = new Set(childrenOf(own).map(tagOf));
    const members = Object.entries(tree).map(([name, subtree]) => [memberOf(ownTags, name), subtree] as const);
    const followed = new Set(members.map(([name]) => name));
    t.is(tagOf(node), tagOf(own), `${where}: the element`);
    t.deepEqual(attributesOf(node), attributesOf(own), `${where}: the attributes`);
    t.deepEqual(
      childrenOf(node).filter((child) => !followed.has(tagOf(child))),
      childrenOf(own).filter((child) => !followed.has(tagOf(child))),
      `${where}: what is not followed is as at ${href}`,
    );
    this.compared++;
    for (const [name, subtree] of members) {
      const embedded = childrenOf(node).filter((child) => tagOf(child) === name);
      const reference = childrenOf(own).filter((child) => tagOf(child) === name);
      const rel = name.replaceAll('_', '');
      const link = childrenOf(own).find((child) => tagOf(child) === 'link' && attributesOf(child)['@_rel'] === rel);
      if (reference.length && childrenOf(reference[0]!).length === 0) {
        t.is(embedded.length, 1, `${where}: ${name} is embedded where ${href} refers to it`);
        t.deepEqual(attributesOf(embedded[0]!), attributesOf(reference[0]!), `${where}: ${name} is the object its reference names`);
        await this.xml(embedded[0]!, subtree, `${where}.${name}`);
      } else if (reference.length) {
        t.is(embedded.length, 1, `${where}: ${name} is embedded where ${href} refers to them`);
        const objects = childrenOf(embedded[0]!);
        t.deepEqual(objects.map(attributesOf), childrenOf(reference[0]!).map(attributesOf), `${where}: ${name} holds the objects its references name`);
        for (const object of objects) await this.xml(object, subtree, `${where}.${name}`);
      } else if (link) {
        t.is(embedded.length, 1, `${where}: the collection ${name} is embedded, empty or not`);
        const objects = childrenOf(embedded[0]!);
        const listing = await this.document(attributesOf(link)['@_href']!, 'xml');
        t.deepEqual(sorted(objects.map((object) => attributesOf(object)['@_id']!)), sorted(childrenOf(listing).map((object) => attributesOf(object)['@_id']!)), `${where}: ${name} holds what ${rel} lists`);
        for (const object of objects) await this.xml(object, subtree, `${where}.${name}`);
      } else {
        t.is(embedded.length, 0, `${where}: nothing is embedded as ${name} where ${href} has no ${name}`);
      }
    }
  }

  async json(object: any, tree: FollowPaths, where: string): Promise<void> {
    const { t } = this;
    const own = await this.document(object.href, 'json');
    const members = Object.entries(tree).map(([name, subtree]) => [memberOf(new Set(Object.keys(own)), name), subtree] as const);
    const followed = members.map(([name]) => name);
    const rest = (value: any) => Object.fromEntries(Object.entries(value).filter(([key]) => !followed.includes(key)));
    t.deepEqual(rest(object), rest(own), `${where}: what is not followed is as at ${object.href}`);
    this.compared++;
    for (const [name, subtree] of members) {
      const embedded = object[name];
      const reference = own[name];
      const rel = name.replaceAll('_', '');
      const link = (own.link ?? []).find((candidate: any) => candidate.rel === rel);
      if (reference?.href) {
        t.deepEqual([embedded?.href, embedded?.id], [reference.href, reference.id], `${where}: ${name} is the object its reference names`);
        await this.json(embedded, subtree, `${where}.${name}`);
      } else if (reference) {
        const [key] = Object.keys(reference);
        t.deepEqual(embedded?.[key!]?.map((item: any) => [item.href, item.id]), reference[key!].map((item: any) => [item.href, item.id]), `${where}: ${name} holds the objects its references name`);
        for (const item of embedded?.[key!] ?? []) await this.json(item, subtree, `${where}.${name}`);
      } else if (link) {
        t.truthy(embedded, `${where}: the collection ${name} is embedded, empty or not`);
        const items = (Object.values(embedded ?? {})[0] as any[] | undefined) ?? [];
        const listing = await this.document(link.href, 'json');
        t.deepEqual(sorted(items.map((item) => item.id)), sorted(((Object.values(listing)[0] as any[] | undefined) ?? []).map((item) => item.id)), `${where}: ${name} holds what ${rel} lists`);
        for (const item of items) await this.json(item, subtree, `${where}.${name}`);
      } else {
        t.is(embedded, undefined, `${where}: nothing is embedded as ${name} where ${object.href} has no ${name}`);
      }
    }
  }
}

/** Disks as the independent search filter sees them: their own fields, and the names of their storage domain and VM. */
function diskRecords(diskList: any[], shared: Shared, domainNames: Map<string, string>, vmNames: Map<string, string>): SearchRecord[] {
  return diskList.map((disk) => {
    const fleet = shared.disks.get(disk.id)!;
    return {
      id: disk.id,
      name: disk.name,
      alias: disk.alias,
      description: disk.description ?? '',
      status: disk.status,
      format: disk.format,
      sparse: disk.sparse === 'true',
      provisioned_size: Number(disk.provisioned_size),
      actual_size: Number(disk.actual_size),
      storage: domainNames.get(fleet.domainId) ?? null,
      'storage.name': domainNames.get(fleet.domainId) ?? null,
      vm: fleet.vmId ? [vmNames.get(fleet.vmId)!] : [],
      vm_names: fleet.vmId ? [vmNames.get(fleet.vmId)!] : [],
      'vms.name': fleet.vmId ? [vmNames.get(fleet.vmId)!] : [],
    };
  });
}

/** A URL of a route's pattern: each `:parameter` the id of one of the first 20 objects of the collection before it that has what the rest names; the other segments as they are. */
async function routeUrl(api: Api, pattern: string): Promise<string> {
  const fill = async (prefix: string, rest: string[]): Promise<string | undefined> => {
    const [segment, ...after] = rest;
    if (segment === undefined) return prefix;
    if (!segment.startsWith(':')) return fill(`${prefix}/${segment}`, after);
    for (const id of listIds(await api.get(prefix, { accept: 'json' })).slice(0, 20)) {
      const url = await fill(`${prefix}/${id}`, after);
      if (url) return url;
    }
    return undefined;
  };
  const url = await fill('', pattern.split('/').slice(1));
  if (!url) throw new Error(`no object to try ${pattern} on`);
  return url;
}

/** The controller's resident memory (Linux), in MiB: now, and at its peak since the peak was last reset. */
async function controllerMemory(system: ProcessSystem): Promise<{ residentMiB: number; peakMiB: number }> {
  const status = await readFile(`/proc/${system.controller!.pid}/status`, 'utf8');
  const mebibytes = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)![1]) / 1024;
  return { residentMiB: mebibytes('VmRSS'), peakMiB: mebibytes('VmHWM') };
}

/** Makes a request and measures it: how long it took, and how far the controller's resident memory rose above where it was (the peak is reset first). */
async function measured(system: ProcessSystem, request: () => Promise<ApiResponse>): Promise<{ response: ApiResponse; ms: number; peakMiB: number }> {
  await writeFile(`/proc/${system.controller!.pid}/clear_refs`, '5');
  const before = await controllerMemory(system);
  const started = performance.now();
  const response = await request();
  const ms = performance.now() - started;
  const after = await controllerMemory(system);
  return { response, ms, peakMiB: after.peakMiB - before.residentMiB };
}

/** Registers the search, reverse collection, follow and paging scenarios for one database. */
export function queriesSuite(test: Test, database: DatabaseKind): void {
  const shared = {} as Shared;
  const tag = `[${database}]`;

  test.before(async () => {
    const system = await ProcessSystem.start(database, { alpha: { memoryMiB: 8192 }, beta: { memoryMiB: 8192 } });
    shared.system = system;
    const { api } = system;
    const must = async (request: Promise<ApiResponse>, status = 201): Promise<any> => {
      const response = await request;
      if (response.status !== status) throw new Error(`${response.status}: ${response.text}`);
      return response.body;
    };
    const json = async (url: string) => (await api.get(url, { accept: 'json' })).body;
    const dc = (await json('/datacenters')).data_center[0];
    for (const name of ['Blue', 'green']) await must(api.post('/clusters', `<cluster><name>${name}</name><data_center id="${dc.id}"/></cluster>`));
    // A second data center, with a cluster (no hosts) and a management network of its own, also named ovirtmgmt.
    const remote = (await must(api.post('/datacenters', '<data_center><name>Remote</name></data_center>'))).data_center;
    await must(api.post('/clusters', `<cluster><name>far</name><data_center id="${remote.id}"/></cluster>`));
    await must(api.post('/networks', `<network><name>backend</name><data_center id="${dc.id}"/></network>`));
    const networks = (await json('/networks')).network as any[];
    const profileOf = async (network: string, dataCenterId: string): Promise<string> => {
      const id = networks.find((item) => item.name === network && item.data_center.id === dataCenterId).id;
      return (await json(`/networks/${id}/vnicprofiles`)).vnic_profile[0].id;
    };
    const profiles = { ovirtmgmt: await profileOf('ovirtmgmt', dc.id), backend: await profileOf('backend', dc.id), remote: await profileOf('ovirtmgmt', remote.id) };

    // Storage: two shared domains, one local to alpha, all active in Default; and a spare one never attached.
    shared.domains = new Map();
    for (const name of ['sd-fast', 'sd-slow', 'sd-spare']) {
      await mkdir(path.join(system.mountRoot, `_${name}`), { recursive: true });
      const created = await must(api.post('/storagedomains', `<storage_domain><name>${name}</name><storage><type>posixfs</type><path>/${name}</path></storage></storage_domain>`));
      shared.domains.set(name, created.storage_domain.id);
    }
    const localPath = path.join(system.directory, 'local-alpha');
    await mkdir(localPath, { recursive: true });
    const local = await must(api.post('/storagedomains', `<storage_domain><name>sd-local</name><host><name>alpha</name></host><storage><type>localfs</type><path>${localPath}</path></storage></storage_domain>`));
    shared.domains.set('sd-local', local.storage_domain.id);
    for (const name of ['sd-fast', 'sd-slow', 'sd-local']) await must(api.post(`/datacenters/${dc.id}/storagedomains`, `<storage_domain id="${shared.domains.get(name)}"/>`));
    const mib = 1024 * 1024;
    const attachNew = (vmId: string, name: string, domain: string, size: number, active = true) =>
      must(
        api.post(
          `/vms/${vmId}/diskattachments`,
          `<disk_attachment><interface>virtio</interface><active>${active}</active><disk><name>${name}</name><provisioned_size>${size}</provisioned_size><storage_domains><storage_domain id="${shared.domains.get(domain)}"/></storage_domains></disk></disk_attachment>`,
        ),
      );
    const addNic = (vmId: string, name: string, profile: string | null) =>
      must(api.post(`/vms/${vmId}/nics`, `<nic><name>${name}</name>${profile ? `<vnic_profile id="${profile}"/>` : ''}</nic>`));

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
      const cluster = clusters[index % 4]!;
      const body = `<vm><name>${name}</name><memory>${memory}</memory><description>${description}</description><cpu><topology><sockets>1</sockets><cores>${cores}</cores><threads>1</threads></topology></cpu><os><type>${os}</type></os><display><type>${display}</type></display><cluster><name>${cluster}</name></cluster></vm>`;
      const id = (await must(api.post('/vms', body))).vm.id;
      // Disks on the shared domains and on alpha's local one (some attached inactive), NICs on both networks or on none.
      if (index % 3 === 0) await attachNew(id, `${name}-fast`, 'sd-fast', (1 + (index % 4)) * 16 * mib);
      if (index % 4 === 1) await attachNew(id, `${name}-slow`, 'sd-slow', 32 * mib, index % 8 !== 5);
      if (index % 5 === 2 && cluster === 'Default') await attachNew(id, `${name}-local`, 'sd-local', 16 * mib);
      if (index % 2 === 0) await addNic(id, 'eth0', profiles.ovirtmgmt);
      if (index % 3 === 1) await addNic(id, 'eth1', profiles.backend);
      if (index % 7 === 3) await addNic(id, 'eth2', null);
      if (cluster === 'Default' && random() < 0.5) started.push(id);
    }
    for (let index = 0; index < 6; index++) {
      const id = (await must(api.post('/vms', `<vm><name>far-${index}</name><memory>${64 * mib}</memory><cluster><name>far</name></cluster></vm>`))).vm.id;
      if (index % 2 === 0) await addNic(id, 'eth0', profiles.remote);
    }
    for (const [name, domain, size] of [['float-1', 'sd-slow', 48 * mib], ['float-2', 'sd-fast', 16 * mib]] as const) {
      const created = await must(api.post('/disks', `<disk><alias>${name}</alias><provisioned_size>${size}</provisioned_size><storage_domains><storage_domain id="${shared.domains.get(domain)}"/></storage_domains></disk>`));
      await eventually(async () => (await json(`/disks/${created.disk.id}`)).status === 'ok', `disk ${name} to be ok`);
    }
    // Templates with disks on one and on two domains, and pools of Blank and of one of them.
    for (const [template, disks] of [['tpl-fast', ['sd-fast']], ['tpl-both', ['sd-fast', 'sd-slow']]] as const) {
      const source = (await must(api.post('/vms', `<vm><name>${template}-source</name><memory>${128 * mib}</memory><cluster><name>Default</name></cluster></vm>`))).vm.id;
      for (const domain of disks) await attachNew(source, `${template}-${domain}`, domain, 16 * mib);
      await addNic(source, 'eth0', profiles.backend);
      const created = (await must(api.post('/templates', `<template><name>${template}</name><vm id="${source}"/></template>`))).template;
      await eventually(async () => (await json(`/templates/${created.id}`)).status === 'ok', `template ${template} to be ok`);
    }
    shared.pools = new Map();
    for (const pool of [
      '<name>pool-a</name><size>2</size><max_user_vms>1</max_user_vms><type>manual</type><template><name>Blank</name></template><cluster><name>Default</name></cluster>',
      '<name>pool-b</name><description>thin desktops</description><size>1</size><max_user_vms>3</max_user_vms><type>automatic</type><template><name>tpl-fast</name></template><cluster><name>Blue</name></cluster>',
      '<name>pool-c</name><size>0</size><max_user_vms>2</max_user_vms><template><name>Blank</name></template><cluster><name>green</name></cluster>',
    ]) {
      const created = (await must(api.post('/vmpools', `<vm_pool>${pool}</vm_pool>`))).vm_pool;
      shared.pools.set(created.name, created.id);
    }
    await eventually(async () => ((await json('/disks')).disk as any[]).every((disk) => disk.status === 'ok'), 'the pool VMs disks to be made');
    for (const id of started) await must(api.action(id, 'start'), 200);
    await must(api.action(started[0]!, 'suspend'), 200);

    // What the fleet is, read back from each object's own URL (never through search or follow).
    const nameMap = (items: any[]) => new Map<string, string>(items.map((item) => [item.id, item.name]));
    const hosts = nameMap(await api.hosts());
    const clusterList = (await json('/clusters')).cluster as any[];
    const clusterNames = nameMap(clusterList);
    const clusterDataCenter = new Map(clusterList.map((cluster) => [cluster.id as string, cluster.data_center.id as string]));
    const dataCenterNames = nameMap((await json('/datacenters')).data_center);
    const domainNames = nameMap((await json('/storagedomains')).storage_domain);
    const networkNames = nameMap((await json('/networks')).network);
    const profileNetwork = new Map(((await json('/vnicprofiles')).vnic_profile as any[]).map((profile) => [profile.id as string, profile.network.id as string]));
    const templateList = (await json('/templates')).template as any[];
    const templateNames = nameMap(templateList);
    const poolNames = nameMap((await json('/vmpools')).vm_pool);
    const all = (await json('/vms')).vm as any[];
    shared.disks = new Map();
    shared.vmNetworks = new Map();
    const readDisk = async (diskId: string, owner: { vmId?: string; templateId?: string }) => {
      const disk = await json(`/disks/${diskId}`);
      shared.disks.set(diskId, { name: disk.name, size: Number(disk.provisioned_size), domainId: disk.storage_domains.storage_domain[0].id, vmId: owner.vmId ?? null, templateId: owner.templateId ?? null });
    };
    for (const vm of all) {
      for (const attachment of (await json(`/vms/${vm.id}/diskattachments`)).disk_attachment ?? []) await readDisk(attachment.disk.id, { vmId: vm.id });
      shared.vmNetworks.set(vm.id, unique(((await json(`/vms/${vm.id}/nics`)).nic ?? []).filter((nic: any) => nic.vnic_profile).map((nic: any) => profileNetwork.get(nic.vnic_profile.id)!)));
    }
    for (const template of templateList) {
      for (const attachment of (await json(`/templates/${template.id}/diskattachments`)).disk_attachment ?? []) await readDisk(attachment.disk.id, { templateId: template.id });
    }
    for (const disk of (await json('/disks')).disk as any[]) if (!shared.disks.has(disk.id)) await readDisk(disk.id, {});
    const domainsOfVm = (vmId: string) => unique([...shared.disks.values()].filter((disk) => disk.vmId === vmId).map((disk) => domainNames.get(disk.domainId)!));
    shared.records = all.map((vm) => withSpellings({
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
      template: templateNames.get(vm.template.id) ?? null,
      pool: vm.vm_pool ? (poolNames.get(vm.vm_pool.id) ?? null) : null,
      datacenter: dataCenterNames.get(clusterDataCenter.get(vm.cluster.id)!) ?? null,
      storage: domainsOfVm(vm.id),
      network: unique(shared.vmNetworks.get(vm.id)!.map((id) => networkNames.get(id)!)),
    }, vmSpellings));
  });
  test.after.always(async () => {
    await shared.system?.close();
  });

  test.serial(`${tag} searches give what an independent filter over the same VMs gives, for many generated queries`, async (t) => {
    const { api } = shared.system;
    const { records } = shared;
    t.true(records.some((record) => (record.storage as string[]).length > 1) && records.some((record) => (record.network as string[]).length > 1), 'some VMs have disks on two domains and NICs on two networks');
    t.true(records.some((record) => (record.storage as string[]).length === 0) && records.some((record) => (record.network as string[]).length === 0), 'and some have none');
    const checked = await compareGeneratedSearches(
      t,
      api,
      'vms',
      records,
      {
        text: ['name', 'description', 'status', 'os.type', 'display.type', 'cluster', 'host', 'template', 'pool', 'storage', 'network', 'datacenter', 'clusters.name', 'hosts.name', 'template.name', 'storage.name', 'networks.name', 'datacenter.name'],
        number: ['memory', 'cpu.topology.cores', 'num_vcpus_allocated'],
        sort: ['name', 'memory', 'description', 'os.type'],
      },
      types,
      database === 'sqlite' ? 11 : 13,
      200,
    );
    t.true(checked > 130, `${checked} queries compared`);
  });

  test.serial(`${tag} related fields (storage, network, datacenter, the disks' vm) match by the related objects' names, = and != alike`, async (t) => {
    const { api } = shared.system;
    const check = async (collection: string, records: SearchRecord[], search: string, fieldTypes: Record<string, FieldType> = {}): Promise<string[]> => {
      const response = await api.get(`/${collection}?search=${encodeURIComponent(search)}`, { accept: 'json' });
      t.is(response.status, 200, `${collection}?search=${search}: ${response.text}`);
      const query = parseSearch(search);
      const expected = records.filter((record) => holds(query.where!, record, { caseSensitive: false, types: fieldTypes })).map((record) => record.id as string);
      t.deepEqual(sorted(listIds(response)), sorted(expected), `${collection}?search=${search}`);
      t.is(Number(response.headers.get('x-total-count')), expected.length, `${collection}?search=${search}: the total`);
      return expected;
    };
    /** Checks a search whose answer must be some of the objects, not none and not all, so that it tells something. */
    const telling = async (collection: string, records: SearchRecord[], search: string, fieldTypes?: Record<string, FieldType>) => {
      const found = await check(collection, records, search, fieldTypes);
      t.true(found.length > 0 && found.length < records.length, `${collection}?search=${search} finds ${found.length} of ${records.length}`);
      return found;
    };
    const vms = shared.records;
    for (const domain of ['sd-fast', 'sd-slow', 'sd-local']) {
      const on = await telling('vms', vms, `storage=${domain}`);
      const off = await telling('vms', vms, `storage!=${domain.toUpperCase()}`);
      t.deepEqual(sorted([...on, ...off]), sorted(vms.map((record) => record.id as string)), `storage=${domain} and storage!=${domain} split the VMs`);
    }
    await telling('vms', vms, 'storage=sd-fast and storage=sd-slow');
    const withDisks = await telling('vms', vms, 'storage=sd-*');
    const withoutDisks = await telling('vms', vms, 'storage!=sd-*');
    t.is(withDisks.length + withoutDisks.length, vms.length);
    await telling('vms', vms, 'storage=*local');
    await telling('vms', vms, 'storage>sd-l and storage<sd-t');
    await telling('vms', vms, 'network=ovirtmgmt');
    await telling('vms', vms, 'network=BACKEND');
    await telling('vms', vms, 'network!=ovirtmgmt');
    await telling('vms', vms, 'network=*');
    await telling('vms', vms, 'network!=*');
    await telling('vms', vms, 'network=ovirtmgmt and network=backend');
    const remote = await telling('vms', vms, 'datacenter=Remote');
    t.deepEqual(sorted(remote), sorted(vms.filter((record) => String(record.name).startsWith('far-')).map((record) => record.id as string)));
    t.deepEqual(sorted(await check('vms', vms, 'datacenter!=default')), sorted(remote));
    await telling('vms', vms, 'datacenter=Rem* and network=ovirtmgmt');
    await telling('vms', vms, '(storage=sd-fast or network=backend) and datacenter!=Remote sortby name');
    await telling('vms', vms, 'template=tpl-fast');
    await telling('vms', vms, 'pool=pool-a');
    await telling('vms', vms, 'pool!=pool-*');

    const domainNames = new Map([...shared.domains].map(([name, id]) => [id, name]));
    const diskList = ((await api.get('/disks', { accept: 'json' })).body.disk ?? []) as any[];
    const vmNames = new Map(vms.map((record) => [record.id as string, record.name as string]));
    t.deepEqual(
      sorted(diskList.map((disk) => disk.id)),
      sorted([...shared.disks].filter(([, disk]) => !disk.templateId).map(([id]) => id)),
      "/disks lists the floating and attached disks, not templates' disks",
    );
    const disks = diskRecords(diskList, shared, domainNames, vmNames);
    const diskTypes: Record<string, FieldType> = { sparse: 'boolean', provisioned_size: 'number', actual_size: 'number' };
    for (const domain of ['sd-fast', 'sd-slow', 'sd-local']) {
      await telling('disks', disks, `storage=${domain}`, diskTypes);
      await telling('disks', disks, `storage!=${domain}`, diskTypes);
    }
    const someVm = vms.find((record) => (record.storage as string[]).length > 1)!.name as string;
    t.is((await telling('disks', disks, `vm=${someVm}`, diskTypes)).length, 2, `the two disks of ${someVm}`);
    await telling('disks', disks, `vm!=${someVm}`, diskTypes);
    const attached = await telling('disks', disks, 'vm=*', diskTypes);
    const floating = await telling('disks', disks, 'vm!=*', diskTypes);
    t.deepEqual(sorted(floating.map((id) => disks.find((disk) => disk.id === id)!.name as string)), ['float-1', 'float-2']);
    t.is(attached.length + floating.length, disks.length);
    await telling('disks', disks, 'vm=web* and storage=sd-fast', diskTypes);
    t.is((await telling('disks', disks, 'storage=sd-slow and vm!=*', diskTypes)).length, 1);
    await telling('disks', disks, `provisioned_size>=${32 * 1024 * 1024} or vm=${someVm}`, diskTypes);

    const listOf = async (url: string, element: string) => ((await api.get(url, { accept: 'json' })).body[element] ?? []) as any[];
    const dataCenterList = await listOf('/datacenters', 'data_center');
    const clusterList = await listOf('/clusters', 'cluster');
    const dataCenterOfCluster = new Map(clusterList.map((cluster) => [cluster.id as string, dataCenterList.find((dc) => dc.id === cluster.data_center.id).name as string]));
    const templates: SearchRecord[] = (await listOf('/templates', 'template')).map((template) => ({
      id: template.id,
      name: template.name,
      storage: unique([...shared.disks.values()].filter((disk) => disk.templateId === template.id).map((disk) => domainNames.get(disk.domainId)!)),
      // A template of no cluster (Blank) is a template of every data center.
      datacenter: template.cluster ? [dataCenterOfCluster.get(template.cluster.id)!] : unique(dataCenterList.map((dc) => dc.name)),
      'vm.name': unique(vms.filter((record) => record.template === template.name).map((record) => record.name as string)),
    }));
    t.deepEqual(templates.map((template) => [template.name, template.storage]), [['Blank', []], ['tpl-both', ['sd-fast', 'sd-slow']], ['tpl-fast', ['sd-fast']]]);
    t.is((await telling('templates', templates, 'storage=sd-fast')).length, 2);
    t.is((await telling('templates', templates, 'storage=SD-SLOW')).length, 1);
    t.is((await telling('templates', templates, 'storage!=sd-slow')).length, 2);
    t.is((await telling('templates', templates, 'storage!=*')).length, 1);
    await telling('templates', templates, 'storage=sd-f* and storage!=sd-slow');
    t.is((await check('templates', templates, 'datacenter=Default')).length, 3, 'every template is in Default');
    t.deepEqual(await telling('templates', templates, 'datacenter=Remote'), [templates.find((template) => template.name === 'Blank')!.id], 'Blank is in every data center');
    await telling('templates', templates, 'datacenter!=remote');
    const poolVm = vms.find((record) => record.template === 'tpl-fast')!;
    t.is((await telling('templates', templates, `vm.name=${poolVm.name}`)).length, 1, `the template ${poolVm.name} was made from`);
    await telling('templates', templates, 'VM.NAME=web*');
    await telling('templates', templates, `vm.name!=${poolVm.name}`);

    const storageDomainList = await listOf('/storagedomains', 'storage_domain');
    const networkList = await listOf('/networks', 'network');
    const dataCenters: SearchRecord[] = dataCenterList.map((dc) => ({
      id: dc.id,
      name: dc.name,
      'clusters.name': unique(clusterList.filter((cluster) => cluster.data_center.id === dc.id).map((cluster) => cluster.name)),
      'storage.name': unique(storageDomainList.filter((domain) => domain.data_centers?.data_center[0].id === dc.id).map((domain) => domain.name)),
      network: unique(networkList.filter((network) => network.data_center.id === dc.id).map((network) => network.name)),
    }));
    t.deepEqual(dataCenters.map((dc) => [dc.name, dc['clusters.name'], dc['storage.name']]), [
      ['Default', ['Blue', 'Default', 'green'], ['sd-fast', 'sd-local', 'sd-slow']],
      ['Remote', ['far'], []],
    ]);
    await telling('datacenters', dataCenters, 'Clusters.name="far"');
    await telling('datacenters', dataCenters, 'clusters.name!=far');
    await telling('datacenters', dataCenters, 'Clusters.name=Blue or clusters.name=green');
    await telling('datacenters', dataCenters, 'storage.name=sd-*');
    await telling('datacenters', dataCenters, 'storage.name!=*');
    await telling('datacenters', dataCenters, 'network=backend');
    t.is((await check('datacenters', dataCenters, 'network=ovirtmgmt')).length, 2);
  });

  test.serial(`${tag} storage domains, disks and VM pools are searchable too, checked against the independent filter`, async (t) => {
    const { api } = shared.system;
    const json = async (url: string) => (await api.get(url, { accept: 'json' })).body;
    const hostNames = new Map((await api.hosts()).map((host: any) => [host.id as string, host.name as string]));
    const dataCenterNames = new Map(((await json('/datacenters')).data_center as any[]).map((dc) => [dc.id as string, dc.name as string]));
    const domains: SearchRecord[] = ((await json('/storagedomains')).storage_domain as any[]).map((domain) => ({
      id: domain.id,
      name: domain.name,
      description: domain.description ?? '',
      status: domain.status,
      'storage.type': domain.storage.type,
      'storage.path': domain.storage.path,
      'storage.address': domain.storage.address ?? '',
      datacenter: domain.data_centers ? dataCenterNames.get(domain.data_centers.data_center[0].id)! : null,
      host: domain.host ? hostNames.get(domain.host.id)! : null,
    }));
    t.deepEqual(domains.map((domain) => [domain.name, domain.status, domain.datacenter, domain.host]), [
      ['sd-fast', 'active', 'Default', null],
      ['sd-local', 'active', 'Default', 'alpha'],
      ['sd-slow', 'active', 'Default', null],
      ['sd-spare', 'unattached', null, null],
    ]);
    const domainFields = { text: ['name', 'description', 'status', 'storage.type', 'storage.path', 'storage.address', 'datacenter', 'host'], number: [], sort: ['name', 'status', 'storage.type'] };
    const storagedomainsChecked = await compareGeneratedSearches(t, api, 'storagedomains', domains, domainFields, {}, database === 'sqlite' ? 21 : 23, 60);
    t.true(storagedomainsChecked > 30, `${storagedomainsChecked} searches on storagedomains compared`);
    for (const [search, expected] of [
      ['datacenter!=Default', ['sd-spare']],
      ['host=alpha', ['sd-local']],
      ['host!=alpha and storage.type=posixfs', ['sd-fast', 'sd-slow', 'sd-spare']],
      ['status=unattached or storage.type=localfs', ['sd-local', 'sd-spare']],
      ['available>0 and datacenter=default', ['sd-fast', 'sd-local', 'sd-slow']],
    ] as const) {
      const found = await api.get(`/storagedomains?search=${encodeURIComponent(search)}`, { accept: 'json' });
      t.deepEqual(((found.body.storage_domain ?? []) as any[]).map((domain) => domain.name), expected, search);
    }

    const domainNames = new Map([...shared.domains].map(([name, id]) => [id, name]));
    const vmNames = new Map(shared.records.map((record) => [record.id as string, record.name as string]));
    const disks = diskRecords((await json('/disks')).disk as any[], shared, domainNames, vmNames);
    const diskFields = { text: ['name', 'alias', 'status', 'format', 'storage', 'vm', 'storage.name', 'vm_names', 'vms.name'], number: ['provisioned_size'], boolean: ['sparse'], sort: ['name', 'provisioned_size', 'alias'] };
    const diskTypes: Record<string, FieldType> = { sparse: 'boolean', provisioned_size: 'number', actual_size: 'number' };
    const disksChecked = await compareGeneratedSearches(t, api, 'disks', disks, diskFields, diskTypes, database === 'sqlite' ? 31 : 33, 80);
    t.true(disksChecked > 50, `${disksChecked} searches on disks compared`);

    const templateNames = new Map(((await json('/templates')).template as any[]).map((template) => [template.id as string, template.name as string]));
    const clusterNames = new Map(((await json('/clusters')).cluster as any[]).map((cluster) => [cluster.id as string, cluster.name as string]));
    const pools: SearchRecord[] = ((await json('/vmpools')).vm_pool as any[]).map((pool) => ({
      id: pool.id,
      name: pool.name,
      description: pool.description ?? '',
      size: Number(pool.size),
      prestarted_vms: Number(pool.prestarted_vms),
      max_user_vms: Number(pool.max_user_vms),
      type: pool.type,
      cluster: clusterNames.get(pool.cluster.id)!,
      template: templateNames.get(pool.template.id)!,
    }));
    t.deepEqual(pools.map((pool) => [pool.name, pool.size, pool.max_user_vms, pool.type, pool.template]), [
      ['pool-a', 2, 1, 'manual', 'Blank'],
      ['pool-b', 1, 3, 'automatic', 'tpl-fast'],
      ['pool-c', 0, 2, 'automatic', 'Blank'],
    ]);
    const poolFields = { text: ['name', 'description', 'type', 'cluster', 'template'], number: ['size', 'prestarted_vms', 'max_user_vms'], sort: ['name', 'size', 'max_user_vms', 'type'] };
    const poolTypes: Record<string, FieldType> = { size: 'number', prestarted_vms: 'number', max_user_vms: 'number' };
    const vmpoolsChecked = await compareGeneratedSearches(t, api, 'vmpools', pools, poolFields, poolTypes, database === 'sqlite' ? 41 : 43, 60);
    t.true(vmpoolsChecked > 40, `${vmpoolsChecked} searches on vmpools compared`);
    for (const [search, expected] of [
      ['type=manual', ['pool-a']],
      ['template=blank and max_user_vms>1', ['pool-c']],
      ['cluster!=Default sortby size desc', ['pool-b', 'pool-c']],
    ] as const) {
      const found = await api.get(`/vmpools?search=${encodeURIComponent(search)}`, { accept: 'json' });
      t.deepEqual(((found.body.vm_pool ?? []) as any[]).map((pool) => pool.name), expected, search);
    }
    assertFault(t, await api.get(`/disks?search=${encodeURIComponent('colour=red')}`), 400, /unknown field/);
    assertFault(t, await api.get(`/vmpools?search=${encodeURIComponent('size=many')}`), 400, /number/);
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
      ['networks', 'name', 'backend'],
      ['storagedomains', 'name', 'sd-local'],
      ['disks', 'name', 'float-1'],
      ['vmpools', 'name', 'pool-b'],
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
    assertFault(t, await api.get(`/vms?search=${encodeURIComponent('cluster.colour=x')}`), 400, /unknown field/);
    t.is((await api.get('/vms', { accept: 'json' })).body.vm.length, before, 'nothing changed');
  });

  test.serial(`${tag} prototype names (constructor, __proto__, toString) in parameters, searches and follow paths are 400s on every collection and object`, async (t) => {
    const { system } = shared;
    const { api } = system;
    const firstId = async (segment: string): Promise<string> => {
      const response = await api.get(`/${segment}?max=1`, { accept: 'json' });
      const [id] = listIds(response);
      if (!id) throw new Error(`/${segment} lists no object to test with: ${response.status} ${response.text.slice(0, 200)}`);
      return id;
    };
    const collections: { url: string; resource: ResourceName }[] = [...topLevel].map(([segment, resource]) => ({ url: `/${segment}`, resource }));
    for (const collection of subCollections) collections.push({ url: `/${collection.owner}/${await firstId(collection.owner)}/${collection.rel}`, resource: collection.target });
    t.is(collections.length, topLevel.size + subCollections.length);
    const followCases = (resource: ResourceName): [string, RegExp][] => {
      const links = resources[resource].links;
      const someLink = [...links.keys()][0];
      return [
        ['follow=constructor', /has no link "constructor"/],
        ['follow=__proto__', /has no link "__proto__"/],
        ['follow=toString', /has no link "toString"/],
        ['follow=cluster.constructor', links.has('cluster') ? /cluster has no link "constructor"/ : /has no link "cluster"/],
        ...(someLink ? [[`follow=${someLink}.constructor`, new RegExp(`${resources[links.get(someLink)!.target].element} has no link "constructor"`)] as [string, RegExp]] : []),
      ];
    };
    let refused = 0;
    for (const { url, resource } of collections) {
      const cases: [string, RegExp][] = [
        ['constructor=x', /query parameter constructor is neither a known option nor a field/],
        ['__proto__=x', /query parameter __proto__ is neither a known option nor a field/],
        ['toString=x', /query parameter toString is neither a known option nor a field/],
        [`search=${encodeURIComponent('constructor=x')}`, /unknown field "constructor"/],
        [`search=${encodeURIComponent('sortby constructor')}`, /unknown field "constructor"/],
        ...followCases(resource),
      ];
      for (const [query, detail] of cases) {
        const response = await api.get(`${url}?${query}`);
        t.is(response.status, 400, `${url}?${query}: ${response.text.slice(0, 300)}`);
        if (response.status === 400) assertFault(t, response, 400, detail);
        refused++;
      }
    }
    for (const [segment, resource] of topLevel) {
      const url = `/${segment}/${await firstId(segment)}`;
      for (const [query, detail] of followCases(resource)) {
        for (const media of ['xml', 'json'] as const) {
          const response = await api.get(`${url}?${query}`, { accept: media });
          t.is(response.status, 400, `${url}?${query}: ${response.text.slice(0, 300)}`);
          if (response.status === 400) assertFault(t, response, 400, detail, media);
          refused++;
        }
      }
    }
    t.true(refused > 400, `${refused} requests refused`);
    t.false(system.controllerOutput.join('').includes('"request failed"'), 'no request ended in an internal error');
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
    t.is(Number(blank.headers.get('x-total-count')), records.filter((record) => record.template === 'Blank').length);
    const followed = await api.get(`/hosts/${hosts[0].id}/vms?follow=cluster`, { accept: 'json' });
    t.true((followed.body.vm ?? []).every((vm: any) => vm.cluster.name === 'Default'), 'follow works on reverse collections');
    assertFault(t, await api.get('/hosts/00000000-0000-4000-8000-000000000000/vms'), 404);

    /** Checks that an object (JSON and XML) links to each of its reverse collections at its own URL. */
    const linksTo = async (collection: string, element: string, id: string, rels: string[]) => {
      const href = `/ovirt-engine/api/${collection}/${id}`;
      const own = await api.get(href, { accept: 'json' });
      const xml = await api.get(href, { accept: 'xml' });
      for (const rel of rels) {
        t.true(own.body.link.some((link: any) => link.rel === rel && link.href === `${href}/${rel}`), `${href} links to its ${rel} (JSON)`);
        t.true(xml.body[element].link.some((link: any) => link.rel === rel && link.href === `${href}/${rel}`), `${href} links to its ${rel} (XML)`);
      }
    };
    const vmIdsWith = (predicate: (record: SearchRecord) => boolean) => sorted(records.filter(predicate).map((record) => record.id as string));

    for (const [diskId, disk] of shared.disks) {
      if (disk.templateId) continue;
      t.deepEqual(ids(await api.get(`/disks/${diskId}/vms`, { accept: 'json' })), disk.vmId ? [disk.vmId] : [], `the VM of disk ${disk.name}`);
    }
    const attachedDisk = [...shared.disks].find(([, disk]) => disk.vmId)![0];
    await linksTo('disks', 'disk', attachedDisk, ['vms', 'tasks']);
    const diskVms = await api.get(`/disks/${attachedDisk}/vms?follow=disk_attachments`, { accept: 'json' });
    t.true(diskVms.body.vm[0].disk_attachments.disk_attachment.some((attachment: any) => attachment.id === attachedDisk), 'the VM of a disk, followed to its attachments, has that disk');

    for (const [name, domainId] of shared.domains) {
      const expectedVms = vmIdsWith((record) => (record.storage as string[]).includes(name));
      const expectedDisks = sorted([...shared.disks].filter(([, disk]) => disk.domainId === domainId).map(([id]) => id));
      t.deepEqual(sorted(ids(await api.get(`/storagedomains/${domainId}/vms`, { accept: 'json' }))), expectedVms, `the VMs with a disk on ${name}`);
      t.deepEqual(sorted(listIds(await api.get(`/storagedomains/${domainId}/disks`, { accept: 'json' }))), expectedDisks, `the disks on ${name}`);
      t.is(expectedVms.length > 0, name !== 'sd-spare');
      await linksTo('storagedomains', 'storage_domain', domainId, ['disks', 'tasks', 'templates', 'vms']);
    }
    const fast = shared.domains.get('sd-fast')!;
    const fastWeb = records.filter((record) => (record.storage as string[]).includes('sd-fast') && String(record.name).startsWith('web')).map((record) => record.name as string).sort();
    const searched = await api.get(`/storagedomains/${fast}/vms?search=${encodeURIComponent('name=web*')}&max=2&follow=disk_attachments.disk`, { accept: 'json' });
    t.true(fastWeb.length > 2);
    t.deepEqual(searched.body.vm.map((vm: any) => vm.name), fastWeb.slice(0, 2), 'search and max apply below a storage domain');
    t.is(Number(searched.headers.get('x-total-count')), fastWeb.length);
    t.true(
      searched.body.vm.every((vm: any) => vm.disk_attachments.disk_attachment.some((attachment: any) => attachment.disk.storage_domains.storage_domain[0].id === fast)),
      'each, followed to its disks, has one on the domain',
    );
    const bigDisks = await api.get(`/storagedomains/${fast}/disks?search=${encodeURIComponent('provisioned_size>20000000')}`, { accept: 'json' });
    t.deepEqual(sorted(listIds(bigDisks)), sorted([...shared.disks].filter(([, disk]) => disk.domainId === fast && disk.size > 20_000_000).map(([id]) => id)));

    for (const [name, poolId] of shared.pools) {
      const members = await api.get(`/vmpools/${poolId}/vms`, { accept: 'json' });
      const expected = vmIdsWith((record) => record.pool === name);
      t.deepEqual(sorted(ids(members)), expected, `the VMs of pool ${name}`);
      t.is(expected.length, Number((await api.get(`/vmpools/${poolId}`, { accept: 'json' })).body.size));
      t.deepEqual((members.body.vm as any[]).map((vm) => vm.name), expected.map((_, index) => `${name}-${index + 1}`), 'named after the pool, in order');
      await linksTo('vmpools', 'vm_pool', poolId, ['tasks', 'vms']);
    }

    const networks = (await api.get('/networks', { accept: 'json' })).body.network as any[];
    t.deepEqual(networks.map((network) => network.name).sort(), ['backend', 'ovirtmgmt', 'ovirtmgmt']);
    for (const network of networks) {
      const expected = sorted([...shared.vmNetworks].filter(([, list]) => list.includes(network.id)).map(([id]) => id));
      t.true(expected.length > 0, `some VMs have a NIC on ${network.name}`);
      t.deepEqual(sorted(ids(await api.get(`/networks/${network.id}/vms`, { accept: 'json' }))), expected, `the VMs on network ${network.name} of data center ${network.data_center.id}`);
      await linksTo('networks', 'network', network.id, ['vms', 'vnicprofiles']);
    }
    const backend = networks.find((network) => network.name === 'backend');
    const onBackend = await api.get(`/networks/${backend.id}/vms?search=${encodeURIComponent('network=ovirtmgmt')}&follow=nics`, { accept: 'json' });
    t.deepEqual(sorted(ids(onBackend)), vmIdsWith((record) => (record.network as string[]).includes('backend') && (record.network as string[]).includes('ovirtmgmt')));
    t.true(onBackend.body.vm.every((vm: any) => vm.nics.nic.length >= 2));
  });

  test.serial(`${tag} follow embeds linked objects exactly as they look at their own URLs, in XML and JSON, at any depth`, async (t) => {
    const { api } = shared.system;
    const vmPaths = 'cluster,host,template,vm_pool,nics.vnic_profile.network,disk_attachments.disk,tasks';
    for (const media of ['json', 'xml'] as const) {
      const checker = new FollowChecker(t, api);
      const response = await api.get(`/vms?follow=${vmPaths}`, { accept: media });
      t.is(response.status, 200, response.text.slice(0, 300));
      const tree = followTree(vmPaths);
      if (media === 'json') {
        for (const vm of response.body.vm) await checker.json(vm, tree, `vm ${vm.name}`);
      } else {
        const root = documentElement(response.text);
        t.is(tagOf(root), 'vms');
        t.is(childrenOf(root).length, shared.records.length);
        for (const vm of childrenOf(root)) await checker.xml(vm, tree, `vm ${attributesOf(vm)['@_id']}`);
        const first = childrenOf(root)[0]!;
        const cluster = childrenOf(first).find((child) => tagOf(child) === 'cluster')!;
        const clusterName = childrenOf(cluster).find((child) => tagOf(child) === 'name');
        t.is(clusterName?.name?.[0]?.['#text'], shared.records.find((record) => record.id === attributesOf(first)['@_id'])!.cluster, 'the embedded cluster is a whole element');
      }
      t.true(checker.compared > shared.records.length * 3, `${media}: ${checker.compared} embedded objects compared`);

      const withDisks = shared.records.find((record) => record.host !== null && (record.storage as string[]).length > 0 && (record.network as string[]).length > 0)!;
      const fromTemplate = shared.records.find((record) => record.template === 'tpl-fast')!;
      for (const vmId of [withDisks.id as string, fromTemplate.id as string]) {
        const single = await api.get(`/vms/${vmId}?follow=${vmPaths}`, { accept: media });
        t.is(single.status, 200, single.text.slice(0, 300));
        if (media === 'json') await checker.json(single.body, tree, `vm ${vmId}`);
        else await checker.xml(documentElement(single.text), tree, `vm ${vmId}`);
      }
      const single = await api.get(`/vms/${withDisks.id}?follow=${vmPaths}`, { accept: 'json' });
      t.truthy(single.body.host?.name, 'a followed host is embedded');
      t.true(single.body.disk_attachments.disk_attachment.every((attachment: any) => attachment.disk.name), 'and followed disks');
      t.is((await api.get(`/vms/${fromTemplate.id}?follow=template`, { accept: 'json' })).body.template.name, 'tpl-fast', 'and a followed template');

      const diskPaths = 'vms.cluster,storage_domains.data_center,tasks';
      const disks = await api.get(`/disks?follow=${diskPaths}`, { accept: media });
      t.is(disks.status, 200, disks.text.slice(0, 300));
      if (media === 'json') for (const disk of disks.body.disk) await checker.json(disk, followTree(diskPaths), `disk ${disk.name}`);
      else for (const disk of childrenOf(documentElement(disks.text))) await checker.xml(disk, followTree(diskPaths), `disk ${attributesOf(disk)['@_id']}`);

      const domainPaths = 'disks,vms.nics,host.cluster,data_center.storage_domains';
      for (const domainId of shared.domains.values()) {
        const domain = await api.get(`/storagedomains/${domainId}?follow=${domainPaths}`, { accept: media });
        t.is(domain.status, 200, domain.text.slice(0, 300));
        if (media === 'json') await checker.json(domain.body, followTree(domainPaths), `storage domain ${domainId}`);
        else await checker.xml(documentElement(domain.text), followTree(domainPaths), `storage domain ${domainId}`);
      }
      const poolPaths = 'vms.template,template,cluster.data_center';
      const pools = await api.get(`/vmpools?follow=${poolPaths}`, { accept: media });
      if (media === 'json') for (const pool of pools.body.vm_pool) await checker.json(pool, followTree(poolPaths), `pool ${pool.name}`);
      else for (const pool of childrenOf(documentElement(pools.text))) await checker.xml(pool, followTree(poolPaths), `pool ${attributesOf(pool)['@_id']}`);
    }

    const vm = shared.records.find((record) => (record.network as string[]).length > 0)!;
    assertFault(t, await api.get('/vms?follow=nics.vnic_profile.colour'), 400, /vnic_profile has no link "colour"; it has network/);
    assertFault(t, await api.get(`/vms/${vm.id}?follow=disks`), 400, /it has cluster, disk_attachments, host, nics, tasks, template, vm_pool/);
    const cyclic = 'disk_attachments.disk.vms.disk_attachments.disk.vms.disk_attachments.disk.vms';
    assertFault(t, await api.get(`/vms?follow=${cyclic}`), 400, /deeper than 8/);
    const deep = await api.get(`/vms?follow=${cyclic.split('.').slice(0, 8).join('.')}`, { accept: 'json' });
    t.is(deep.status, 200, 'a deep cyclic path within the limit is answered');
    const sd = await api.post('/storagedomains', `<storage_domain><name>follow-sd</name><storage><type>posixfs</type><path>/follow</path></storage></storage_domain>`);
    t.is(sd.status, 201, sd.text);
    t.deepEqual((await api.get(`/storagedomains/${sd.body.storage_domain.id}?follow=disks,vms`, { accept: 'json' })).body.disks, { disk: [] }, 'an empty followed collection is an empty element');
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

  test.serial(`${tag} every PUT and DELETE route of an object honours If-Match: a stale tag is refused with 412 before anything is read or changed`, async (t) => {
    const { api } = shared.system;
    const routes = apiRoutes({} as Services).declared().filter((route) => route.method === 'put' || route.method === 'delete');
    t.true(routes.length >= 27, `${routes.length} routes`);
    // A group with the admin in it and a permission on an object of each kind, so that every route has an object to try.
    const group = (await api.post('/groups', { name: 'if-match' }, { accept: 'json' })).body.id;
    const admin = ((await api.get('/users', { accept: 'json' })).body.user as any[])[0].id;
    t.is((await api.post(`/users/${admin}/groups`, { id: group }, { accept: 'json' })).status, 201);
    for (const collection of ['vms', 'clusters', 'datacenters', 'storagedomains', 'disks', 'templates', 'vmpools', 'hosts', 'networks']) {
      const [first] = listIds(await api.get(`/${collection}`, { accept: 'json' }));
      const given = await api.post(`/${collection}/${first}/permissions`, { role: { name: 'UserRole' }, group: { id: group } }, { accept: 'json' });
      t.is(given.status, 201, given.text);
    }
    // A tag on an object of each kind that takes tags, so that every route of assigned tags has one to try.
    const ifMatchTag = (await api.post('/tags', { name: 'if-match' }, { accept: 'json' })).body.id;
    for (const collection of ['vms', 'hosts', 'templates']) {
      const [first] = listIds(await api.get(`/${collection}`, { accept: 'json' }));
      t.is((await api.post(`/${collection}/${first}/tags`, { id: ifMatchTag }, { accept: 'json' })).status, 201);
    }
    const staleTag = '"c3RhbGUtdGFnLW9mLW5vLWRvY3VtZW50"';
    const notADocument = '<not_a_document/>';
    for (const route of routes) {
      const url = await routeUrl(api, route.path);
      const where = `${route.method.toUpperCase()} ${route.path} (${url})`;
      t.is((await api.get(url)).status, 200, where);
      const refused = route.method === 'put' ? await api.put(url, notADocument, { headers: { 'If-Match': staleTag } }) : await api.delete(url, { headers: { 'If-Match': staleTag } });
      assertFault(t, refused, 412, /changed since the entity tag/);
      t.is((await api.get(url)).status, 200, `${where}: the refused change left the object`);
      if (route.method === 'put') {
        for (const media of ['xml', 'json'] as const) {
          // A domain's space reports can change its document between the two requests; the next read has the new tag.
          let answered: ApiResponse | undefined;
          for (let attempt = 0; attempt < 3 && (answered === undefined || answered.status === 412); attempt++) {
            const current = (await api.get(url, { accept: media })).headers.get('etag')!;
            answered = await api.put(url, notADocument, { headers: { 'If-Match': current } });
          }
          assertFault(t, answered!, 400, /document element must be/);
        }
      }
    }
  });

  test.serial(`${tag} every write route refuses, with a 403 fault, a user who sees everything and holds no permit`, async (t) => {
    const { api } = shared.system;
    const created = await api.post('/users', { user_name: 'reader@internal', password: 'reader-secret' }, { accept: 'json' });
    t.is(created.status, 201, created.text);
    const given = await api.post('/permissions', { role: { name: 'ReadOnlyAdmin' }, user: { id: created.body.id } }, { accept: 'json' });
    t.is(given.status, 201, given.text);
    const reader = api.as(basicAuthorization('reader@internal', 'reader-secret'));
    // A membership and permissions on an object of each kind, so that every route has an object to try.
    const group = (await api.post('/groups', { name: 'write-routes' }, { accept: 'json' })).body.id;
    const admin = ((await api.get('/users?search=name%3Dadmin', { accept: 'json' })).body.user as any[]).find((user) => user.user_name === 'admin@internal').id;
    t.is((await api.post(`/users/${admin}/groups`, { id: group }, { accept: 'json' })).status, 201);
    for (const collection of ['vms', 'clusters', 'datacenters', 'storagedomains', 'disks', 'templates', 'vmpools', 'hosts', 'networks']) {
      const [first] = listIds(await api.get(`/${collection}`, { accept: 'json' }));
      t.is((await api.post(`/${collection}/${first}/permissions`, { role: { name: 'UserRole' }, group: { id: group } }, { accept: 'json' })).status, 201);
    }
    const writeRoutesTag = (await api.post('/tags', { name: 'write-routes' }, { accept: 'json' })).body.id;
    for (const collection of ['vms', 'hosts', 'templates']) {
      const [first] = listIds(await api.get(`/${collection}`, { accept: 'json' }));
      t.is((await api.post(`/${collection}/${first}/tags`, { id: writeRoutesTag }, { accept: 'json' })).status, 201);
    }
    const writes = apiRoutes({} as Services)
      .declared()
      .filter((route) => route.method !== 'get' && requirementOf(route.method, route.path).kind !== 'anyone');
    t.true(writes.length > 60, `${writes.length} write routes`);
    for (const route of writes) {
      const url = route.path.startsWith('/users/:id') ? route.path.replace(':id', admin).replace(':group', group) : await routeUrl(api, route.path);
      const body = route.path === '/vms/:id/tasks' ? '<task><action>start</action></task>' : '<action/>';
      const answered = await reader.request(route.method.toUpperCase(), url, route.method === 'delete' ? {} : { body });
      assertFault(t, answered, 403, /lacks the|administrators/);
    }
    t.is((await reader.get('/vms', { accept: 'json' })).headers.get('x-total-count'), (await api.get('/vms', { accept: 'json' })).headers.get('x-total-count'), 'ReadOnlyAdmin reads everything');
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
    const committed = (await api.get('/storagedomains?all_content=true', { accept: 'json' })).body.storage_domain as any[];
    t.true(committed.every((item: any) => item.committed !== undefined));
    for (const domain of committed) {
      const expected = [...shared.disks.values()].filter((disk) => disk.domainId === domain.id).reduce((sum, disk) => sum + disk.size, 0);
      t.is(domain.committed, String(expected), `${domain.name} commits the provisioned sizes of its disks, templates' included`);
    }
    const fast = shared.domains.get('sd-fast')!;
    const fastCommitted = [...shared.disks.values()].filter((disk) => disk.domainId === fast).reduce((sum, disk) => sum + disk.size, 0);
    t.true(fastCommitted > 10 * 16 * 1024 * 1024, 'sd-fast holds many disks');
    t.is(committed.find((domain) => domain.id === fast).committed, String(fastCommitted));
    const xml = await api.get(`/storagedomains/${fast}?all_content=true`, { accept: 'xml' });
    t.is(xml.body.storage_domain.committed, String(fastCommitted), 'the same in XML');
    t.is(xml.body.storage_domain.id, fast);
    t.is((await api.get(`/storagedomains/${fast}`, { accept: 'xml' })).body.storage_domain.committed, undefined, 'and left out without all_content');
    const followed = await api.get(`/datacenters?follow=storage_domains&all_content=true`, { accept: 'json' });
    const embedded = followed.body.data_center.find((dc: any) => dc.name === 'Default').storage_domains.storage_domain.find((domain: any) => domain.id === fast);
    t.is(embedded.committed, String(fastCommitted), 'an embedded domain has it too');
  });

  test.serial(`${tag} the statements a request issues do not grow with the number of VMs`, async (t) => {
    const { system } = shared;
    const requests = [
      '/vms?follow=disk_attachments.disk,nics',
      // Embedded objects count as rendered; with 1,058 VMs, eleven per VM would pass the test controller's limit of 10,000.
      '/vms?follow=disk_attachments.disk.storage_domains,cluster',
      '/vms?follow=nics.vnic_profile',
      `/vms?search=${encodeURIComponent('cluster=fleet* or memory>100 sortby memory desc')}&follow=nics`,
      '/disks?follow=vms',
      '/storagedomains?follow=disks&all_content=true',
      '/clusters?follow=vms.disk_attachments',
    ];
    // And a user whose reads are filtered: UserRole on the Default data center.
    const user = await system.api.post('/users', { user_name: 'counted@internal', password: 'counted-secret' }, { accept: 'json' });
    t.is(user.status, 201, user.text);
    const dataCenter = ((await system.api.get('/datacenters?search=name%3DDefault', { accept: 'json' })).body.data_center as any[])[0].id;
    t.is((await system.api.post(`/datacenters/${dataCenter}/permissions`, { role: { name: 'UserRole' }, user: { id: user.body.id } }, { accept: 'json' })).status, 201);
    const filtered = system.api.as(basicAuthorization('counted@internal', 'counted-secret'));
    const measure = async () => {
      const counts: number[] = [];
      for (const client of [system.api, filtered]) {
        for (const request of requests) {
          const response = await client.get(request, { accept: 'json' });
          t.is(response.status, 200, `${request}: ${response.text.slice(0, 300)}`);
          counts.push(statements(response));
        }
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

  test.serial(`${tag} follow is bounded by the documents it would embed, counted as rendered: N×N follows are quick 400s, large legitimate ones are answered`, async (t) => {
    const { system } = shared;
    await system.killController('SIGTERM');
    const fleet = await writeFleet(system.databaseLocation, 1500, { prefix: 'wide', clusters: 1 });
    await system.startController();
    const { api } = system;
    const [clusterId] = fleet.clusterIds;
    const wide = `search=${encodeURIComponent('name=wide-*')}`;
    t.is(Number((await api.get(`/vms?${wide}&max=0`)).headers.get('x-total-count')), 1500);

    const refusals = [
      `/vms?${wide}&follow=cluster.vms`,
      '/vms?follow=cluster.vms',
      '/clusters?follow=vms.cluster.vms',
      `/clusters/${clusterId}?follow=vms.cluster.vms`,
      `/clusters/${clusterId}/vms?follow=cluster.vms`,
      `/vms/${fleet.vmIds[0]}?follow=cluster.vms.cluster.vms`,
    ];
    for (const url of refusals) {
      for (const media of ['json', 'xml'] as const) {
        const { response, ms, peakMiB } = await measured(system, () => api.get(url, { accept: media }));
        assertFault(t, response, 400, /follow would embed more than 10000 objects.*DROVER_MAX_EMBEDDED_OBJECTS.*counted as rendered.*\(max, or a narrower search\) or follow fewer links/, media);
        t.log(`${url} (${media}): 400 in ${ms.toFixed(0)} ms, the controller's peak memory ${peakMiB.toFixed(0)} MiB above what it held before`);
        t.true(ms < 5000, `${url}: ${ms} ms`);
        t.true(peakMiB < 512, `${url}: ${peakMiB} MiB`);
        t.is(system.controller!.exitCode, null, 'the controller lives on');
        t.is((await api.get(`/vms/${fleet.vmIds[1]}`)).status, 200, 'and answers the next request');
      }
    }

    const legitimate: [string, (body: any) => void][] = [
      [
        `/vms?${wide}&follow=cluster`,
        (body) => {
          t.is(body.vm.length, 1500);
          t.true(body.vm.every((vm: any) => vm.cluster.id === clusterId && vm.cluster.name.startsWith('wide-cluster-')), 'every VM embeds its cluster');
        },
      ],
      [
        `/vms?${wide}&follow=disk_attachments`,
        (body) => {
          t.is(body.vm.length, 1500);
          t.true(body.vm.every((vm: any) => vm.disk_attachments.disk_attachment.length === 2), 'every VM embeds its two disk attachments');
        },
      ],
      [
        `/vms?${wide}&follow=disk_attachments.disk,cluster`,
        (body) => {
          t.is(body.vm.length, 1500);
          t.true(body.vm.every((vm: any) => vm.cluster.name && vm.disk_attachments.disk_attachment.every((attachment: any) => attachment.disk.provisioned_size === String(2 ** 30))), '7,500 embedded objects');
        },
      ],
      [
        `/clusters/${clusterId}?follow=vms.cluster`,
        (body) => {
          t.is(body.vms.vm.length, 1500);
          t.true(body.vms.vm.every((vm: any) => vm.cluster.id === clusterId), 'the cluster embeds its VMs, each embedding the cluster once');
        },
      ],
    ];
    for (const [url, check] of legitimate) {
      const { response, ms, peakMiB } = await measured(system, () => api.get(url, { accept: 'json' }));
      t.is(response.status, 200, `${url}: ${response.text.slice(0, 300)}`);
      t.log(`${url}: 200 in ${ms.toFixed(0)} ms, ${(response.text.length / 2 ** 20).toFixed(1)} MiB of JSON, the controller's peak memory ${peakMiB.toFixed(0)} MiB above what it held before`);
      check(response.body);
    }
    t.false(system.controllerOutput.join('').includes('"request failed"'), 'no request ended in an internal error');
  });
}
