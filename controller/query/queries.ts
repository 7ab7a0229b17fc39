import type { EntityManager } from '@mikro-orm/core';
import type { Orm } from '../db/orm.js';
import { dialectOf, type Dialect } from '../db/dialect.js';
import {
  AuditEvent,
  Cluster,
  DataCenter,
  Disk,
  DiskAttachment,
  MacPool,
  Network,
  Nic,
  StorageDomain,
  Job,
  Task,
  Template,
  VmPool,
  VnicProfile,
} from '../db/entities.js';
import { invalid } from '../rules/errors.js';
import type { Records } from '../state/records.js';
import { reader, selectRows } from '../db/store.js';
import type { TaskQueue } from '../tasks/task-scheduler.js';
import type { VmService } from '../services/vms.js';
import { linkNames, resources, type Resource, type ResourceName } from './catalog.js';
import { compileFilters, compileSearch, type Sql } from './compile.js';
import { parseSearch, SearchError } from './search.js';
import { compareCodePoints } from './search-reference.js';
import { guards, type AuthorizationService } from '../services/authorization.js';
import { jobViews } from '../services/jobs.js';

/** Every resource the API lists has guards: the objects whose permissions decide who sees it. */
export const guardedResources: Record<ResourceName, unknown> = guards;

/** The most objects one request may embed with `?follow=`, unless the controller is configured otherwise. */
export const defaultMaxEmbeddedObjects = 100_000;
/** The deepest `?follow=` path, in links. */
export const maxFollowDepth = 8;

/** What a collection request asks for. */
export interface ListRequest {
  search?: string;
  /** Attribute filters: field name to exact value. */
  filters: ReadonlyMap<string, string>;
  /** At most this many results; undefined for all. */
  max?: number;
  caseSensitive: boolean;
  /** A condition every result meets, for reverse collections (`/hosts/{id}/vms`): SQL over `t`. */
  scope?: Sql;
  /** The user whose reads are filtered to what they may see (see services/authorization.ts), if they are. */
  visibleTo?: string;
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
  /** Whether the link names one object (by a key in the owner's row) rather than a collection. */
  single: boolean;
  byOwner: Map<string, string[]>;
  loaded: Loaded;
}

/**
 * Objects of one resource with the links followed from them: `ids` in order,
 * each with a view in `views`, or, when the caller already had a document
 * for the object at its version (see KnownDocuments), that document in
 * `known` instead. `versions` has, for objects of versioned resources whose
 * embedded objects are versioned too, the version of the object with what it
 * embeds (see compositeVersions): it changes whenever its document would.
 */
export interface Loaded {
  resource: ResourceName;
  ids: string[];
  views: Map<string, View>;
  known: Map<string, unknown>;
  versions: Map<string, string>;
  links: FollowedLink[];
}

/**
 * What the caller already has documents for: given an object of a versioned
 * resource, its id and its version with what it embeds (see Loaded), the
 * caller's document for it, or undefined. Such objects are not read beyond
 * their version and the keys of the links followed from them.
 */
export type KnownDocuments = (resource: ResourceName, id: string, version: string) => unknown;

/** A parsed `?follow=`: each link name to what to follow from its objects. */
export type FollowTree = Map<string, FollowTree>;

/** Objects read by id or by a followed link: their ids in order (as read), their views and versions. */
export interface Views {
  ids: string[];
  views: Map<string, View>;
  versions: Map<string, number>;
}

/** A row of a table by column name, with the id of the object that links to it (`owner_id`) when a followed link read it. */
export type Row = Record<string, unknown>;

/**
 * Runs `select value <rest>` and returns the JSON values it selects, parsed,
 * in the order `order` gives (SQL over the query's tables, `expression
 * [asc|desc], ...`), at most `limit` of them (which ones, when there are
 * more, is unspecified): one statement whose answer is one text, however
 * many rows.
 */
