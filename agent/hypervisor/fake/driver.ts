import type { CommandErrorKind, DomainStatus, PowerState, VmSpec } from '../../../shared/model.js';
import { DriverError, type DriverOperation, type HypervisorDriver, type NodeFacts } from '../driver.js';

interface FakeDomain {
  uuid: string;
  name: string;
  state: PowerState;
  managed: boolean;
  spec?: VmSpec;
}

type FailurePredicate = (operation: DriverOperation, uuid: string) => { kind: CommandErrorKind; message: string } | undefined;

const activeStates: ReadonlySet<PowerState> = new Set(['running', 'paused', 'shutting_down', 'crashed', 'pm_suspended']);

/**
 * An in-memory HypervisorDriver for unit tests. It follows the driver contract
 * and lets a test make operations fail, slow them down, count them, and change
 * domains behind the agent's back.
 */
export class FakeDriver implements HypervisorDriver {
  readonly calls: Record<DriverOperation, number> = {
    define: 0,
    start: 0,
    shutdown: 0,
    destroy: 0,
    pause: 0,
    resume: 0,
    suspend: 0,
    reboot: 0,
    undefine: 0,
  };
  listCalls = 0;
  opened = false;
  private readonly domains = new Map<string, FakeDomain>();
  private readonly pendingFailures: { operation: DriverOperation; kind: CommandErrorKind; message: string }[] = [];
  private failurePredicate?: FailurePredicate;
  private readonly delays = new Map<DriverOperation, number>();
  private guestIgnoresShutdown = false;

  async open(): Promise<void> {
    this.opened = true;
  }

  async close(): Promise<void> {
    this.opened = false;
  }

  async nodeFacts(): Promise<NodeFacts> {
    return {
      hostname: 'fake-node',
      cpuCount: 8,
      cpuModel: 'x86_64',
      memoryBytes: 16 * 2 ** 30,
      libvirtVersion: '9.0.0',
      hypervisorType: 'FAKE',
      hypervisorVersion: '',
      uri: 'fake:///',
    };
  }

  async listDomains(): Promise<DomainStatus[]> {
    this.listCalls++;
    return [...this.domains.values()].map((domain) => this.statusOf(domain));
  }

  async getDomain(uuid: string): Promise<DomainStatus | undefined> {
    const domain = this.domains.get(uuid);
    return domain ? this.statusOf(domain) : undefined;
  }

  async define(spec: VmSpec): Promise<DomainStatus> {
    await this.enter('define', spec.id);
    const existing = this.domains.get(spec.id);
    const domain: FakeDomain = { uuid: spec.id, name: `drover-${spec.id}`, state: existing?.state ?? 'shutoff', managed: true, spec };
    this.domains.set(spec.id, domain);
    return this.statusOf(domain);
  }

  async start(uuid: string): Promise<DomainStatus | undefined> {
    const domain = await this.operate('start', uuid);
    this.transition(domain, 'start', ['shutoff', 'suspended'], 'running');
    return this.getDomain(uuid);
  }

  async shutdown(uuid: string, timeoutMs: number): Promise<DomainStatus | undefined> {
    const domain = await this.operate('shutdown', uuid);
    this.require(domain, 'shutdown', ['running', 'shutting_down']);
    if (this.guestIgnoresShutdown) throw new DriverError('timed_out', `domain ${domain.name} did not shut down within ${timeoutMs} ms`);
    domain.state = 'shutoff';
    return this.getDomain(uuid);
  }

  async destroy(uuid: string): Promise<DomainStatus | undefined> {
    const domain = await this.operate('destroy', uuid);
    this.require(domain, 'destroy', [...activeStates, 'suspended']);
    domain.state = 'shutoff';
    return this.getDomain(uuid);
  }

  async pause(uuid: string): Promise<DomainStatus | undefined> {
    const domain = await this.operate('pause', uuid);
    this.transition(domain, 'pause', ['running'], 'paused');
    return this.getDomain(uuid);
  }

