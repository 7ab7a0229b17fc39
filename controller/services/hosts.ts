import type { EntityManager } from '@mikro-orm/core';
import type { Orm } from '../db/orm.js';
import { Cluster, Host, type Task } from '../db/entities.js';
import type { DomainChange, DomainStatus, HostFacts } from '../../shared/model.js';
import type { AgentHub } from '../agents/agent-hub.js';
import { conflict, invalid, notFound } from '../rules/errors.js';
import type { HostRecord, Records } from '../state/records.js';
import { inTransaction, runStatement } from '../db/store.js';
import type { TaskQueue } from '../tasks/task-scheduler.js';
import type { HostAction } from '../rules/host-admin.js';

/** What host actions need besides the task queue: a way to cancel a deactivation in progress when the host is activated. */
export interface HostActionSupport {
  scheduler: TaskQueue;
  cancelDeactivation(hostId: string): void;
}

export const missedHeartbeatsBeforeNonResponsive = 3;

export class HostService {
  private readonly startedAt = Date.now();
  private lastCheckAt?: number;

  constructor(
    private readonly orm: Orm,
    private readonly records: Records,
    private readonly hub: AgentHub,
    readonly heartbeatIntervalMs: number,
    private readonly hostUp: (hostId: string) => void = () => undefined,
    private readonly actions?: HostActionSupport,
  ) {}

  /**
   * Submits a host action's task. Activating a host whose deactivation is
   * in progress cancels the deactivation first (as oVirt's activate of a
   * host preparing for maintenance does): it starts no more migrations,
   * waits for those it started, and fails; then the host is active.
   */
  async requestAction(id: string, action: HostAction, correlationId: string | null): Promise<Task> {
    this.get(id);
    if (!this.actions) throw conflict('host actions are not available');
    if (action === 'activate') this.actions.cancelDeactivation(id);
    return this.actions.scheduler.submit({ objectType: 'host', objectId: id, vmId: null, action, correlationId });
  }

  list(): HostRecord[] {
    return [...this.records.hosts.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  get(id: string): HostRecord {
    const found = this.records.host(id);
    if (!found) throw notFound('host', id);
    return found;
  }

  /**
   * Registers a host from its agent's hello: a new host joins the cluster it
   * asks for, a known one has its facts updated. Either is `connecting`
   * until the session sends its inventory.
   */
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
        domainType: facts.domainType,
        libvirtUri: facts.libvirtUri,
        agentVersion: facts.agentVersion,
        migrationUri: facts.migrationUri,
        migrationAddress: facts.migrationAddress,
        status: 'connecting' as const,
        statusDetail: '',
        lastSeenAt: now,
        updatedAt: now,
      };
      if (known) return em.assign(known, reported);
      const cluster = await clusterForNewHost(em, facts.cluster);
      const name = (await em.count(Host, { name: facts.hostname })) ? `${facts.hostname}-${facts.hostId.slice(0, 8)}` : facts.hostname;
      return em.create(Host, { id: facts.hostId, name, clusterId: cluster.id, registeredAt: now, ...reported });
    });
    this.records.hostRegistered(host);
    return host;
  }

  /** A session's inventory, or one sent after the host reconnected to its hypervisor: the host's domains are taken in, then the host is `up` and is given what hosts of its cluster have (its networks). */
  async inventoryReported(hostId: string, domains: DomainStatus[]): Promise<void> {
    this.records.inventoryReported(hostId, domains);
    await this.records.hostStatus(hostId, 'up', { lastSeenAt: Date.now(), statusDetail: '' });
    this.hostUp(hostId);
  }

  /**
   * The host's agent lost its hypervisor: the host is `non_operational`,
   * with the agent's reason, until its next inventory. Its VMs stay where
   * they were last reported; their status says they are not responding. A
   * host that has not reported since the controller started has its VMs'
   * power states forgotten, as a non-responsive one does.
   */
  async hypervisorUnreachable(hostId: string, reason: string): Promise<void> {
    await this.records.hostStatus(hostId, 'non_operational', { statusDetail: `the agent cannot reach the hypervisor: ${reason}` });
    if (!this.records.hasReported(hostId)) this.records.powerStatesUnknown(hostId);
  }

  /** A change of one domain reported by its host, or the state a command's outcome carries. */
  domainChanged(hostId: string, change: DomainChange): void {
    if (!change.domain.managed) return;
    if (change.removed) this.records.domainGone(hostId, change.domain.uuid);
    else this.records.domainReported(hostId, change.domain);
  }

  /** The managed domains a host reports whose VMs another host is recorded to run: a second copy, or a claim, but never a move of the VM away from that host while it runs it there. */
  reportedVmsOfOtherHosts(hostId: string, domains: DomainStatus[]): { vmId: string; hostId: string }[] {
    const others: { vmId: string; hostId: string }[] = [];
    for (const domain of domains) {
      const vm = domain.managed ? this.records.vm(domain.uuid) : undefined;
      if (vm?.hostId && vm.hostId !== hostId && this.records.migrationOf(vm.id)?.destinationHostId !== hostId) others.push({ vmId: vm.id, hostId: vm.hostId });
    }
    return others;
  }

  sessionEnded(hostId: string): void {
    this.records.hostDisconnected(hostId);
  }

  /**
   * Declares hosts non-responsive whose agent missed its heartbeats, or
   * stayed `connecting` that long (counted from the controller's start for
   * hosts that have not connected since), and keeps `lastSeenAt` current.
   */
  async checkLiveness(): Promise<void> {
    const now = Date.now();
    const deadline = this.heartbeatIntervalMs * missedHeartbeatsBeforeNonResponsive;
    const previousCheck = this.lastCheckAt;
    this.lastCheckAt = now;
    // A check that comes late found the controller itself stalled: the heartbeats that arrived meanwhile are not read yet.
    if (previousCheck !== undefined && now - previousCheck > this.heartbeatIntervalMs) return;
    for (const host of [...this.records.hosts.values()]) {
      const lastSeen = Math.max(this.hub.lastSeenAt(host.id) ?? 0, this.startedAt);
      const stuckConnecting = host.status === 'connecting' && now - (this.records.connectingSinceOf(host.id) ?? now) > deadline;
      if (now - lastSeen > deadline || stuckConnecting) {
        this.hub.markUnreachable(host.id);
        this.records.hostDisconnected(host.id);
        if (host.status !== 'non_responsive') await this.records.hostStatus(host.id, 'non_responsive');
        if (!this.records.hasReported(host.id)) this.records.powerStatesUnknown(host.id);
      } else if (this.hub.isConnected(host.id) && now - host.lastSeenAt > deadline) {
        await this.records.hostSeen(host.id, lastSeen);
      }
    }
  }

  /** Removes a host that has no VM; its certificates are revoked with it (by the database), and its session, if any, ends. */
  async remove(id: string): Promise<HostRecord> {
    const host = this.records.host(id);
    if (!host) throw notFound('host', id);
    const vms = [...this.records.vms.values()].filter((vm) => vm.hostId === id).length;
    if (vms > 0) throw conflict(`host ${host.name} still has ${vms} VM(s) defined on it`);
    await runStatement(this.orm, 'delete from hosts where id = ?', [id]);
    this.hub.end(id, 'the host was removed and its certificates revoked');
    this.records.hostRemoved(id);
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
