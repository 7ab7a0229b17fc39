import type { EntityManager } from '@mikro-orm/core';
import { MacPool } from '../db/entities.js';
import { selectRows } from '../db/store.js';
import { conflict, notFound } from '../rules/errors.js';
import { checkUnicast, formatMac, parseMac, rangesOf } from '../rules/mac-addresses.js';
import { KeyedLock } from '../rules/keyed-lock.js';

/**
 * Hands out MAC addresses from pools, unique within a pool. Allocation is
 * serialized per pool inside this process (the controller is the only
 * writer), and a unique index backs it up.
 */
export class MacAddresses {
  private readonly locks = new KeyedLock();

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

  async usedMacs(em: EntityManager, poolId: string): Promise<number[]> {
    const rows = await selectRows<{ mac: string }>(em, 'select mac from nics where mac_pool_id = ?', [poolId]);
    return rows.map((row) => parseInt(row.mac.replaceAll(':', ''), 16));
  }
}
