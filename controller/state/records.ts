import type { Orm } from '../db/orm.js';
import { Host, Vm } from '../db/entities.js';
import { reader, runStatement, updateRow, updateRows } from '../db/store.js';
import type { DomainStatus, PowerState } from '../../shared/model.js';
import type { DesiredState, HostStatus } from '../rules/states.js';
import { activePowerStates, isRunning } from '../rules/power-states.js';
import { WriteBehind, type Urgency } from './write-behind.js';
import { eventOf, hostStatusEvent, noEvents, powerStateEvent, type EventSink } from '../rules/events.js';
import { vmStatus } from '../rules/vm-status.js';

export type VmRecord = Readonly<Vm>;
export type HostRecord = Readonly<Host>;

/** The VM columns this class writes; every other column is written through the ORM by whoever changes it, and then taken in here. */
type LiveColumns = Pick<Vm, 'hostId' | 'powerState' | 'powerStateAt' | 'desiredState' | 'allocatedTo' | 'duplicateHostId'>;

type Location = Pick<Vm, 'hostId' | 'powerState' | 'duplicateHostId'>;

/**
 * The one owner of the VM and host rows: every VM and host is kept in
 * memory, so reading one, its status, or planning and placing a task costs
 * no query. Callers get read-only records and change them only through the
 * named writes below, each of which says what it means (a domain reported,
 * a desired state asked, a host registered...).
 *
 * Where a VM is defined (`hostId`) is durable before anything relies on it:
 * a task that sends a VM to a host records the host on the VM in the same
 * statement that stores the task (a trigger, migration `vm_locations`), so a
 * VM is on record on the host before the command that may define it there
 * is sent; reports that move a VM are written at the next turn of the event
 * loop, and a placement of a VM waits for its location's write. Power states
 * reported by hosts and desired states are written behind (see WriteBehind):
 * every agent sends its full inventory again when its session starts, which
 * also happens after a controller restart, and until a host has done so its
 * status is `connecting` and its VMs' states are not trusted (their status is
 * `unknown`, and tasks on them wait).
 */
export class Records {
  private readonly vmRows = new Map<string, Vm>();
  private readonly hostRows = new Map<string, Host>();
  private readonly revisions = new Map<string, number>();
  private clock = 0;
  /** The memory held by active VMs, by host. */
  private readonly committed = new Map<string, number>();
  private readonly sessions = new Set<string>();
  private readonly reportedHosts = new Set<string>();
  private readonly connectingSince = new Map<string, number>();
  /** The state each host last reported each VM's domain in, by VM and host, for the hosts that have it defined. */
  private readonly sightings = new Map<string, Map<string, PowerState>>();
  /** The VMs being migrated, with their source and destination hosts. */
  private readonly migrating = new Map<string, { sourceHostId: string; destinationHostId: string }>();
  private readonly confirmedDown = new Set<string>();
  private hostChange = deferred();
  private readonly writes: WriteBehind;

  constructor(
    private readonly orm: Orm,
    onWriteError: (error: unknown, rows: number) => void = () => undefined,
    private readonly events: EventSink = noEvents,
  ) {
    this.writes = new WriteBehind((patches) => updateRows(orm, 'vms', 'id', patches), onWriteError);
  }

  /**
   * Reads every VM and host. A host the previous run left `up` or
   * `non_operational` is `connecting` until its agent's next session has
   * sent its inventory; one it left `non_responsive` stays so until its
   * agent connects.
   */
  async load(): Promise<void> {
    const now = Date.now();
    await runStatement(this.orm, "update hosts set status = 'connecting', status_detail = '', updated_at = ? where status in ('up', 'non_operational')", [now]);
    const em = reader(this.orm);
    for (const vm of await em.find(Vm, {})) this.takeVm(detached(Vm, vm));
    for (const host of await em.find(Host, {})) {
      const record = detached(Host, host);
      if (record.status === 'connecting') this.connectingSince.set(record.id, now);
      this.hostRows.set(record.id, record);
    }
  }

  get vms(): ReadonlyMap<string, VmRecord> {
    return this.vmRows;
  }

  get hosts(): ReadonlyMap<string, HostRecord> {
    return this.hostRows;
  }

  vm(id: string): VmRecord | undefined {
    return this.vmRows.get(id);
  }

  host(id: string | null): HostRecord | undefined {
    return id ? this.hostRows.get(id) : undefined;
  }

  /** A number that changes whenever the VM's record changes, and is never reused. */
  vmRevision(id: string): number {
    return this.revisions.get(id) ?? 0;
  }

