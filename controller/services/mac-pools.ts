import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/core';
import type { Orm } from '../db/orm.js';
import { Cluster, MacPool } from '../db/entities.js';
import { conflict, invalid, notFound } from './errors.js';
import { inTransaction, reader, selectRows } from './store.js';
import { defined } from './datacenters.js';
import { KeyedLock } from './keyed-lock.js';

export interface MacRange {
  from: string;
  to: string;
}

export interface MacPoolInput {
  name?: string;
  description?: string;
  allowDuplicates?: boolean;
  ranges?: MacRange[];
}

/** The most addresses one pool may span; more would only make allocation slower. */
export const maxPoolAddresses = 2 ** 24;

const macPattern = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

export function parseMac(text: string, where: string): number {
  const mac = text.trim().toLowerCase();
  if (!macPattern.test(mac)) throw invalid(`${where} "${text}" is not a MAC address like 56:6f:1a:2b:00:01`);
  return parseInt(mac.replaceAll(':', ''), 16);
}

export function formatMac(value: number): string {
  return value.toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:');
}

/** A MAC address a NIC may use: unicast (the first octet's lowest bit clear) and not all zeros. */
export function checkUnicast(value: number, where: string): void {
  if (value === 0 || Math.floor(value / 2 ** 40) % 2 === 1) throw invalid(`${where} ${formatMac(value)} is not a unicast address`);
}

export function checkRanges(ranges: MacRange[]): MacRange[] {
  if (ranges.length === 0) throw invalid('mac_pool.ranges needs at least one range');
  let total = 0;
  const normalized = ranges.map((range, index) => {
    const from = parseMac(range.from, `mac_pool.ranges.range[${index}].from`);
    const to = parseMac(range.to, `mac_pool.ranges.range[${index}].to`);
    if (to < from) throw invalid(`mac_pool.ranges.range[${index}] ends before it starts`);
    checkUnicast(from, `mac_pool.ranges.range[${index}].from`);
    total += to - from + 1;
    return { from: formatMac(from), to: formatMac(to) };
  });
  if (total > maxPoolAddresses) throw invalid(`mac_pool.ranges span ${total} addresses; at most ${maxPoolAddresses} are allowed`);
  return normalized;
}

export function rangesOf(pool: MacPool): MacRange[] {
  return JSON.parse(pool.ranges) as MacRange[];
}

/**
 * MAC pools: ranges of addresses NICs take theirs from, unique within a
 * pool. Allocation is serialized per pool inside this process (the
 * controller is the only writer), and a unique index backs it up.
 */
export class MacPoolService {
  private readonly locks = new KeyedLock();

  constructor(private readonly orm: Orm) {}

  list(): Promise<MacPool[]> {
    return reader(this.orm).find(MacPool, {}, { orderBy: { name: 'asc' } });
  }

  async get(id: string): Promise<MacPool> {
    const found = await reader(this.orm).findOne(MacPool, { id });
    if (!found) throw notFound('MAC pool', id);
    return found;
  }

  create(input: MacPoolInput & { name: string; ranges: MacRange[] }): Promise<MacPool> {
    if (input.allowDuplicates) throw invalid('mac_pool.allow_duplicates=true is not supported: Drover keeps MAC addresses unique within a pool');
    const ranges = checkRanges(input.ranges);
    return inTransaction(this.orm, async (em) => {
      const now = Date.now();
      return em.create(MacPool, {
        id: randomUUID(),
        name: input.name,
        description: input.description ?? '',
        allowDuplicates: false,
        defaultPool: false,
        ranges: JSON.stringify(ranges),
        createdAt: now,
        updatedAt: now,
      });
    });
  }

  async update(id: string, input: MacPoolInput): Promise<MacPool> {
    if (input.allowDuplicates) throw invalid('mac_pool.allow_duplicates=true is not supported: Drover keeps MAC addresses unique within a pool');
    const ranges = input.ranges ? checkRanges(input.ranges) : undefined;
    return this.exclusively(id, () =>
      inTransaction(this.orm, async (em) => {
        const pool = await em.findOne(MacPool, { id });
        if (!pool) throw notFound('MAC pool', id);
        if (ranges) {
          const outside = (await this.usedMacs(em, id)).filter((mac) => !ranges.some((range) => mac >= parseMac(range.from, 'from') && mac <= parseMac(range.to, 'to')));
          if (outside.length) throw conflict(`${outside.length} NIC(s) of the pool have addresses outside the new ranges, such as ${formatMac(outside[0]!)}`);
        }
        em.assign(pool, { ...defined({ name: input.name, description: input.description }), ...(ranges ? { ranges: JSON.stringify(ranges) } : {}), updatedAt: Date.now() });
        return pool;
      }),
    );
  }

  async remove(id: string): Promise<MacPool> {
    return inTransaction(this.orm, async (em) => {
      const pool = await em.findOne(MacPool, { id });
      if (!pool) throw notFound('MAC pool', id);
      if (pool.defaultPool) throw conflict('the default MAC pool cannot be removed');
      const clusters = await em.count(Cluster, { macPoolId: id });
      if (clusters > 0) throw conflict(`MAC pool ${pool.name} is used by ${clusters} cluster(s)`);
      em.remove(pool);
      return pool;
    });
  }

  /**
   * Runs `work` with the pool's addresses to itself: no other allocation in
   * this pool happens until it resolves, so the address it picks with
   * `allocate` stays free until its NIC row is committed.
   */
  exclusively<T>(poolId: string, work: () => Promise<T>): Promise<T> {
    return this.locks.run(poolId, work);
  }

  /** Picks an address for a new NIC: the requested one if it is free, otherwise the lowest free address of the pool's ranges. Call inside `exclusively`. */
  async allocate(em: EntityManager, poolId: string, requested?: string): Promise<string> {
    const pool = await em.findOne(MacPool, { id: poolId });
    if (!pool) throw notFound('MAC pool', poolId);
    const used = new Set(await this.usedMacs(em, poolId));
    if (requested !== undefined) {
      const mac = parseMac(requested, 'nic.mac.address');
      checkUnicast(mac, 'nic.mac.address');
      if (used.has(mac)) throw conflict(`MAC address ${formatMac(mac)} is already in use in MAC pool ${pool.name}`);
      return formatMac(mac);
    }
    for (const range of rangesOf(pool)) {
      const to = parseMac(range.to, 'to');
      for (let mac = parseMac(range.from, 'from'); mac <= to; mac++) if (!used.has(mac)) return formatMac(mac);
    }
    throw conflict(`MAC pool ${pool.name} has no free address left (${used.size} in use)`);
  }

  private async usedMacs(em: EntityManager, poolId: string): Promise<number[]> {
    const rows = await selectRows<{ mac: string }>(em, 'select mac from nics where mac_pool_id = ?', [poolId]);
    return rows.map((row) => parseInt(row.mac.replaceAll(':', ''), 16));
  }
}