export async function selectJson<T>(em: EntityManager, dialect: Dialect, value: string, rest: string, params: unknown[], order?: string, limit?: number): Promise<T[]> {
  const keys = orderKeys(order).map((key, index) => ({ select: `, ${key.expression} as o${index}`, order: `s.o${index} ${key.direction}` }));
  const inner = `select ${value} as j${keys.map((key) => key.select).join('')} ${rest}${limit === undefined ? '' : ` limit ${limit}`}`;
  const aggregate = dialect.jsonArrayText('s.j', keys.length ? keys.map((key) => key.order).join(', ') : undefined);
  const [result] = await selectRows<{ rows: string }>(em, `select ${aggregate} as rows from (${inner}) s`, params);
  return JSON.parse(result!.rows) as T[];
}

/** The items of an order (`expression [asc|desc], ...`). */
function orderKeys(order: string | undefined): { expression: string; direction: 'asc' | 'desc' }[] {
  return (order ?? '')
    .split(',')
    .filter((item) => item.trim() !== '')
    .map((item) => {
      const [, expression, direction] = /^\s*(.+?)(?:\s+(asc|desc))?\s*$/i.exec(item)!;
      return { expression: expression!, direction: (direction?.toLowerCase() ?? 'asc') as 'asc' | 'desc' };
    });
}

/** Compares SQL values as an order does: nulls first, numbers by value, text by code point. */
function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return compareCodePoints(String(a), String(b));
}

/**
 * Loads views of objects: by id, in one statement per resource (none for VMs
 * and hosts, which the controller keeps in memory), or, for resources kept in
 * tables, from rows already read by a followed link's query, which selects
 * them with `rowJson`. `versioned` resources present each object from its
 * row alone, whose `version` column names its state.
 */
export interface ViewLoader {
  byIds(ids: string[], em: EntityManager): Promise<Views>;
  table?: string;
  versioned?: boolean;
  /** The column of an entity property. */
  columnOf?(property: string): string;
  /** The SQL expression of a row of the table, aliased, as a JSON object, with `owner` as its owner_id when given. */
  rowJson?(alias: string, owner?: string): string;
  fromRows?(rows: Row[], em: EntityManager): Promise<Views>;
}

export type ViewLoaders = Record<ResourceName, ViewLoader>;

/** The parts of a link query whose table holds the linked objects' own rows (`select a.vm_id as owner_id, a.id from disk_attachments a`), if it is one. */
function rowsQuery(pairs: string): { alias: string; owner: string; from: string } | undefined {
  const match = /^select ((\w+)\.\w+) as owner_id, \2\.id (from \w+ \2)$/.exec(pairs);
  return match ? { owner: match[1]!, alias: match[2]!, from: match[3]! } : undefined;
}

/** The listed part of an object from which no single link is followed. */
const noKeys: View = Object.freeze({});

/** The refusal of a request whose followed links would embed more than `limit` objects. */
function tooManyEmbedded(limit: number) {
  return invalid(
    `follow would embed more than ${limit} objects, the limit of embedded objects (the controller's DROVER_MAX_EMBEDDED_OBJECTS); ` +
      'embedded objects are counted as rendered: an object embedded under 1,500 owners counts 1,500 times, and what it embeds counts again each time; ' +
      'ask for fewer objects (max, or a narrower search) or follow fewer links',
  );
}

/** What loading may still read: the distinct objects of followed links, whatever they embed; and, for a filtered read, whose. */
interface Budget {
  left: number;
  limit: number;
  visibleTo?: string;
}

function spend(budget: Budget, count: number): void {
  budget.left -= count;
  if (budget.left < 0) throw tooManyEmbedded(budget.limit);
}

/** Whether an object of a level was loaded (as a view or as a document the caller has), and so is presented; a vanished one is not. */
export function isLoaded(loaded: Loaded, id: string): boolean {
  return loaded.views.has(id) || loaded.known.has(id);
}

/**
 * How many embedded documents the documents of `ids` (objects of `loaded`)
 * hold with the links followed from them, counted as rendered: each object
 * once for every place it is embedded, together with what it embeds there.
 * Counting stops as soon as it passes `limit` and then answers a number
 * above `limit`, so that it costs at most one step per owner and linked
 * object of the tree, however many documents the links would make.
 */