  /** The memory the active VMs on the host hold, by what the host last reported. */
  committedMemory(hostId: string): number {
    return this.committed.get(hostId) ?? 0;
  }

  /** Resolves once every change taken so far is in the database; rejects when a write of them failed (they are tried again). */
  settled(): Promise<void> {
    return this.writes.settled();
  }

  // ---- VMs

  /** Takes in a VM just inserted through the ORM. */
  vmCreated(vm: Vm): void {
    this.takeVm(detached(Vm, vm));
  }

  /**
   * Takes in a VM row whose settings were just written through the ORM. Its
   * live columns (location, power and desired state, allocation) stay as
   * this class has them.
   */
  vmSettingsChanged(vm: Vm): void {
    const current = this.vmRows.get(vm.id);
    if (!current) return;
    const row = detached(Vm, vm);
    const live: LiveColumns = {
      hostId: current.hostId,
      powerState: current.powerState,
      powerStateAt: current.powerStateAt,
      desiredState: current.desiredState,
      allocatedTo: current.allocatedTo,
      duplicateHostId: current.duplicateHostId,
    };
    this.replaceVm(current, Object.assign(row, live));
  }

  /** Forgets a VM whose row was deleted. */
  vmRemoved(id: string): void {
    const current = this.vmRows.get(id);
    if (current) this.account(current, -1);
    this.vmRows.delete(id);
    this.sightings.delete(id);
    this.migrating.delete(id);
    this.revisions.delete(id);
    this.writes.drop(id);
  }

  /** Records what the VM's latest accepted action asks for. */
  desiredStateAsked(id: string, desiredState: DesiredState): void {
    this.changeVm(id, { desiredState }, 'behind');
  }

  /** Hands a pool VM to a user, or frees it (null), durably. */
  async allocate(id: string, userId: string | null): Promise<void> {
    this.changeVm(id, { allocatedTo: userId }, 'soon');
    await this.writes.settled();
  }

  /**
   * Takes in that a task will send the VM to a host: the task's row, stored
   * already, recorded the host on the VM in the same statement when the VM
   * had none (migration `vm_locations`). When a change of the VM's location
   * was still being written meanwhile (a report that came in between), the
   * host is written again after it, so the database ends with the host the
   * command goes to; `locationWritten` tells when.
   */
  sentTo(vmId: string, hostId: string): void {
    const vm = this.vmRows.get(vmId);
    if (!vm || (vm.hostId !== null && vm.hostId !== hostId)) return;
    if (this.writes.isPending(vmId, 'hostId')) this.changeVm(vmId, { hostId }, 'soon');
    else if (vm.hostId === null) this.replaceVm(vm, { ...vm, hostId });
  }

  /** Resolves once the database has the VM's location as this class has it. */
  async locationWritten(vmId: string): Promise<void> {
    if (this.writes.isPending(vmId, 'hostId')) await this.writes.settled();
  }

  /**
   * The power states on record for a host's VMs are not to be trusted any
   * more: the host has not reported since the controller started, and now
   * stopped responding. Where they are stays on record.
   */
  powerStatesUnknown(hostId: string): void {
    for (const vm of this.vmRows.values()) {
      if (vm.hostId === hostId && vm.powerState !== null) this.changeVm(vm.id, { powerState: null, powerStateAt: Date.now() }, 'behind');
    }
  }

  /** Whether the host has sent its inventory since the controller started. */
  hasReported(hostId: string): boolean {
    return this.reportedHosts.has(hostId);
  }

  /** A host's full list of domains: managed ones it lists are defined there in that state, and VMs it does not list are not defined there. */
  inventoryReported(hostId: string, domains: DomainStatus[]): void {
    this.reportedHosts.add(hostId);
    const managed = new Map(domains.filter((domain) => domain.managed).map((domain) => [domain.uuid, domain]));
    for (const vm of this.vmRows.values()) {
      const domain = managed.get(vm.id);
      if (domain) this.sighted(vm, hostId, domain.state);
      else if (vm.hostId === hostId || this.sightings.get(vm.id)?.has(hostId)) this.sighted(vm, hostId, null);
    }
  }

  /** A host reports one managed domain's state, by a change or by a command's outcome. */
  domainReported(hostId: string, domain: DomainStatus): void {
    const vm = this.vmRows.get(domain.uuid);
    if (!vm || !domain.managed) return;
    this.sighted(vm, hostId, domain.state);
  }