  async resume(uuid: string): Promise<DomainStatus | undefined> {
    const domain = await this.operate('resume', uuid);
    this.transition(domain, 'resume', ['paused', 'pm_suspended', 'suspended'], 'running');
    return this.getDomain(uuid);
  }

  async suspend(uuid: string): Promise<DomainStatus | undefined> {
    const domain = await this.operate('suspend', uuid);
    this.transition(domain, 'suspend', ['running', 'paused'], 'suspended');
    return this.getDomain(uuid);
  }

  async reboot(uuid: string): Promise<DomainStatus | undefined> {
    const domain = await this.operate('reboot', uuid);
    this.transition(domain, 'reboot', ['running'], 'running');
    return this.getDomain(uuid);
  }

  async undefine(uuid: string): Promise<DomainStatus | undefined> {
    const domain = await this.operate('undefine', uuid);
    this.require(domain, 'undefine', ['shutoff', 'suspended']);
    this.domains.delete(uuid);
    return this.getDomain(uuid);
  }

  /** Makes the next call of the operation reject with the given kind. */
  failNext(operation: DriverOperation, kind: CommandErrorKind, message: string): void {
    this.pendingFailures.push({ operation, kind, message });
  }

  /** Makes every call for which the predicate returns a failure reject with it; undefined removes the predicate. */
  failWhen(predicate: FailurePredicate | undefined): void {
    this.failurePredicate = predicate;
  }

  /** Makes every call of the operation take the given time before it acts. */
  delay(operation: DriverOperation, ms: number): void {
    this.delays.set(operation, ms);
  }

  /** Makes shutdown and reboot behave like a guest that ignores ACPI power-off. */
  ignoreShutdown(ignore = true): void {
    this.guestIgnoresShutdown = ignore;
  }

  /** Adds a domain as if someone defined it outside Drover (or Drover before a restart). */
  addDomain(status: DomainStatus): void {
    this.domains.set(status.uuid, { ...status });
  }

  /** Changes a domain's state behind the agent's back. */
  setState(uuid: string, state: PowerState): void {
    const domain = this.domains.get(uuid);
    if (!domain) throw new Error(`no fake domain ${uuid}`);
    domain.state = state;
  }

  /** Removes a domain behind the agent's back. */
  removeDomain(uuid: string): void {
    this.domains.delete(uuid);
  }

  specOf(uuid: string): VmSpec | undefined {
    return this.domains.get(uuid)?.spec;
  }

  private statusOf(domain: FakeDomain): DomainStatus {
    return { uuid: domain.uuid, name: domain.name, state: domain.state, managed: domain.managed };
  }

  private async enter(operation: DriverOperation, uuid: string): Promise<void> {
    this.calls[operation]++;
    const delay = this.delays.get(operation);
    if (delay) await new Promise((resolve) => setTimeout(resolve, delay));
    const index = this.pendingFailures.findIndex((failure) => failure.operation === operation);
    if (index >= 0) {
      const [failure] = this.pendingFailures.splice(index, 1);
      throw new DriverError(failure.kind, failure.message);
    }
    const failure = this.failurePredicate?.(operation, uuid);
    if (failure) throw new DriverError(failure.kind, failure.message);
  }

  private async operate(operation: DriverOperation, uuid: string): Promise<FakeDomain> {
    await this.enter(operation, uuid);
    const domain = this.domains.get(uuid);
    if (!domain) throw new DriverError('domain_not_found', `no domain with uuid ${uuid}`);
    return domain;
  }

  private require(domain: FakeDomain, operation: DriverOperation, allowed: readonly PowerState[]): void {
    if (!allowed.includes(domain.state)) throw new DriverError('invalid_state', `cannot ${operation} domain ${domain.name}: it is ${domain.state}`);
  }

  private transition(domain: FakeDomain, operation: DriverOperation, allowed: readonly PowerState[], next: PowerState): void {
    this.require(domain, operation, allowed);
    domain.state = next;
  }
}