export function embeddedDocuments(loaded: Loaded, ids: readonly string[], limit: number): number {
  const counted = new Map<Loaded, Map<string, number>>();
  const below = (level: Loaded, id: string): number => {
    if (level.links.length === 0) return 0;
    let byId = counted.get(level);
    if (!byId) counted.set(level, (byId = new Map()));
    const known = byId.get(id);
    if (known !== undefined) return known;
    let count = 0;
    for (const link of level.links) {
      for (const target of link.byOwner.get(id) ?? []) {
        if (!isLoaded(link.loaded, target)) continue;
        count += 1 + below(link.loaded, target);
        if (count > limit) break;
      }
      if (count > limit) break;
    }
    const capped = Math.min(count, limit + 1);
    byId.set(id, capped);
    return capped;
  };
  let total = 0;
  for (const id of ids) {
    total += below(loaded, id);
    if (total > limit) return limit + 1;
  }
  return total;
}

/**
 * Runs collection queries: search, attribute filters, order, pages, and
 * link following. Every request issues a number of statements that depends
 * only on what it asks (two for a page of a collection, one or two per
 * followed link), never on how many objects it finds.
 */
export class QueryService {
  readonly dialect: Dialect;
  private readonly loaders: ViewLoaders;

  constructor(
    private readonly orm: Orm,
    private readonly records: Records,
    scheduler: TaskQueue,
    vms: VmService,
    private readonly authorization: AuthorizationService,
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
    const visible = request.visibleTo === undefined ? undefined : await this.authorization.condition(request.visibleTo, resource.name);
    const conditions = [request.scope, visible, where, filters].filter((part): part is Sql => part !== undefined);
    const whereSql = conditions.length ? ` where ${conditions.map((part) => part.text).join(' and ')}` : '';
    const params = conditions.flatMap((part) => part.params);
    const page = query.page ?? 1;
    if (page > 1 && request.max === undefined) throw invalid('search: "page" needs the max query parameter, the size of a page');
    const order = [...orderBy, ...resource.defaultSort.map((item) => item.replace('{C}', this.dialect.codePointOrder)), 't.id'].join(', ');
    const limit = request.max === undefined ? '' : ` limit ${request.max} offset ${(page - 1) * request.max}`;
    await this.records.settled();
    const em = reader(this.orm);
    const [rows, [counted]] = await Promise.all([
      selectRows<{ id: string }>(em, `select t.id from ${resource.table} t${whereSql} order by ${order}${limit}`, params),
      selectRows<{ total: number | string }>(em, `select count(*) as total from ${resource.table} t${whereSql}`, params),
    ]);
    return { ids: rows.map((row) => String(row.id)), total: Number(counted?.total ?? 0), page, max: request.max };
  }

  /**
   * Loads the objects with the ids (in that order, skipping vanished ones),
   * and follows the tree's links from them; objects the caller already has
   * documents for (`known`) are not read beyond their version. Refuses (400)
   * a tree whose documents would embed more than the limit of embedded
   * objects, counted as rendered (see embeddedDocuments), before anything is
   * rendered; loading stops earlier when the distinct objects it reads pass
   * the same limit. With `visibleTo`, followed links embed only the objects
   * that user may see.
   */
  async load(resource: ResourceName, ids: string[], follow: FollowTree = new Map(), known?: KnownDocuments, visibleTo?: string): Promise<Loaded> {
    if (follow.size > 0) await this.records.settled();
    const em = reader(this.orm);
    const limit = this.maxEmbeddedObjects;
    const loaded = await this.loadLevel(em, resource, ids, follow, { left: limit, limit, visibleTo }, known);
    if (follow.size > 0 && embeddedDocuments(loaded, loaded.ids, limit) > limit) throw tooManyEmbedded(limit);
    return loaded;
  }

