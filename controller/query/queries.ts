import type { EntityManager } from '@mikro-orm/core';
import type { Orm } from '../db/orm.js';
import { dialectOf, type Dialect } from '../db/dialect.js';
import {
  Cluster,
  DataCenter,
  Disk,
  DiskAttachment,
  MacPool,
  Network,
  Nic,
  StorageDomain,
  Task,
  Template,
  VmPool,
  VnicProfile,
} from '../db/entities.js';
import { invalid } from '../services/errors.js';
import type { Records } from '../services/records.js';
import { reader, selectRows } from '../services/store.js';
import type { TaskScheduler } from '../scheduler/task-scheduler.js';
import type { VmService } from '../services/vms.js';
import { resources, type Resource, type ResourceName } from './catalog.js';
import { compileFilters, compileSearch, type Sql } from './compile.js';
import { parseSearch, SearchError } from './search.js';

/** The most objects one request may embed with `?follow=`, unless the controller is configured otherwise. */
export const defaultMaxEmbeddedObjects = 100_000;
/** The deepest `?follow=` path, in links. */
export const maxFollowDepth = 8;

/** What a collection request asks for. */
export interface ListRequest {
  search?: string;
  /** Attribute filters: field name to exact value. */
  filters: Record<string, string>;
  /** At most this many results; undefined for all. */
  max?: number;
  caseSensitive: boolean;
  /** A condition every result meets, for reverse collections (`/hosts/{id}/vms`): SQL over `t`. */
  scope?: Sql;
}

export interface ListPage {
  ids: string[];
  /** How many objects match, over all pages. */
  total: number;
  page: number;
  max?: number;
}

/** A view of one object: what its presenter takes. */
export type View = object;

/** A followed link's objects: for each owner, the ids of its linked objects, and the linked objects themselves. */
export interface FollowedLink {
  name: string;
  resource: ResourceName;
  byOwner: Map<string, string[]>;
  loaded: Loaded;
}

/** Objects of one resource with the links followed from them. */
export interface Loaded {
  resource: ResourceName;
  views: Map<string, View>;
  links: FollowedLink[];
}

/** A parsed `?follow=`: each link name to what to follow from its objects. */
export type FollowTree = Map<string, FollowTree>;

/**
 * Loads views of objects: by id, in one statement per resource (none for VMs
 * and hosts, which the controller keeps in memory), or, for resources kept in
 * tables, from rows already read (by a followed link's query).
 */
export interface ViewLoader {
  byIds(ids: string[], em: EntityManager): Promise<Map<string, View>>;
  fromRows?(rows: Record<string, unknown>[], em: EntityManager): Promise<Map<string, View>>;
}

export type ViewLoaders = Record<ResourceName, ViewLoader>;

/** The alias of a link query whose table holds the linked objects' own rows (`select a.vm_id as owner_id, a.id from disk_attachments a`), if it is one. */
function rowsAlias(pairs: string): string | undefined {
  return /^select (\w+)\.\w+ as owner_id, \1\.id from \w+ \1$/.exec(pairs)?.[1];
}

/**
 * Runs collection queries: search, attribute filters, order, pages, and
 * link following. Every request issues a number of statements that depends
 * only on what it asks (two for a page of a collection, a couple per
 * followed link), never on how many objects it finds.
 */
export class QueryService {
  readonly dialect: Dialect;
  private readonly loaders: ViewLoaders;

  constructor(
    private readonly orm: Orm,
    private readonly records: Records,
    scheduler: TaskScheduler,
    vms: VmService,
    private readonly maxEmbeddedObjects = defaultMaxEmbeddedObjects,
  ) {
    this.dialect = dialectOf(orm);
    this.loaders = viewLoaders(orm, this.dialect, records, scheduler, vms);
  }

  /** The ids of one page of a collection, in order, and how many match in all. */
  async list(resource: Resource, request: ListRequest): Promise<ListPage> {
    let query;
    try {
      query = parseSearch(request.search ?? '');
    } catch (error) {
      if (error instanceof SearchError) throw invalid(`search: ${error.message}`);
      throw error;
    }
    const options = { caseSensitive: request.caseSensitive, dialect: this.dialect };
    const { where, orderBy } = compileSearch(resource, query, options);
    const filters = compileFilters(resource, request.filters, options);
    const conditions = [request.scope, where, filters].filter((part): part is Sql => part !== undefined);
    const whereSql = conditions.length ? ` where ${conditions.map((part) => part.text).join(' and ')}` : '';
    const params = conditions.flatMap((part) => part.params);
    const page = query.page ?? 1;
    if (page > 1 && request.max === undefined) throw invalid('search: "page" needs the max query parameter, the size of a page');
    const order = [...orderBy, ...resource.defaultSort.map((item) => item.replace('{C}', this.dialect.codePointOrder)), 't.id'].join(', ');
    const limit = request.max === undefined ? '' : ` limit ${request.max} offset ${(page - 1) * request.max}`;
    if (resource.name === 'vm') await this.records.settled();
    const em = reader(this.orm);
    const [rows, [counted]] = await Promise.all([
      selectRows<{ id: string }>(em, `select t.id from ${resource.table} t${whereSql} order by ${order}${limit}`, params),
      selectRows<{ total: number | string }>(em, `select count(*) as total from ${resource.table} t${whereSql}`, params),
    ]);
    return { ids: rows.map((row) => row.id), total: Number(counted?.total ?? 0), page, max: request.max };
  }

