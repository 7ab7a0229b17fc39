import type { EntityManager } from '@mikro-orm/core';
import type { Orm } from '../db/orm.js';
import { Cluster, Host, Vm } from '../db/entities.js';
import type { DomainChange, DomainStatus, HostFacts } from '../../shared/model.js';
import type { AgentHub } from '../agents/agent-hub.js';
import { conflict, invalid, notFound } from './errors.js';
import { inTransaction, reader } from './store.js';

export const missedHeartbeatsBeforeNonResponsive = 3;

export class HostService {
  private readonly startedAt = Date.now();

  constructor(
    private readonly orm: Orm,
    private readonly hub: AgentHub,
    readonly heartbeatIntervalMs: number,
  ) {}

  list(): Promise<Host[]> {
    return reader(this.orm).find(Host, {}, { orderBy: { name: 'asc' } });
  }

  async get(id: string): Promise<Host> {
    const found = await reader(this.orm).findOne(Host, { id });
    if (!found) throw notFound('host', id);
    return found;
  }

  register(facts: HostFacts): Promise<Host> {
    return inTransaction(this.orm, async (em) => {
      const now = Date.now();
      const known = await em.findOne(Host, { id: facts.hostId });
      const reported = {
        address: facts.hostname,
        cpuCount: facts.cpuCount,
        cpuModel: facts.cpuModel,
        memoryBytes: facts.memoryBytes,
        libvirtVersion: facts.libvirtVersion,
        hypervisorType: facts.hypervisorType,
        hypervisorVersion: facts.hypervisorVersion,
        libvirtUri: facts.libvirtUri,
        agentVersion: facts.agentVersion,
        status: 'up' as const,
        lastSeenAt: now,
        updatedAt: now,
      };
      if (known) return em.assign(known, reported);
      const cluster = await clusterForNewHost(em, facts.cluster);
      const name = (await em.count(Host, { name: facts.hostname })) ? `${facts.hostname}-${facts.hostId.slice(0, 8)}` : facts.hostname;
      return em.create(Host, { id: facts.hostId, name, clusterId: cluster.id, registeredAt: now, ...reported });
    });
  }

  async applyInventory(hostId: string, domains: DomainStatus[]): Promise<void> {
    const managed = new Map(domains.filter((domain) => domain.managed).map((domain) => [domain.uuid, domain]));
    await inTransaction(this.orm, async (em) => {
      const now = Date.now();
      const vms = await em.find(Vm, { $or: [{ hostId }, { id: { $in: [...managed.keys()] } }] });
      for (const vm of vms) {
        const domain = managed.get(vm.id);
        if (domain) {
          if (vm.hostId !== hostId || vm.powerState !== domain.state) em.assign(vm, { hostId, powerState: domain.state, powerStateAt: now });
        } else if (vm.hostId === hostId) {
          em.assign(vm, { hostId: null, powerState: null, powerStateAt: now });
        }
      }
    });
  }

  async applyChange(hostId: string, change: DomainChange): Promise<void> {
    if (!change.domain.managed) return;
    const em = reader(this.orm);
    const now = Date.now();
    if (change.removed) {
      await em.nativeUpdate(Vm, { id: change.domain.uuid, hostId }, { hostId: null, powerState: null, powerStateAt: now });
    } else {
      await em.nativeUpdate(Vm, { id: change.domain.uuid }, { hostId, powerState: change.domain.state, powerStateAt: now });
    }
  }

  async checkLiveness(): Promise<void> {
    const now = Date.now();
    const deadline = this.heartbeatIntervalMs * missedHeartbeatsBeforeNonResponsive;
    const hosts = await reader(this.orm).find(Host, {});
    for (const host of hosts) {
      const lastSeen = Math.max(this.hub.lastSeenAt(host.id) ?? 0, this.startedAt);
      const silent = now - lastSeen > deadline;
      if (silent && host.status === 'up') {
        this.hub.markUnreachable(host.id);
        await reader(this.orm).nativeUpdate(Host, { id: host.id }, { status: 'non_responsive', updatedAt: now });
      } else if (!silent && this.hub.isConnected(host.id)) {
        await reader(this.orm).nativeUpdate(Host, { id: host.id }, { lastSeenAt: lastSeen, ...(host.status === 'up' ? {} : { status: 'up', updatedAt: now }) });
      } else if (silent) {
        this.hub.markUnreachable(host.id);
      }
    }
  }

  remove(id: string): Promise<Host> {
    return inTransaction(this.orm, async (em) => {
      const host = await em.findOne(Host, { id });
      if (!host) throw notFound('host', id);
      const vms = await em.count(Vm, { hostId: id });
      if (vms > 0) throw conflict(`host ${host.name} still has ${vms} VM(s) defined on it`);
      if (this.hub.isConnected(id)) throw conflict(`host ${host.name} is connected; stop its agent before removing it, or it registers again`);
      em.remove(host);
      return host;
    });
  }
}

async function clusterForNewHost(em: EntityManager, requested: string): Promise<Cluster> {
  if (requested) {
    const named = await em.findOne(Cluster, { name: requested });
    if (!named) throw invalid(`cluster ${requested} does not exist`);
    return named;
  }
  const fallback = (await em.findOne(Cluster, { name: 'Default' })) ?? (await em.findOne(Cluster, {}, { orderBy: { createdAt: 'asc' } }));
  if (!fallback) throw invalid('there is no cluster to place a new host in; create one first');
  return fallback;
}