  /** A host reports that a domain is no longer defined there. */
  domainGone(hostId: string, uuid: string): void {
    const vm = this.vmRows.get(uuid);
    if (vm) this.sighted(vm, hostId, null);
  }

  /**
   * A migration of the VM from its host to `destinationHostId` begins (or is
   * resumed after a controller restart). Until it ends, the VM stays on its
   * source host whatever the hosts report: the destination's copy is the
   * expected incoming one, not a second copy, and the source's report that
   * the domain left moves nothing. Only `migrationEnded` moves it.
   */
  migrationBegan(vmId: string, destinationHostId: string): void {
    const vm = this.vmRows.get(vmId);
    if (!vm?.hostId) return;
    this.migrating.set(vmId, { sourceHostId: vm.hostId, destinationHostId });
    this.relocate(vm);
  }

  /** The migration of the VM that is in progress, if one is. */
  migrationOf(vmId: string): { sourceHostId: string; destinationHostId: string } | undefined {
    return this.migrating.get(vmId);
  }

  /**
   * A migration ended: with `handedOverTo` the VM now belongs to the
   * destination (on the evidence of rules/migration.ts), durably once the
   * returned promise resolves; without it the VM stays where the hosts
   * report it, its source first. What hosts confirmed down had reported of
   * it is forgotten, as a fence forgets it for the VMs it releases.
   */
  async migrationEnded(vmId: string, handedOverTo?: string): Promise<void> {
    this.migrating.delete(vmId);
    const vm = this.vmRows.get(vmId);
    if (!vm) return;
    const seen = this.sightings.get(vmId);
    for (const hostId of seen?.keys() ?? []) if (this.isConfirmedDown(hostId)) seen!.delete(hostId);
    if (seen?.size === 0) this.sightings.delete(vmId);
    if (handedOverTo) {
      const hostName = this.hostRows.get(handedOverTo)?.name ?? handedOverTo;
      this.events.record(eventOf('vm_migrated', { vm: vm.name, host: hostName }, { objectType: 'vm', objectId: vmId, vmId, vmName: vm.name, clusterId: vm.clusterId, hostId: handedOverTo, hostName }));
      const seen = this.sightings.get(vmId);
      const duplicate = [...(seen ?? [])].find(([host, state]) => host !== handedOverTo && activePowerStates.has(state))?.[0] ?? null;
      this.changeVm(vmId, { hostId: handedOverTo, powerState: seen?.get(handedOverTo) ?? null, duplicateHostId: duplicate, powerStateAt: Date.now() }, 'soon');
    } else {
      this.relocate(vm);
    }
    await this.locationWritten(vmId);
  }

  private relocate(vm: Vm): void {
    const next = this.locationOf(vm, this.sightings.get(vm.id) ?? new Map(), vm.hostId ?? '');
    if (next.hostId === vm.hostId && next.powerState === vm.powerState && next.duplicateHostId === vm.duplicateHostId) return;
    this.changeVm(vm.id, { ...next, powerStateAt: Date.now() }, next.hostId === vm.hostId ? 'behind' : 'soon');
  }

  private locationOf(vm: Vm, seen: ReadonlyMap<string, PowerState>, reporter: string): Location {
    const migration = this.migrating.get(vm.id);
    if (!migration) return locate(vm, seen, reporter);
    const { sourceHostId, destinationHostId } = migration;
    const duplicate = [...seen].find(([host, state]) => host !== sourceHostId && host !== destinationHostId && activePowerStates.has(state))?.[0] ?? null;
    return { hostId: sourceHostId, powerState: seen.get(sourceHostId) ?? (vm.hostId === sourceHostId ? vm.powerState : null), duplicateHostId: duplicate };
  }

  /**
   * Takes in what one host reported of a VM's domain (null: it is not
   * defined there), and moves the VM to where the hosts report it: the host
   * it is active on (its own host first), else its own host while that host
   * has it defined or has not reported on it (a command may be defining it
   * there), else another host that has it defined, else none. A VM active on
   * a second host besides its own names that host as its duplicate.
   */
  private sighted(vm: Vm, hostId: string, state: PowerState | null): void {
    const seen = this.sightings.get(vm.id) ?? new Map<string, PowerState>();
    if (state === null) seen.delete(hostId);
    else seen.set(hostId, state);
    if (seen.size) this.sightings.set(vm.id, seen);
    else this.sightings.delete(vm.id);
    const next = this.locationOf(vm, seen, hostId);
    if (next.hostId === vm.hostId && next.powerState === vm.powerState && next.duplicateHostId === vm.duplicateHostId) return;
    this.changeVm(vm.id, { ...next, powerStateAt: Date.now() }, next.hostId === vm.hostId ? 'behind' : 'soon');
  }