  /** Loads the objects with the ids (in that order, skipping vanished ones), and follows the tree's links from them. */
  async load(resource: ResourceName, ids: string[], follow: FollowTree = new Map()): Promise<Loaded> {
    const em = reader(this.orm);
    const budget = { left: this.maxEmbeddedObjects, limit: this.maxEmbeddedObjects };
    return this.loadLevel(em, resource, ids, follow, budget);
  }

  private async loadLevel(em: EntityManager, name: ResourceName, ids: string[], follow: FollowTree, budget: { left: number; limit: number }): Promise<Loaded> {
    return this.expand(em, name, await this.loaders[name].byIds(ids, em), follow, budget);
  }

  /** Follows the tree's links from loaded objects, one query per link (its objects' rows, or their ids for objects kept in memory); sibling links load concurrently. */
  private async expand(em: EntityManager, name: ResourceName, views: Map<string, View>, follow: FollowTree, budget: { left: number; limit: number }): Promise<Loaded> {
    const follows = [...follow].map(async ([linkName, subtree]): Promise<FollowedLink> => {
      const link = resources[name].links[linkName]!;
      const byOwner = new Map<string, string[]>();
      const add = (owner: string, id: string) => byOwner.set(owner, [...(byOwner.get(owner) ?? []), id]);
      const target = this.loaders[link.target];
      const spend = (count: number) => {
        budget.left -= count;
        if (budget.left < 0) throw invalid(`follow would embed more than ${budget.limit} objects; ask for fewer objects (max) or follow fewer links`);
      };
      let linked: Loaded;
      if (link.kind === 'one') {
        for (const [id, view] of views) {
          const key = entityOf(view)[link.key];
          if (typeof key === 'string') add(id, key);
        }
        const targets = [...new Set([...byOwner.values()].flat())];
        spend(targets.length);
        linked = await this.loadLevel(em, link.target, targets, subtree, budget);
      } else {
        const alias = rowsAlias(link.pairs);
        const where = ` where ${this.dialect.inList(link.ownerColumn)} order by ${link.order} limit ${budget.left + 1}`;
        const owners = [this.dialect.listParam([...views.keys()])];
        if (alias && target.fromRows) {
          const rows = await selectRows<Record<string, unknown>>(em, `${link.pairs.replace(`${alias}.id from`, `${alias}.* from`)}${where}`, owners);
          spend(rows.length);
          for (const row of rows) add(String(row.owner_id), String(row.id));
          linked = await this.expand(em, link.target, await target.fromRows(rows, em), subtree, budget);
        } else {
          const rows = await selectRows<{ owner_id: string; id: string }>(em, `${link.pairs}${where}`, owners);
          // The query stops one row past what is left, so a full answer means the limit would be passed.
          if (rows.length > budget.left) spend(rows.length);
          for (const row of rows) add(row.owner_id, row.id);
          const targets = [...new Set(rows.map((row) => row.id))];
          spend(targets.length);
          linked = await this.loadLevel(em, link.target, targets, subtree, budget);
        }
      }
      return { name: linkName, resource: link.target, byOwner, loaded: linked };
    });
    return { resource: name, views, links: await Promise.all(follows) };
  }
}

/** Parses `?follow=a.b,c` against a resource's links; an unknown link is a 400 naming the valid ones at its level. */
export function parseFollow(resource: ResourceName, text: string | undefined): FollowTree {
  const tree: FollowTree = new Map();
  if (!text) return tree;
  const paths = text.split(',').map((path) => path.trim());
  if (paths.length > 32) throw invalid('follow may name at most 32 paths');
  for (const path of paths) {
    const names = path.split('.');
    if (names.length > maxFollowDepth) throw invalid(`follow path ${path} is deeper than ${maxFollowDepth} links`);
    let level = tree;
    let owner = resource;
    for (const name of names) {
      const link = resources[owner].links[name];
      if (!link) {
        const valid = Object.keys(resources[owner].links).sort();
        throw invalid(`follow: ${resources[owner].element} has no link "${name}"${valid.length ? `; it has ${valid.join(', ')}` : ' to follow'}`);
      }
      let next = level.get(name);
      if (!next) level.set(name, (next = new Map()));
      level = next;
      owner = link.target;
    }
  }
  return tree;
}