  private async loadLevel(em: EntityManager, name: ResourceName, ids: string[], follow: FollowTree, budget: Budget, known?: KnownDocuments): Promise<Loaded> {
    const loader = this.loaders[name];
    if (known && loader.versioned) {
      const rows = await selectJson<unknown[]>(em, this.dialect, this.listing(name, follow, 't'), `from ${loader.table} t where ${this.dialect.inList('t.id', ids.length)}`, [this.dialect.listParam(ids)]);
      const byId = new Map(rows.map((row) => [row[0] as string, row]));
      return this.readUnknown(em, name, ids.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : [])), follow, budget, known);
    }
    return this.expand(em, name, await loader.byIds(ids, em), follow, budget, known);
  }

  /**
   * What a listing of a versioned resource selects for each object, as a JSON
   * array: its id, its version, the keys of the single links followed from
   * it, then its owner's id when `owner` is given, then the `order`
   * expressions' values.
   */
  private listing(name: ResourceName, follow: FollowTree, alias: string, owner?: string, order: string[] = []): string {
    const keys = this.followedKeys(name, follow).map((key) => `${alias}.${this.loaders[name].columnOf!(key)}`);
    return this.dialect.jsonArray([`${alias}.id`, `${alias}.version`, ...keys, ...(owner ? [owner] : []), ...order]);
  }

  private followedKeys(name: ResourceName, follow: FollowTree): string[] {
    return [...follow.keys()].flatMap((linkName) => {
      const link = resources[name].links.get(linkName)!;
      return link.kind === 'one' ? [link.key] : [];
    });
  }

  /**
   * Follows the links from listed objects (their ids, versions and followed
   * keys), then reads the rows of those whose documents the caller does not
   * have at their versions (with the versions of what they embed): always in
   * one statement, so that the count does not depend on what the caller has.
   */
  private async readUnknown(em: EntityManager, name: ResourceName, listed: unknown[][], follow: FollowTree, budget: Budget, known: KnownDocuments): Promise<Loaded> {
    const keys = this.followedKeys(name, follow);
    const ids: string[] = [];
    const partial = new Map<string, View>();
    const own = new Map<string, number>();
    for (const row of listed) {
      const id = row[0] as string;
      ids.push(id);
      own.set(id, Number(row[1]));
      if (keys.length === 0) {
        partial.set(id, noKeys);
        continue;
      }
      const view: Record<string, unknown> = {};
      for (let index = 0; index < keys.length; index++) view[keys[index]!] = row[2 + index];
      partial.set(id, view);
    }
    const expanded = await this.expand(em, name, { ids, views: partial, versions: own }, follow, budget, known);
    const documents = new Map<string, unknown>();
    const unknown: string[] = [];
    for (const id of ids) {
      const version = expanded.versions.get(id);
      const document = version === undefined ? undefined : known(name, id, version);
      if (document === undefined) unknown.push(id);
      else documents.set(id, document);
    }
    const read = await this.loaders[name].byIds(unknown, em);
    return { ...expanded, ids: read.views.size === unknown.length ? ids : ids.filter((id) => documents.has(id) || read.views.has(id)), views: read.views, known: documents };
  }

  /** Follows the tree's links from loaded objects, one or two queries per link; sibling links load concurrently. */
  private async expand(em: EntityManager, name: ResourceName, { ids, views, versions }: Views, follow: FollowTree, budget: Budget, known?: KnownDocuments): Promise<Loaded> {
    const follows = [...follow].map(async ([linkName, subtree]): Promise<FollowedLink> => {
      const link = resources[name].links.get(linkName)!;
      const byOwner = new Map<string, string[]>();
      const add = (owner: string, id: string) => {
        const list = byOwner.get(owner);
        if (list) list.push(id);
        else byOwner.set(owner, [id]);
      };
      const target = this.loaders[link.target];
      let linked: Loaded;
      if (link.kind === 'one') {
        for (const [id, view] of views) {
          const key = entityOf(view)[link.key];
          if (typeof key === 'string') add(id, key);
        }
        const targets = await this.visible(em, link.target, [...new Set([...byOwner.values()].flat())], budget);
        spend(budget, targets.length);
        linked = await this.loadLevel(em, link.target, targets, subtree, budget, known);
      } else {
        const ownRows = rowsQuery(link.pairs);
        const limit = budget.left + 1;
        const owners = [this.dialect.listParam([...views.keys()])];
        const ownersWhere = ` where ${this.dialect.inList(link.ownerColumn, views.size)}`;
        const order = link.order.replaceAll('{C}', this.dialect.codePointOrder);
        if (ownRows && known && target.versioned) {
          // Each owner's objects are ordered here rather than all of them in SQL, where the sort cost more than the rest of the query.
          const keys = orderKeys(link.order);
          const ownerAt = 2 + this.followedKeys(link.target, subtree).length;
          const value = this.listing(link.target, subtree, ownRows.alias, ownRows.owner, keys.map((key) => key.expression.replaceAll('{C}', '')));
          const rows = await selectJson<unknown[]>(em, this.dialect, value, `${ownRows.from}${ownersWhere}`, owners, undefined, limit);
          spend(budget, rows.length);
          const rowsByOwner = new Map<string, unknown[][]>();
          for (const row of rows) {
            const list = rowsByOwner.get(row[ownerAt] as string);
            if (list) list.push(row);
            else rowsByOwner.set(row[ownerAt] as string, [row]);
          }
          const compareRows = (a: unknown[], b: unknown[]) => {
            for (let index = 0; index < keys.length; index++) {
              const compared = compareValues(a[ownerAt + 1 + index], b[ownerAt + 1 + index]);
              if (compared !== 0) return keys[index]!.direction === 'asc' ? compared : -compared;
            }
            return 0;
          };
          for (const [owner, list] of rowsByOwner) byOwner.set(owner, list.sort(compareRows).map((row) => row[0] as string));
          linked = await this.readUnknown(em, link.target, rows, subtree, budget, known);
        } else if (ownRows && target.rowJson && target.fromRows) {
          const rows = await selectJson<Row>(em, this.dialect, target.rowJson(ownRows.alias, ownRows.owner), `${ownRows.from}${ownersWhere}`, owners, order, limit);
          spend(budget, rows.length);
          const read = await target.fromRows(rows, em);
          read.ids.forEach((id, index) => add(String(rows[index]!.owner_id), id));
          linked = await this.expand(em, link.target, read, subtree, budget, known);
        } else {
          const rows = await selectRows<{ owner_id: string; id: string }>(em, `${link.pairs}${ownersWhere} order by ${order} limit ${limit}`, owners);
          // The query stops one row past what is left, so a full answer means the limit would be passed.
          if (rows.length > budget.left) spend(budget, rows.length);
          for (const row of rows) add(row.owner_id, row.id);
          const targets = [...new Set(rows.map((row) => row.id))];
          spend(budget, targets.length);
          linked = await this.loadLevel(em, link.target, targets, subtree, budget, known);
        }
        if (budget.visibleTo !== undefined) linked = await this.keepVisible(em, linked, byOwner, budget);
      }
      return { name: linkName, resource: link.target, single: link.kind === 'one', byOwner, loaded: linked };
    });
    const links = await Promise.all(follows);
    return { resource: name, ids, views, known: new Map(), versions: compositeVersions(ids, versions, links), links };
  }

  /** The ids, of objects of a resource, that a filtered read's user may see: all of them for an unfiltered read. */
  private async visible(em: EntityManager, resource: ResourceName, ids: string[], budget: Budget): Promise<string[]> {
    if (budget.visibleTo === undefined || ids.length === 0) return ids;
    const condition = await this.authorization.condition(budget.visibleTo, resource);
    if (!condition) return ids;
    if (resource === 'vm' || resource === 'host') await this.records.settled();
    const rows = await selectRows<{ id: string }>(em, `select t.id from ${resources[resource].table} t where ${this.dialect.inList('t.id', ids.length)} and ${condition.text}`, [this.dialect.listParam(ids), ...condition.params]);
    const seen = new Set(rows.map((row) => row.id));
    return ids.filter((id) => seen.has(id));
  }

  /** A followed link's objects without those its user may not see, and the owners' lists of them without them. */
  private async keepVisible(em: EntityManager, linked: Loaded, byOwner: Map<string, string[]>, budget: Budget): Promise<Loaded> {
    const seen = new Set(await this.visible(em, linked.resource, linked.ids, budget));
    if (seen.size === linked.ids.length) return linked;
    for (const [owner, list] of byOwner) byOwner.set(owner, list.filter((id) => seen.has(id)));
    const keep = <T>(map: Map<string, T>) => new Map([...map].filter(([id]) => seen.has(id)));
    return { ...linked, ids: linked.ids.filter((id) => seen.has(id)), views: keep(linked.views), known: keep(linked.known), versions: keep(linked.versions) };
  }
}