  private changeVm(id: string, change: Partial<LiveColumns>, urgency: Urgency): void {
    const vm = this.vmRows.get(id);
    if (!vm) return;
    const before = { powerState: vm.powerState, hostId: vm.hostId, duplicateHostId: vm.duplicateHostId };
    this.replaceVm(vm, { ...vm, ...change });
    this.writes.change(id, change, urgency);
    this.vmEvents(vm, before);
  }

  /** Records the events of a VM's change of power state or host, as the hosts reported them. */
  private vmEvents(vm: Vm, before: Pick<Vm, 'powerState' | 'hostId' | 'duplicateHostId'>): void {
    const about = { objectType: 'vm' as const, objectId: vm.id, vmId: vm.id, vmName: vm.name, clusterId: vm.clusterId, hostId: vm.hostId, hostName: this.hostRows.get(vm.hostId ?? '')?.name ?? null };
    const stateChanged = vm.powerState !== before.powerState && !(vm.powerState === null && before.powerState === 'shutoff') && !(vm.powerState === 'shutoff' && before.powerState === null);
    if (stateChanged || (vm.hostId !== before.hostId && vm.powerState === 'running')) {
      const kind = powerStateEvent(vm.powerState);
      const status = vmStatus(vm.powerState, vm.hostId, this.hostRows.get(vm.hostId ?? '')?.status, undefined, vm.duplicateHostId);
      if (kind) this.events.record(eventOf(kind, { vm: vm.name, host: about.hostName }, { ...about, change: 'status', status }));
    }
    if (vm.duplicateHostId && vm.duplicateHostId !== before.duplicateHostId) {
      const other = this.hostRows.get(vm.duplicateHostId)?.name ?? vm.duplicateHostId;
      this.events.record(eventOf('vm_on_two_hosts', { vm: vm.name, host: about.hostName, other }, { ...about, change: 'status', status: vmStatus(vm.powerState, vm.hostId, this.hostRows.get(vm.hostId ?? '')?.status, undefined, vm.duplicateHostId) }));
    }
  }

  private takeVm(vm: Vm): void {
    this.vmRows.set(vm.id, vm);
    this.account(vm, 1);
    this.touch(vm.id);
  }

  /** Changes a record in place: whoever holds it reads its current values. */
  private replaceVm(current: Vm, next: Vm): void {
    this.account(current, -1);
    Object.assign(current, next);
    this.account(current, 1);
    this.touch(current.id);
  }

  private account(vm: Vm, sign: 1 | -1): void {
    if (!isRunning(vm)) return;
    this.committed.set(vm.hostId!, (this.committed.get(vm.hostId!) ?? 0) + sign * vm.memoryBytes);
  }

  private touch(id: string): void {
    this.revisions.set(id, ++this.clock);
  }

  // ---- hosts

  /** Whether the host's agent has a session open. */
  isConnected(hostId: string): boolean {
    return this.sessions.has(hostId);
  }

  /** When the host became `connecting`, if it is. */
  connectingSinceOf(hostId: string): number | undefined {
    return this.connectingSince.get(hostId);
  }

  /** Takes in a host row just written through the ORM by its agent's hello; its session is open and it is `connecting` until its inventory arrives. */
  hostRegistered(host: Host): void {
    const record = detached(Host, host);
    const current = this.hostRows.get(record.id);
    if (current) Object.assign(current, record);
    else this.hostRows.set(record.id, record);
    this.sessions.add(record.id);
    this.confirmedDown.delete(record.id);
    this.connectingSince.set(record.id, Date.now());
    this.hostChanged();
  }

  hostDisconnected(hostId: string): void {
    this.sessions.delete(hostId);
  }

  /** Changes a host's status (and what else the patch holds), durably; the status detail is the patch's, or none. */
  async hostStatus(hostId: string, status: HostStatus, patch: Partial<Host> = {}): Promise<void> {
    const before = this.hostRows.get(hostId);
    const presentedBefore = before ? hostStatusEvent(before.status, before.adminState).status : undefined;
    await this.updateHost(hostId, { statusDetail: '', ...patch, status, updatedAt: Date.now() });
    this.hostEvent(hostId, presentedBefore);
    if (status === 'connecting') this.connectingSince.set(hostId, Date.now());
    else this.connectingSince.delete(hostId);
    this.hostChanged();
  }

  async hostSeen(hostId: string, at: number): Promise<void> {
    await this.updateHost(hostId, { lastSeenAt: at });
  }