/**
 * Turns rows of an entity's table into plain objects with the entity's
 * property names and types, without the ORM's bookkeeping (which costs more
 * than the query for tens of thousands of rows).
 */
function rowMapper(orm: Orm, entity: new () => object): (row: Record<string, unknown>) => View {
  const properties = Object.values(orm.getMetadata().get(entity.name).properties).map((property) => ({
    name: property.name,
    column: property.fieldNames[0]!,
    type: property.runtimeType,
  }));
  return (row) => {
    const view: Record<string, unknown> = {};
    for (const { name, column, type } of properties) {
      const value = row[column];
      view[name] = value === null || value === undefined ? null : type === 'number' ? Number(value) : type === 'boolean' ? Boolean(value) : value;
    }
    return view;
  };
}

function rowsLoader(orm: Orm, dialect: Dialect, table: string, entity: new () => object, finish: (views: Map<string, View>, em: EntityManager) => Promise<Map<string, View>> | Map<string, View> = (views) => views): ViewLoader {
  const map = rowMapper(orm, entity);
  const fromRows = async (rows: Record<string, unknown>[], em: EntityManager) => {
    const views = new Map<string, View>();
    for (const row of rows) views.set(String(row.id), map(row));
    return finish(views, em);
  };
  return {
    fromRows,
    async byIds(ids, em) {
      const rows = await selectRows<Record<string, unknown>>(em, `select * from ${table} where ${dialect.inList('id')}`, [dialect.listParam(ids)]);
      return inOrder(ids, await fromRows(rows, em));
    },
  };
}

function inOrder(ids: string[], byId: Map<string, View>): Map<string, View> {
  const ordered = new Map<string, View>();
  for (const id of ids) {
    const view = byId.get(id);
    if (view) ordered.set(id, view);
  }
  return ordered;
}

function viewLoaders(orm: Orm, dialect: Dialect, records: Records, scheduler: TaskScheduler, vms: VmService): ViewLoaders {
  const rows = (table: string, entity: new () => object, finish?: (views: Map<string, View>, em: EntityManager) => Promise<Map<string, View>> | Map<string, View>) =>
    rowsLoader(orm, dialect, table, entity, finish);
  return {
    vm: { byIds: async (ids) => inOrder(ids, new Map(vms.views(ids).map((view) => [view.vm.id, view]))) },
    host: { byIds: async (ids) => inOrder(ids, new Map(ids.flatMap((id) => (records.hosts.has(id) ? [[id, records.hosts.get(id)!] as const] : [])))) },
    cluster: rows('clusters', Cluster),
    data_center: rows('data_centers', DataCenter),
    storage_domain: rows('storage_domains', StorageDomain, async (domains, em) => {
      const committed = await selectRows<{ storage_domain_id: string; committed: number | string }>(
        em,
        `select storage_domain_id, sum(provisioned_size) as committed from disks where ${dialect.inList('storage_domain_id')} group by storage_domain_id`,
        [dialect.listParam([...domains.keys()])],
      );
      const byDomain = new Map(committed.map((row) => [row.storage_domain_id, Number(row.committed)]));
      return new Map([...domains].map(([id, domain]) => [id, { domain, committedBytes: byDomain.get(id) ?? 0, status: statusOf(domain as StorageDomain, scheduler) }]));
    }),
    disk: rows('disks', Disk, (disks) => new Map([...disks].map(([id, disk]) => [id, { disk, vmIds: [] }]))),
    disk_attachment: rows('disk_attachments', DiskAttachment),
    nic: rows('nics', Nic),
    network: rows('networks', Network),
    vnic_profile: rows('vnic_profiles', VnicProfile),
    mac_pool: rows('mac_pools', MacPool),
    template: rows('templates', Template),
    vm_pool: rows('vm_pools', VmPool),
    task: rows('tasks', Task, (tasks) => new Map([...tasks].map(([id, task]) => [id, scheduler.openTask(id) ?? task]))),
  };
}

/** The row-like object inside a view: a VM's, a storage domain's or a disk's view wraps its entity. */
export function entityOf(view: View): Record<string, unknown> {
  const wrapped = view as { vm?: object; domain?: object; disk?: object };
  return (wrapped.vm ?? wrapped.domain ?? wrapped.disk ?? view) as Record<string, unknown>;
}

function statusOf(domain: StorageDomain, scheduler: TaskScheduler): string {
  const running = scheduler.runningAction(domain.id);
  if (running === 'activate') return 'activating';
  if (running === 'deactivate') return 'preparing_for_maintenance';
  return domain.status;
}
