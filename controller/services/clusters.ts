import { randomUUID } from 'node:crypto';
import type { Orm } from '../db/orm.js';
import { Cluster, DataCenter, Host, MacPool, Template, Vm, VmPool } from '../db/entities.js';
import { conflict, notFound } from '../rules/errors.js';
import { findReferenced, inTransaction, reader, type Reference } from '../db/store.js';
import { defined } from './datacenters.js';

export interface ClusterInput {
  name?: string;
  description?: string;
  dataCenter?: Reference;
  cpuArchitecture?: string;
  macPool?: Reference;
}

export class ClusterService {
  constructor(private readonly orm: Orm) {}

  list(): Promise<Cluster[]> {
    return reader(this.orm).find(Cluster, {}, { orderBy: { name: 'asc' } });
  }

  async get(id: string): Promise<Cluster> {
    const found = await reader(this.orm).findOne(Cluster, { id });
    if (!found) throw notFound('cluster', id);
    return found;
  }

  create(input: ClusterInput & { name: string; dataCenter: Reference }): Promise<Cluster> {
    return inTransaction(this.orm, async (em) => {
      const dataCenter = await findReferenced(em, DataCenter, input.dataCenter, 'data center');
      const macPool = input.macPool ? await findReferenced(em, MacPool, input.macPool, 'MAC pool') : await em.findOneOrFail(MacPool, { defaultPool: true });
      const now = Date.now();
      return em.create(Cluster, {
        macPoolId: macPool.id,
        id: randomUUID(),
        name: input.name,
        description: input.description ?? '',
        dataCenterId: dataCenter.id,
        cpuArchitecture: input.cpuArchitecture ?? 'x86_64',
        createdAt: now,
        updatedAt: now,
      });
    });
  }

  update(id: string, input: ClusterInput): Promise<Cluster> {
    return inTransaction(this.orm, async (em) => {
      const cluster = await em.findOne(Cluster, { id });
      if (!cluster) throw notFound('cluster', id);
      const { dataCenter, macPool, ...fields } = input;
      if (macPool) {
        const pool = await findReferenced(em, MacPool, macPool, 'MAC pool');
        if (pool.id !== cluster.macPoolId && (await em.count(Vm, { clusterId: id }))) throw conflict(`cluster ${cluster.name} has VMs; their NICs' addresses come from its current MAC pool`);
        cluster.macPoolId = pool.id;
      }
      if (dataCenter) {
        const target = await findReferenced(em, DataCenter, dataCenter, 'data center');
        if (target.id !== cluster.dataCenterId) throw conflict('a cluster cannot move to another data center');
      }
      em.assign(cluster, { ...defined(fields), updatedAt: Date.now() });
      return cluster;
    });
  }

  remove(id: string): Promise<Cluster> {
    return inTransaction(this.orm, async (em) => {
      const cluster = await em.findOne(Cluster, { id });
      if (!cluster) throw notFound('cluster', id);
      const hosts = await em.count(Host, { clusterId: id });
      const vms = await em.count(Vm, { clusterId: id });
      const pools = await em.count(VmPool, { clusterId: id });
      const templates = await em.count(Template, { clusterId: id });
      if (hosts + vms + pools + templates > 0) throw conflict(`cluster ${cluster.name} still has ${hosts} host(s), ${vms} VM(s), ${pools} VM pool(s) and ${templates} template(s)`);
      em.remove(cluster);
      return cluster;
    });
  }
}
