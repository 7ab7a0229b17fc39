import { randomUUID } from 'node:crypto';
import type { Orm } from '../db/orm.js';
import { Cluster, MacPool } from '../db/entities.js';
import { conflict, invalid, notFound } from '../rules/errors.js';
import { inTransaction, reader } from '../db/store.js';
import { defined } from './datacenters.js';
import type { MacAddresses } from '../tasks/mac-addresses.js';
import { checkRanges, formatMac, parseMac, type MacRange } from '../rules/mac-addresses.js';

export interface MacPoolInput {
  name?: string;
  description?: string;
  allowDuplicates?: boolean;
  ranges?: MacRange[];
}

/**
 * MAC pools: ranges of addresses NICs take theirs from (see MacAddresses).
 */
export class MacPoolService {
  constructor(
    private readonly orm: Orm,
    private readonly addresses: MacAddresses,
  ) {}

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
    return this.addresses.exclusively(id, () =>
      inTransaction(this.orm, async (em) => {
        const pool = await em.findOne(MacPool, { id });
        if (!pool) throw notFound('MAC pool', id);
        if (ranges) {
          const outside = (await this.addresses.usedMacs(em, id)).filter((mac) => !ranges.some((range) => mac >= parseMac(range.from, 'from') && mac <= parseMac(range.to, 'to')));
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

}
