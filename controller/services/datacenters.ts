import { randomUUID } from 'node:crypto';
import type { Orm } from '../db/orm.js';
import { Cluster, DataCenter } from '../db/entities.js';
import { conflict, notFound } from './errors.js';
import { inTransaction, reader } from './store.js';

export interface DataCenterInput {
  name?: string;
  description?: string;
  local?: boolean;
}

export class DataCenterService {
  constructor(private readonly orm: Orm) {}

  list(): Promise<DataCenter[]> {
    return reader(this.orm).find(DataCenter, {}, { orderBy: { name: 'asc' } });
  }

  async get(id: string): Promise<DataCenter> {
    const found = await reader(this.orm).findOne(DataCenter, { id });
    if (!found) throw notFound('data center', id);
    return found;
  }

  create(input: Required<Pick<DataCenterInput, 'name'>> & DataCenterInput): Promise<DataCenter> {
    return inTransaction(this.orm, async (em) => {
      const now = Date.now();
      return em.create(DataCenter, {
        id: randomUUID(),
        name: input.name,
        description: input.description ?? '',
        local: input.local ?? false,
        createdAt: now,
        updatedAt: now,
      });
    });
  }

  update(id: string, input: DataCenterInput): Promise<DataCenter> {
    return inTransaction(this.orm, async (em) => {
      const dataCenter = await em.findOne(DataCenter, { id });
      if (!dataCenter) throw notFound('data center', id);
      em.assign(dataCenter, { ...defined(input), updatedAt: Date.now() });
      return dataCenter;
    });
  }

  remove(id: string): Promise<DataCenter> {
    return inTransaction(this.orm, async (em) => {
      const dataCenter = await em.findOne(DataCenter, { id });
      if (!dataCenter) throw notFound('data center', id);
      const clusters = await em.count(Cluster, { dataCenterId: id });
      if (clusters > 0) throw conflict(`data center ${dataCenter.name} still has ${clusters} cluster(s); remove them first`);
      em.remove(dataCenter);
      return dataCenter;
    });
  }
}

export function defined<T extends object>(input: T): Partial<T> {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)) as Partial<T>;
}
