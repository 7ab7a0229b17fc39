import type { EntityManager } from '@mikro-orm/core';
import type { Orm } from '../db/orm.js';
import { Cluster, Host, Vm } from '../db/entities.js';
import type { DomainChange, DomainStatus, HostFacts } from '../../shared/model.js';
import type { AgentHub } from '../agents/agent-hub.js';
import { conflict, invalid, notFound } from '../rules/errors.js';
import type { Records } from '../state/records.js';
import { inTransaction } from '../db/store.js';

export const missedHeartbeatsBeforeNonResponsive = 3;

export class HostService {
  private readonly startedAt = Date.now();

  constructor(
    private readonly orm: Orm,
    private readonly records: Records,
    private readonly hub: AgentHub,
    readonly heartbeatIntervalMs: number,
  ) {}

  list(): Host[] {
    return [...this.records.hosts.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  get(id: string): Host {
    const found = this.records.host(id);
    if (!found) throw notFound('host', id);
    return found;
  }

  async register(facts: HostFacts): Promise<Host> {
    const host = await inTransaction(this.orm, async (em) => {
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
    this.records.putHost(host);
    return host;
  }

  applyInventory(hostId: string, domains: DomainStatus[]): void {
    const managed = new Map(domains.filter((domain) => domain.managed).map((domain) => [domain.uuid, domain]));
    const now = Date.now();
    const changes: Array<[string, Partial<Vm>]> = [];
    for (const vm of this.records.vms.values()) {
      const domain = managed.get(vm.id);
      if (domain) {
        if (vm.hostId !== hostId || vm.powerState !== domain.state) changes.push([vm.id, { hostId, powerState: domain.state, powerStateAt: now }]);
      } else if (vm.hostId === hostId) {
        changes.push([vm.id, { hostId: null, powerState: null, powerStateAt: now }]);
      }
    }
    for (const [id, patch] of changes) this.records.writeVmBehind(id, patch);
  }

  applyChange(hostId: string, change: DomainChange): void {
    if (!change.domain.managed) return;
    const now = Date.now();
    if (change.removed) {
      this.records.writeVmBehind(change.domain.uuid, { hostId: null, powerState: null, powerStateAt: now }, { hostId });
    } else {
      const vm = this.records.vm(change.domain.uuid);
      // A report of what is already known (a command's outcome carried it first) changes nothing.
      if (vm && vm.hostId === hostId && vm.powerState === change.domain.state) return;
      this.records.writeVmBehind(change.domain.uuid, { hostId, powerState: change.domain.state, powerStateAt: now });
    }
  }

  async checkLiveness(): Promise<void> {
    const now = Date.now();
    const deadline = this.heartbeatIntervalMs * missedHeartbeatsBeforeNonResponsive;
    for (const host of [...this.records.hosts.values()]) {
      const lastSeen = Math.max(this.hub.lastSeenAt(host.id) ?? 0, this.startedAt);
      const silent = now - lastSeen > deadline;
      if (silent) {
        this.hub.markUnreachable(host.id);
        if (host.status === 'up') await this.records.updateHost(host.id, { status: 'non_responsive', updatedAt: now });
      } else if (this.hub.isConnected(host.id)) {
        if (host.status !== 'up') await this.records.updateHost(host.id, { status: 'up', lastSeenAt: lastSeen, updatedAt: now });
        else if (now - host.lastSeenAt > deadline) await this.records.updateHost(host.id, { lastSeenAt: lastSeen });
      }
    }
  }

  async remove(id: string): Promise<Host> {
    await this.records.settled();
    const host = await inTransaction(this.orm, async (em) => {
      const found = await em.findOne(Host, { id });
      if (!found) throw notFound('host', id);
      const vms = await em.count(Vm, { hostId: id });
      if (vms > 0) throw conflict(`host ${found.name} still has ${vms} VM(s) defined on it`);
      if (this.hub.isConnected(id)) throw conflict(`host ${found.name} is connected; stop its agent before removing it, or it registers again`);
      em.remove(found);
      return found;
    });
    this.records.dropHost(id);
    return host;
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