/**
 * The version of each object with the objects embedded in it: its own row
 * version, then per followed link the versions of what it embeds (with their
 * ids for collections); none for an object when it, or one of those, has none.
 */
function compositeVersions(ids: string[], own: Map<string, number>, links: FollowedLink[]): Map<string, string> {
  const versions = new Map<string, string>();
  for (const id of ids) {
    const version = own.get(id);
    if (version === undefined) continue;
    let composite: string | undefined = String(version);
    for (let index = 0; index < links.length && composite !== undefined; index++) {
      const link = links[index]!;
      composite += '|';
      for (const target of link.byOwner.get(id) ?? []) {
        const embedded = link.loaded.versions.get(target);
        if (embedded === undefined) {
          if (!link.loaded.views.has(target) && !link.loaded.known.has(target)) continue;
          composite = undefined;
          break;
        }
        // A single link's target is named by the owner's own row, so its version alone tells a change.
        composite += link.single ? embedded : `${target}=${embedded},`;
      }
    }
    if (composite !== undefined) versions.set(id, composite);
  }
  return versions;
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
      const link = resources[owner].links.get(name);
      if (!link) {
        const valid = linkNames(resources[owner]);
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
 * Turns rows of an entity's table, parsed from their JSON text, into plain
 * objects with the entity's property names and types, without the ORM's
 * bookkeeping (which costs more than the query for tens of thousands of rows).
 */
function rowMapper(orm: Orm, entity: new () => object) {
  const properties = Object.values(orm.getMetadata().get(entity.name).properties).map((property) => ({
    name: property.name,
    column: property.fieldNames[0]!,
    type: property.runtimeType,
  }));
  const map = (row: Record<string, unknown>): View => {
    const view: Record<string, unknown> = {};
    for (const { name, column, type } of properties) {
      const value = row[column];
      view[name] = value === null || value === undefined ? null : type === 'number' ? Number(value) : type === 'boolean' ? Boolean(value) : value;
    }
    return view;
  };
  return { columns: properties.map((property) => property.column), columnByProperty: new Map(properties.map((property) => [property.name, property.column])), map };
}

interface RowsLoaderOptions {
  /** Completes the mapped rows into the views the presenter takes. */
  finish?: (views: Map<string, View>, em: EntityManager) => Promise<Map<string, View>> | Map<string, View>;
  /** Whether an object's document depends on its row alone, so that the row's `version` column names its document. */
  versioned?: boolean;
  /** Whether the table's ids are numbers (the audit log's) rather than text. */
  numericIds?: boolean;
}

/** The most members PostgreSQL's json_build_object takes (100 arguments). */
const maxJsonMembers = 50;

function rowsLoader(orm: Orm, dialect: Dialect, table: string, entity: new () => object, { finish = (views) => views, versioned = false, numericIds = false }: RowsLoaderOptions = {}): ViewLoader {
  const { columns, columnByProperty, map } = rowMapper(orm, entity);
  // A row read by a followed link also carries its owner's id and, when versioned, its version.
  if (columns.length + 2 > maxJsonMembers) throw new Error(`${table} has too many columns to read as one JSON object`);
  const rowJson = (alias: string, owner?: string) =>
    dialect.jsonObject([...(owner ? [['owner_id', owner] as const] : []), ...[...columns, ...(versioned ? ['version'] : [])].map((column) => [column, `${alias}.${column}`] as const)]);
  const fromRows = async (rows: Row[], em: EntityManager): Promise<Views> => {
    const mapped = new Map<string, View>();
    const versions = new Map<string, number>();
    const ids: string[] = [];
    for (const row of rows) {
      const view = map(row);
      const id = String((view as { id: string | number }).id);
      ids.push(id);
      mapped.set(id, view);
      if (versioned) versions.set(id, Number(row.version));
    }
    return { ids, views: await finish(mapped, em), versions };
  };
  const columnOf = (property: string) => {
    const column = columnByProperty.get(property);
    if (!column) throw new Error(`${table} has no property ${property}`);
    return column;
  };
  return {
    table,
    versioned,
    columnOf,
    rowJson,
    fromRows,
    async byIds(ids, em) {
      const rows = await selectJson<Row>(em, dialect, rowJson('t'), `from ${table} t where ${dialect.inList('t.id', ids.length, numericIds)}`, [dialect.listParam(ids)]);
      const read = await fromRows(rows, em);
      const views = inOrder(ids, read.views);
      return { ids: [...views.keys()], views, versions: read.versions };
    },
  };
}

function inMemory(ids: string[], byId: Map<string, View>): Views {
  const views = inOrder(ids, byId);
  return { ids: [...views.keys()], views, versions: new Map() };
}

function inOrder(ids: string[], byId: Map<string, View>): Map<string, View> {
  const ordered = new Map<string, View>();
  for (const id of ids) {
    const view = byId.get(id);
    if (view) ordered.set(id, view);
  }
  return ordered;
}

function viewLoaders(orm: Orm, dialect: Dialect, records: Records, scheduler: TaskQueue, vms: VmService): ViewLoaders {
  const rows = (table: string, entity: new () => object, options?: RowsLoaderOptions) => rowsLoader(orm, dialect, table, entity, options);
  const pure = { versioned: true };
  return {
    vm: { byIds: async (ids) => inMemory(ids, new Map(vms.views(ids).map((view) => [view.vm.id, view]))) },
    host: { byIds: async (ids) => inMemory(ids, new Map(ids.flatMap((id) => (records.hosts.has(id) ? [[id, records.hosts.get(id)!] as const] : [])))) },
    cluster: rows('clusters', Cluster, pure),
    data_center: rows('data_centers', DataCenter, pure),
    storage_domain: rows('storage_domains', StorageDomain, {
      finish: async (domains, em) => {
        const committed = await selectRows<{ storage_domain_id: string; committed: number | string }>(
          em,
          `select storage_domain_id, sum(provisioned_size) as committed from disks where ${dialect.inList('storage_domain_id', domains.size)} group by storage_domain_id`,
          [dialect.listParam([...domains.keys()])],
        );
        const byDomain = new Map(committed.map((row) => [row.storage_domain_id, Number(row.committed)]));
        return new Map([...domains].map(([id, domain]) => [id, { domain, committedBytes: byDomain.get(id) ?? 0, status: statusOf(domain as StorageDomain, scheduler) }]));
      },
    }),
    disk: rows('disks', Disk, { ...pure, finish: (disks) => new Map([...disks].map(([id, disk]) => [id, { disk, vmIds: [] }])) }),
    disk_attachment: rows('disk_attachments', DiskAttachment, pure),
    nic: rows('nics', Nic, pure),
    network: rows('networks', Network, pure),
    vnic_profile: rows('vnic_profiles', VnicProfile, pure),
    mac_pool: rows('mac_pools', MacPool, pure),
    template: rows('templates', Template, pure),
    vm_pool: rows('vm_pools', VmPool, pure),
    task: rows('tasks', Task, { finish: (tasks) => new Map([...tasks].map(([id, task]) => [id, scheduler.openTask(id) ?? task])) }),
    event: rows('events', AuditEvent, { numericIds: true }),
    job: rows('jobs', Job, { finish: (jobs, em) => jobViews(em, dialect, jobs as Map<string, Job>) }),
  };
}

/** The row-like object inside a view: a VM's, a storage domain's or a disk's view wraps its entity. */
export function entityOf(view: View): Record<string, unknown> {
  const wrapped = view as { vm?: object; domain?: object; disk?: object };
  return (wrapped.vm ?? wrapped.domain ?? wrapped.disk ?? view) as Record<string, unknown>;
}

function statusOf(domain: StorageDomain, scheduler: TaskQueue): string {
  const running = scheduler.runningAction(domain.id);
  if (running === 'activate') return 'activating';
  if (running === 'deactivate') return 'preparing_for_maintenance';
  return domain.status;
}