  hostRemoved(id: string): void {
    this.hostRows.delete(id);
    for (const seen of this.sightings.values()) seen.delete(id);
    this.sessions.delete(id);
    this.connectingSince.delete(id);
    this.hostChanged();
  }

  // ---- host maintenance and fencing (host-maintenance)

  /** Changes a host's administrative state, durably. */
  async hostAdminState(hostId: string, adminState: Host['adminState']): Promise<void> {
    const before = this.hostRows.get(hostId);
    const presentedBefore = before ? hostStatusEvent(before.status, before.adminState).status : undefined;
    await this.updateHost(hostId, { adminState, updatedAt: Date.now() });
    this.hostEvent(hostId, presentedBefore);
    this.hostChanged();
  }

  /**
   * Takes in that the administrator confirmed the host is down (fenced by
   * hand): nothing of it runs any more, and it is confirmed down until its
   * agent connects again. Every VM the host had defined or was seen on, but
   * those `keep` names and those being migrated, forgets the host's sightings and is
   * located again by the other hosts' (none: down, with no host), durably
   * before this resolves. Answers the VMs that were on the host, as they
   * were.
   */
  async hostConfirmedDown(hostId: string, keep: (vmId: string) => boolean): Promise<VmRecord[]> {
    this.confirmedDown.add(hostId);
    const released: VmRecord[] = [];
    for (const vm of this.vmRows.values()) {
      const seen = this.sightings.get(vm.id);
      if ((vm.hostId !== hostId && !seen?.has(hostId)) || keep(vm.id) || this.migrating.has(vm.id)) continue;
      if (vm.hostId === hostId) released.push({ ...vm });
      seen?.delete(hostId);
      if (seen && seen.size === 0) this.sightings.delete(vm.id);
      const next = locate({ ...vm, hostId: vm.hostId === hostId ? null : vm.hostId }, seen ?? new Map(), hostId);
      this.changeVm(vm.id, { ...next, powerStateAt: Date.now() }, 'soon');
    }
    await this.writes.settled();
    this.hostChanged();
    return released;
  }

  /** Whether an administrator confirmed the host is down (fence) since its agent last connected. */
  isConfirmedDown(hostId: string): boolean {
    return this.confirmedDown.has(hostId);
  }

  /** Resolves at the next change of any host's status. */
  nextHostChange(): Promise<void> {
    return this.hostChange.promise;
  }

  private async updateHost(id: string, patch: Partial<Host>): Promise<void> {
    if (!this.hostRows.has(id)) return;
    await updateRow(this.orm, 'hosts', 'id', id, patch);
    const current = this.hostRows.get(id);
    if (current) Object.assign(current, patch);
  }

  /** Records the event of a host's status as the API presents it, when it changed. */
  private hostEvent(hostId: string, presentedBefore: string | undefined): void {
    const host = this.hostRows.get(hostId);
    if (!host) return;
    const news = hostStatusEvent(host.status, host.adminState);
    if (news.status === presentedBefore) return;
    this.events.record(
      eventOf(news.kind, { host: host.name, status: news.status.replaceAll('_', ' '), detail: host.statusDetail || '-' }, { objectType: 'host', objectId: host.id, hostId: host.id, hostName: host.name, clusterId: host.clusterId, change: 'status', status: news.status }),
    );
  }

  private hostChanged(): void {
    const { resolve } = this.hostChange;
    this.hostChange = deferred();
    resolve();
  }
}

function locate(vm: Vm, seen: ReadonlyMap<string, PowerState>, reporter: string): Location {
  const active = [...seen].filter(([, state]) => activePowerStates.has(state)).map(([host]) => host);
  let hostId: string | null;
  if (active.length) hostId = vm.hostId !== null && active.includes(vm.hostId) ? vm.hostId : active[0]!;
  else if (vm.hostId !== null && (seen.has(vm.hostId) || vm.hostId !== reporter)) hostId = vm.hostId;
  else hostId = seen.keys().next().value ?? null;
  const powerState = hostId === null ? null : (seen.get(hostId) ?? (hostId === vm.hostId ? vm.powerState : null));
  return { hostId, powerState, duplicateHostId: active.find((host) => host !== hostId) ?? null };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

function detached<T extends object>(type: new () => T, source: T): T {
  const copy = new type() as Record<string, unknown>;
  for (const [key, value] of Object.entries(source)) if (!key.startsWith('__') && typeof value !== 'function') copy[key] = value;
  return copy as T;
}
