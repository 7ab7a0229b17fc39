import { randomUUID } from 'node:crypto';
import type { ExecutionContext, TestFn } from 'ava';
import { DriverError, type DomainChangeHint, type DriverOperation, type HypervisorDriver } from '../../../agent/hypervisor/driver.js';
import type { CommandErrorKind, DiskDevice, DomainStatus, NetworkSpec, NicDevice, PowerState, StorageSpec, VmSpec, VolumeRef, VolumeSpec } from '../../../shared/model.js';
import { vmSpec } from './helpers.js';
import { eventually } from '../../support/eventually.js';

/** What a driver can do where the contract lets drivers differ. */
export interface DriverAbilities {
  /** Plugs devices into running domains; without it plugDevice and unplugDevice reject with not_supported. */
  hotplug: boolean;
  /** Wakes domains that suspended themselves through power management; without it resume rejects them with not_supported. */
  pmWakeup: boolean;
  /** Calls onDomainChange listeners. */
  events: boolean;
}

/** The states a domain can be in on a host before the driver opens; `suspended` is the driver's own. */
export type SeedState = Exclude<PowerState, 'suspended'>;

/** A domain on the host before the driver opens: with Drover metadata for `spec` when managed, without any otherwise. */
export interface SeededDomain {
  spec: VmSpec;
  state: SeedState;
  managed: boolean;
}

/** The persistent definition the hypervisor holds for a domain, as far as the contract speaks of it. */
export interface Definition {
  /** The Drover VM name and description from the domain's metadata, empty for an unmanaged domain. */
  name: string;
  description: string;
  /** The ids of the disks and NICs the definition has, sorted. */
  deviceIds: string[];
}

/** A driver under test on its host, and what a test sees of the host besides the driver. */
export interface ContractHost {
  readonly driver: HypervisorDriver;
  definition(uuid: string): Promise<Definition | undefined>;
  /** A new storage domain whose directory exists on the host. */
  storage(): Promise<StorageSpec>;
  /** Removes a storage domain's directory, as an administrator unmounting the storage would. */
  removeStorageDirectory(storage: StorageSpec): Promise<void>;
  /** Whether any part of the volume exists on the host. */
  volumeExists(volume: VolumeRef): Promise<boolean>;
  /** Whether the network is defined on the host, and then whether it runs. */
  networkState(network: NetworkSpec): Promise<'running' | 'stopped' | undefined>;
}

/** Someone else changing the host's domains behind the driver's back. */
export interface Outsider {
  define(spec: VmSpec, managed: boolean): Promise<void>;
  /** Starts a shut off domain from scratch, ignoring any memory image the driver saved for it. */
  start(uuid: string): Promise<void>;
  pause(uuid: string): Promise<void>;
}

/** A host other tests and an outsider may share, and that outlives its driver. */
export interface SharedContractHost extends ContractHost {
  readonly outsider: Outsider;
  /** A spec for a new VM, whose domain is removed from the host after the test. */
  vm(overrides?: Partial<VmSpec>): VmSpec;
  /** Closes the driver (again, if the test closed it) and opens a new one on the same host with the same data directory. */
  reopen(): Promise<HypervisorDriver>;
}

export interface DriverFixture {
  /** Prefixes every test's title, for a file that runs the suite on several fixtures. */
  title?: string;
  abilities: DriverAbilities;
  /** Opens a fresh driver on a fresh host that holds the seeded domains. */
  host(t: ExecutionContext, domains?: readonly SeededDomain[]): Promise<ContractHost>;
  /** Opens a fresh driver on a host an outsider changes too. Its other domains are none of the test's business. */
  sharedHost(t: ExecutionContext): Promise<SharedContractHost>;
}

const allowedStates = {
  start: ['shutoff', 'suspended'],
  shutdown: ['running', 'shutting_down'],
  destroy: ['running', 'paused', 'shutting_down', 'crashed', 'pm_suspended', 'suspended'],
  resume: ['paused', 'pm_suspended', 'suspended'],
  suspend: ['running', 'paused'],
  reboot: ['running'],
  reset: ['running'],
  undefine: ['shutoff', 'suspended'],
  plugDevice: ['running', 'paused'],
  unplugDevice: ['running', 'paused'],
} as const satisfies Partial<Record<DriverOperation, readonly PowerState[]>>;

type DomainOperation = keyof typeof allowedStates;

const domainOperations = Object.keys(allowedStates) as DomainOperation[];
const seedStates = ['shutoff', 'running', 'paused', 'shutting_down', 'crashed', 'pm_suspended'] as const satisfies readonly SeedState[];
const testedStates: readonly PowerState[] = [...seedStates, 'suspended'];
const shortTimeoutMs = 100;
const mib = 1024 ** 2;

function networkSpec(): NetworkSpec {
  const id = randomUUID();
  return { id, name: `net-${id.slice(0, 8)}`, vlanId: null, mtu: 0 };
}

function nicDevice(): NicDevice {
  const octet = () => Math.floor(Math.random() * 256).toString(16).padStart(2, '0');
  return { nicId: randomUUID(), name: 'eth0', mac: `56:6f:${octet()}:${octet()}:${octet()}:${octet()}`, model: 'virtio', network: null, linked: true };
}

function diskOn(storage: StorageSpec): DiskDevice {
  const diskId = randomUUID();
  return { diskId, volume: { storage, volumeId: diskId, format: 'qcow2' }, bus: 'virtio', bootable: true, readOnly: false };
}

function volumeOn(storage: StorageSpec, overrides: Partial<VolumeSpec> = {}): VolumeSpec {
  return { storage, volumeId: randomUUID(), format: 'qcow2', capacityBytes: 64 * mib, sparse: true, ...overrides };
}

/** Performs the operation on the domain of `spec` with a device to plug or unplug (the NIC `device`, which the spec given to the driver has). */
function perform(driver: HypervisorDriver, operation: DomainOperation, spec: VmSpec, device = nicDevice()): Promise<DomainStatus | undefined> {
  const withDevice = { ...spec, nics: [...spec.nics.filter((nic) => nic.nicId !== device.nicId), device] };
  const operations: Record<DomainOperation, () => Promise<DomainStatus | undefined>> = {
    start: () => driver.start(spec.id),
    shutdown: () => driver.shutdown(spec.id, shortTimeoutMs),
    destroy: () => driver.destroy(spec.id),
    resume: () => driver.resume(spec.id),
    suspend: () => driver.suspend(spec.id),
    reboot: async () => (await driver.reboot(spec.id, shortTimeoutMs)).domain,
    reset: () => driver.reset(spec.id),
    undefine: () => driver.undefine(spec.id),
    plugDevice: () => driver.plugDevice(withDevice, device.nicId),
    unplugDevice: () => driver.unplugDevice(withDevice, device.nicId),
  };
  return operations[operation]();
}

function seeded(state: SeedState, options: { managed?: boolean; nics?: NicDevice[] } = {}): SeededDomain {
  return { spec: vmSpec({ nics: options.nics ?? [] }), state, managed: options.managed ?? true };
}

async function stateOf(driver: HypervisorDriver, uuid: string): Promise<PowerState | undefined> {
  return (await driver.getDomain(uuid))?.state;
}

async function rejects(t: ExecutionContext, promise: Promise<unknown>, kind: CommandErrorKind, what?: string): Promise<DriverError> {
  const error = await t.throwsAsync(promise, { instanceOf: DriverError }, what);
  t.is(error?.kind, kind, `${what ?? 'the error'}: ${error?.message}`);
  return error!;
}

/** Checks that an operation resolved with the managed domain's state right after it, as getDomain reports it too. */
async function resolvedWith(t: ExecutionContext, driver: HypervisorDriver, status: DomainStatus | undefined, uuid: string, state: PowerState): Promise<void> {
  t.like(status, { uuid, state, managed: true });
  t.deepEqual(await driver.getDomain(uuid), status);
}

/** A host with one managed domain in each state the tests cover, by state. */
async function hostWithEveryState(fixture: DriverFixture, t: ExecutionContext, nics: NicDevice[] = []) {
  const seeds = seedStates.map((state) => seeded(state, { nics }));
  const toSuspend = seeded('running', { nics });
  const host = await fixture.host(t, [...seeds, toSuspend]);
  await host.driver.suspend(toSuspend.spec.id);
  const specs = new Map<PowerState, VmSpec>(seeds.map((seed) => [seed.state, seed.spec]));
  specs.set('suspended', toSuspend.spec);
  return { host, specs };
}

/** Registers the driver contract's tests for the driver the fixture opens. */
export function driverContract(test: TestFn, fixture: DriverFixture): void {
  const { abilities } = fixture;
  const title = (text: string) => (fixture.title ? `${fixture.title}: ${text}` : text);

  test(title('define creates a shut off domain whose UUID is the VM id and which is managed, with the spec as its definition'), async (t) => {
    const { driver, definition } = await fixture.host(t);
    const spec = vmSpec();
    const defined = await driver.define(spec);
    await resolvedWith(t, driver, defined, spec.id, 'shutoff');
    t.deepEqual(await definition(spec.id), { name: spec.name, description: spec.description, deviceIds: [] });
  });

  test(title('define replaces the definition of a domain in any state, which keeps its state'), async (t) => {
    const { host, specs } = await hostWithEveryState(fixture, t);
    for (const [state, spec] of specs) {
      const changed = { ...spec, name: `renamed-${state}`, description: `redefined while ${state}` };
      await resolvedWith(t, host.driver, await host.driver.define(changed), spec.id, state);
      t.like(await host.definition(spec.id), { name: changed.name, description: changed.description }, state);
    }
    const listed = await host.driver.listDomains();
    for (const spec of specs.values()) t.is(listed.filter((domain) => domain.uuid === spec.id).length, 1);
  });

  test(title('define prepares the storage domains of the disks first, and without defining anything fails with storage_unreachable when one is missing'), async (t) => {
    const { driver, storage, removeStorageDirectory } = await fixture.host(t);
    const present = await storage();
    const spec = vmSpec({ disks: [diskOn(present)] });
    await driver.define(spec);
    t.true((await driver.storageUsage()).some((usage) => usage.storageId === present.id));

    const missing = await storage();
    await removeStorageDirectory(missing);
    const homeless = vmSpec({ disks: [diskOn(missing)] });
    await rejects(t, driver.define(homeless), 'storage_unreachable');
    t.is(await driver.getDomain(homeless.id), undefined);
  });

  test(title('start starts a shut off domain, and restores a suspended one whose memory image is then gone'), async (t) => {
    const { driver } = await fixture.host(t);
    const spec = vmSpec();
    await driver.define(spec);
    await resolvedWith(t, driver, await driver.start(spec.id), spec.id, 'running');
    await driver.suspend(spec.id);
    await resolvedWith(t, driver, await driver.start(spec.id), spec.id, 'running');
    await resolvedWith(t, driver, await driver.destroy(spec.id), spec.id, 'shutoff');
  });

  test(title('start with a spec defines and starts the domain; when the start fails the new definition stays'), async (t) => {
    const { driver, definition } = await fixture.host(t);
    const spec = vmSpec();
    await resolvedWith(t, driver, await driver.start(spec.id, spec), spec.id, 'running');
    t.like(await definition(spec.id), { name: spec.name, description: spec.description });

    const changed = { ...spec, description: 'changed while running' };
    const refused = await rejects(t, driver.start(spec.id, changed), 'invalid_state');
    t.regex(refused.message, /running/);
    t.like(await definition(spec.id), { description: 'changed while running' });
    t.is(await stateOf(driver, spec.id), 'running');
  });

  test(title('shutdown powers a running domain off and resolves once it is shut off'), async (t) => {
    const { driver } = await fixture.host(t);
    const spec = vmSpec();
    await driver.start(spec.id, spec);
    await resolvedWith(t, driver, await driver.shutdown(spec.id, 10_000), spec.id, 'shutoff');
  });

  test(title('shutdown of a domain already shutting down waits for it, and rejects with timed_out leaving the domain as it is when it is still active after the timeout'), async (t) => {
    const stopping = seeded('shutting_down');
    const { driver } = await fixture.host(t, [stopping]);
    const started = performance.now();
    await rejects(t, driver.shutdown(stopping.spec.id, shortTimeoutMs), 'timed_out');
    t.true(performance.now() - started >= shortTimeoutMs * 0.9, 'it waited for the timeout');
    t.is(await stateOf(driver, stopping.spec.id), 'shutting_down');
  });

  test(title('destroy powers off every active domain at once, and discards the memory image of a suspended one'), async (t) => {
    const { host, specs } = await hostWithEveryState(fixture, t);
    for (const state of allowedStates.destroy) {
      const spec = specs.get(state)!;
      await resolvedWith(t, host.driver, await host.driver.destroy(spec.id), spec.id, 'shutoff');
    }
    const suspended = specs.get('suspended')!;
    await resolvedWith(t, host.driver, await host.driver.start(suspended.id), suspended.id, 'running');
    await resolvedWith(t, host.driver, await host.driver.destroy(suspended.id), suspended.id, 'shutoff');
  });

  test(title('resume continues a paused domain, and restores a suspended one whose memory image is then gone'), async (t) => {
    const paused = seeded('paused');
    const { driver } = await fixture.host(t, [paused]);
    await resolvedWith(t, driver, await driver.resume(paused.spec.id), paused.spec.id, 'running');
    await driver.suspend(paused.spec.id);
    await resolvedWith(t, driver, await driver.resume(paused.spec.id), paused.spec.id, 'running');
    await resolvedWith(t, driver, await driver.destroy(paused.spec.id), paused.spec.id, 'shutoff');
  });

  if (abilities.pmWakeup) {
    test(title('resume wakes a domain that suspended itself through power management'), async (t) => {
      const sleeping = seeded('pm_suspended');
      const { driver } = await fixture.host(t, [sleeping]);
      await resolvedWith(t, driver, await driver.resume(sleeping.spec.id), sleeping.spec.id, 'running');
    });
  } else {
    test(title('resume of a domain that suspended itself through power management is not_supported by a hypervisor that cannot wake it'), async (t) => {
      const sleeping = seeded('pm_suspended');
      const { driver } = await fixture.host(t, [sleeping]);
      await rejects(t, driver.resume(sleeping.spec.id), 'not_supported');
      t.is(await stateOf(driver, sleeping.spec.id), 'pm_suspended');
    });
  }

  test(title('suspend saves a running or a paused domain, which is then suspended, also in listings'), async (t) => {
    const [running, paused] = [seeded('running'), seeded('paused')];
    const { driver } = await fixture.host(t, [running, paused]);
    for (const { spec } of [running, paused]) {
      await resolvedWith(t, driver, await driver.suspend(spec.id), spec.id, 'suspended');
      t.is((await driver.listDomains()).find((domain) => domain.uuid === spec.id)?.state, 'suspended');
    }
  });

  test(title('reboot restarts a running domain, which is running after it, and says the guest rebooted as asked'), async (t) => {
    const running = seeded('running');
    const { driver } = await fixture.host(t, [running]);
    const { domain, reboot } = await driver.reboot(running.spec.id, 10_000);
    await resolvedWith(t, driver, domain, running.spec.id, 'running');
    t.false(reboot.reset, 'the guest was not reset');
    t.true(reboot.waitedMs < 10_000, `the guest was waited for ${reboot.waitedMs} ms`);
  });

  test(title('reset restarts a running domain at once, which is running after it'), async (t) => {
    const running = seeded('running');
    const { driver } = await fixture.host(t, [running]);
    await resolvedWith(t, driver, await driver.reset(running.spec.id), running.spec.id, 'running');
  });

  test(title('undefine removes a shut off domain, and a suspended one with its memory image, resolving with no domain'), async (t) => {
    const { driver, definition } = await fixture.host(t);
    const [off, suspended] = [vmSpec(), vmSpec()];
    await driver.define(off);
    await driver.start(suspended.id, suspended);
    await driver.suspend(suspended.id);
    for (const spec of [off, suspended]) {
      t.is(await driver.undefine(spec.id), undefined);
      t.is(await driver.getDomain(spec.id), undefined);
      t.is(await definition(spec.id), undefined);
      t.false((await driver.listDomains()).some((domain) => domain.uuid === spec.id));
    }
    await resolvedWith(t, driver, await driver.define(suspended), suspended.id, 'shutoff');
  });

  for (const operation of domainOperations) {
    const refused = testedStates.filter((state) => !(allowedStates[operation] as readonly PowerState[]).includes(state));
    test(title(`${operation} is invalid_state for a domain that is ${refused.join(', ')}, and changes nothing`), async (t) => {
      const device = nicDevice();
      const { host, specs } = await hostWithEveryState(fixture, t, operation === 'unplugDevice' ? [device] : []);
      for (const state of refused) {
        const spec = specs.get(state)!;
        const before = await host.definition(spec.id);
        await rejects(t, perform(host.driver, operation, spec, device), 'invalid_state', `${operation} of a domain that is ${state}`);
        t.is(await stateOf(host.driver, spec.id), state);
        t.deepEqual(await host.definition(spec.id), before);
      }
    });
  }

  test(title('every operation on a domain rejects an unknown UUID with domain_not_found, and getDomain reports no domain for it'), async (t) => {
    const { driver } = await fixture.host(t);
    const unknown = vmSpec();
    for (const operation of domainOperations) await rejects(t, perform(driver, operation, unknown), 'domain_not_found', operation);
    t.is(await driver.getDomain(unknown.id), undefined);
  });

  test(title('listDomains and getDomain report every domain on the host, managed or not, with its power state'), async (t) => {
    const seeds = [...seedStates.map((state) => seeded(state)), ...seedStates.map((state) => seeded(state, { managed: false }))];
    const { driver } = await fixture.host(t, seeds);
    const [defined, suspended] = [vmSpec(), vmSpec()];
    await driver.define(defined);
    await driver.start(suspended.id, suspended);
    await driver.suspend(suspended.id);
    const expected = [
      ...seeds.map((seed) => ({ uuid: seed.spec.id, state: seed.state, managed: seed.managed })),
      { uuid: defined.id, state: 'shutoff', managed: true },
      { uuid: suspended.id, state: 'suspended', managed: true },
    ];
    const listed = new Map((await driver.listDomains()).map((domain) => [domain.uuid, domain]));
    for (const domain of expected) {
      t.like(listed.get(domain.uuid), domain);
      t.deepEqual(await driver.getDomain(domain.uuid), listed.get(domain.uuid));
    }
  });

  test(title('listDomains reports a thousand domains with their states, every listing alike (what a listing costs is benchmark poll-cost\'s, not a test\'s)'), async (t) => {
    const seeds = Array.from({ length: 1_000 }, (_, index) => seeded(seedStates[index % seedStates.length], { managed: index % 10 === 0 }));
    const { driver } = await fixture.host(t, seeds);
    const suspended = vmSpec();
    await driver.start(suspended.id, suspended);
    await driver.suspend(suspended.id);
    const listed = new Map((await driver.listDomains()).map((domain) => [domain.uuid, domain]));
    t.is(listed.size, seeds.length + 1);
    const wrong = seeds.filter(({ spec, state, managed }) => listed.get(spec.id)?.state !== state || listed.get(spec.id)?.managed !== managed);
    t.deepEqual(wrong, []);
    t.like(listed.get(suspended.id), { state: 'suspended', managed: true });

    for (let round = 0; round < 3; round++) t.deepEqual(new Map((await driver.listDomains()).map((domain) => [domain.uuid, domain])), listed);
  });

  test(title('operations on several domains at once, with listings while they run, all succeed'), async (t) => {
    const { driver } = await fixture.host(t);
    const specs = Array.from({ length: 4 }, () => vmSpec());
    const listings = () => Promise.all([driver.listDomains(), ...specs.map((spec) => driver.getDomain(spec.id))]);
    const [started] = await Promise.all([Promise.all(specs.map((spec) => driver.start(spec.id, spec))), listings()]);
    t.deepEqual(started.map((status) => status?.state), ['running', 'running', 'running', 'running']);
    const [changed] = await Promise.all([
      Promise.all([driver.suspend(specs[0].id), driver.destroy(specs[1].id), driver.reboot(specs[2].id, 10_000).then((rebooted) => rebooted.domain), driver.define({ ...specs[3], description: 'changed' })]),
      listings(),
    ]);
    t.deepEqual(changed.map((status) => status?.state), ['suspended', 'shutoff', 'running', 'running']);
    const listed = new Map((await driver.listDomains()).map((domain) => [domain.uuid, domain.state]));
    t.deepEqual(specs.map((spec) => listed.get(spec.id)), ['suspended', 'shutoff', 'running', 'running']);
  });

  test(title('a domain defined behind the driver after it listed the host is reported, managed when it carries Drover metadata'), async (t) => {
    const host = await fixture.sharedHost(t);
    await host.driver.listDomains();
    const [managed, unmanaged] = [host.vm(), host.vm()];
    await host.outsider.define(managed, true);
    await host.outsider.define(unmanaged, false);
    await host.outsider.start(unmanaged.id);
    const listed = new Map((await host.driver.listDomains()).map((domain) => [domain.uuid, domain]));
    t.like(listed.get(managed.id), { state: 'shutoff', managed: true });
    t.like(listed.get(unmanaged.id), { state: 'running', managed: false });
    t.deepEqual(await host.driver.getDomain(managed.id), listed.get(managed.id));
    t.deepEqual(await host.driver.getDomain(unmanaged.id), listed.get(unmanaged.id));
  });

  test(title('a suspended domain started from scratch behind the driver is running, and its stale memory image is discarded'), async (t) => {
    const host = await fixture.sharedHost(t);
    const [looked, untouched] = [host.vm(), host.vm()];
    for (const spec of [looked, untouched]) {
      await host.driver.start(spec.id, spec);
      await host.driver.suspend(spec.id);
      await host.outsider.start(spec.id);
    }
    t.is(await stateOf(host.driver, looked.id), 'running');
    await resolvedWith(t, host.driver, await host.driver.destroy(looked.id), looked.id, 'shutoff');
    await resolvedWith(t, host.driver, await host.driver.destroy(untouched.id), untouched.id, 'shutoff');
  });

  test(title('a change behind the driver is seen by the next look, and the domain is operated on from its new state'), async (t) => {
    const host = await fixture.sharedHost(t);
    const spec = host.vm();
    await host.driver.start(spec.id, spec);
    await host.outsider.pause(spec.id);
    t.is(await stateOf(host.driver, spec.id), 'paused');
    t.is((await host.driver.listDomains()).find((domain) => domain.uuid === spec.id)?.state, 'paused');
    await resolvedWith(t, host.driver, await host.driver.resume(spec.id), spec.id, 'running');
  });

  test(title('close leaves the domains as they are and closing twice is harmless: a driver opened again finds them, and the storage prepared before'), async (t) => {
    const host = await fixture.sharedHost(t);
    const [running, suspended] = [host.vm(), host.vm()];
    await host.driver.start(running.id, running);
    await host.driver.start(suspended.id, suspended);
    await host.driver.suspend(suspended.id);
    const storage = await host.storage();
    await host.driver.prepareStorage(storage);
    await host.driver.close();
    await host.driver.close();
    const reopened = await host.reopen();
    t.is(await stateOf(reopened, running.id), 'running');
    t.is(await stateOf(reopened, suspended.id), 'suspended');
    t.true((await reopened.storageUsage()).some((usage) => usage.storageId === storage.id));
    await resolvedWith(t, reopened, await reopened.start(suspended.id), suspended.id, 'running');
  });

  if (abilities.events) {
    test(title("onDomainChange hears of the driver's own lifecycle changes, with what each implies"), async (t) => {
      const { driver } = await fixture.host(t);
      const spec = vmSpec();
      const hints: DomainChangeHint[] = [];
      driver.onDomainChange!((uuid, hint) => uuid === spec.id && hints.push(hint));
      const expectHints = async (step: () => Promise<unknown>, expected: DomainChangeHint[], what: string) => {
        hints.length = 0;
        await step();
        await eventually(() => hints.length >= expected.length, what, 2_000);
        t.deepEqual(hints, expected, what);
      };
      await expectHints(() => driver.start(spec.id, spec), ['definition', 'running'], 'define and start');
      await expectHints(() => driver.suspend(spec.id), [undefined], 'suspend');
      await expectHints(() => driver.resume(spec.id), ['running'], 'resume');
      await expectHints(() => driver.destroy(spec.id), [undefined], 'destroy');
      await expectHints(() => driver.define({ ...spec, description: 'changed' }), ['definition'], 'define');
      await expectHints(() => driver.undefine(spec.id), [undefined], 'undefine');
    });

    test(title('onDomainChange hears of changes made behind the driver too'), async (t) => {
      const host = await fixture.sharedHost(t);
      const spec = host.vm();
      const hints: DomainChangeHint[] = [];
      host.driver.onDomainChange!((uuid, hint) => uuid === spec.id && hints.push(hint));
      await host.outsider.define(spec, true);
      await eventually(() => hints.includes('definition'), 'the definition', 2_000);
      await host.outsider.start(spec.id);
      await eventually(() => hints.includes('running'), 'the start', 2_000);
      await host.outsider.pause(spec.id);
      await eventually(() => hints.includes('paused'), 'the pause', 2_000);
      t.deepEqual(hints, ['definition', 'running', 'paused']);
    });
  } else {
    test(title('a driver without events never calls onDomainChange listeners'), async (t) => {
      const host = await fixture.sharedHost(t);
      const heard: string[] = [];
      host.driver.onDomainChange?.((uuid) => heard.push(uuid));
      const [own, outsiders] = [host.vm(), host.vm()];
      await host.driver.start(own.id, own);
      await host.driver.suspend(own.id);
      await host.driver.undefine(own.id);
      await host.outsider.define(outsiders, true);
      await host.outsider.start(outsiders.id);
      await host.outsider.pause(outsiders.id);
      t.is(await stateOf(host.driver, outsiders.id), 'paused');
      t.deepEqual(heard, []);
    });
  }

  test(title('nodeFacts describes the node'), async (t) => {
    const { driver } = await fixture.host(t);
    const facts = await driver.nodeFacts();
    t.true(facts.hostname.length > 0);
    t.true(Number.isInteger(facts.cpuCount) && facts.cpuCount > 0);
    t.true(facts.cpuModel.length > 0);
    t.true(facts.memoryBytes > 0);
    t.regex(facts.libvirtVersion, /^(\d+\.\d+\.\d+)?$/);
    t.true(facts.hypervisorType.length > 0);
    t.true(facts.uri.length > 0);
  });

  test(title('prepareStorage reports the space of a storage domain, storageUsage lists it, and preparing it again is harmless'), async (t) => {
    const { driver, storage } = await fixture.host(t);
    const local = await storage();
    const usage = await driver.prepareStorage(local);
    t.is(usage.storageId, local.id);
    t.true(usage.availableBytes > 0 && usage.usedBytes >= 0);
    t.deepEqual((await driver.storageUsage()).map((entry) => entry.storageId), [local.id]);
    t.is((await driver.prepareStorage(local)).storageId, local.id);
    t.deepEqual((await driver.storageUsage()).map((entry) => entry.storageId), [local.id]);
  });

  test(title('a storage domain whose directory is missing is storage_unreachable for prepareStorage and createVolume, and storageUsage leaves it out'), async (t) => {
    const { driver, storage, removeStorageDirectory, volumeExists } = await fixture.host(t);
    const [kept, lost, never] = [await storage(), await storage(), await storage()];
    await driver.prepareStorage(kept);
    await driver.prepareStorage(lost);
    await removeStorageDirectory(lost);
    await removeStorageDirectory(never);
    await rejects(t, driver.prepareStorage(never), 'storage_unreachable');
    const volume = volumeOn(lost);
    await rejects(t, driver.createVolume(volume), 'storage_unreachable');
    t.false(await volumeExists(volume));
    t.deepEqual((await driver.storageUsage()).map((entry) => entry.storageId), [kept.id]);
  });

  test(title('prepareNetwork makes a network run on the host though no domain uses it, and preparing it again is harmless'), async (t) => {
    const { driver, networkState } = await fixture.host(t);
    const network = networkSpec();
    await driver.prepareNetwork(network);
    t.is(await networkState(network), 'running');
    await driver.prepareNetwork(network);
    t.is(await networkState(network), 'running');
  });

  test(title('releaseNetwork removes a network, and releasing one the host does not have is no error'), async (t) => {
    const { driver, networkState } = await fixture.host(t);
    const [released, kept] = [networkSpec(), networkSpec()];
    await driver.prepareNetwork(released);
    await driver.prepareNetwork(kept);
    await driver.releaseNetwork(released);
    t.is(await networkState(released), undefined);
    t.is(await networkState(kept), 'running');
    await driver.releaseNetwork(released);
    await driver.releaseNetwork(networkSpec());
  });

  test(title('releaseNetwork is invalid_state while an active domain has an interface on the network, which keeps running; once the domain is off it is released'), async (t) => {
    const { driver, networkState } = await fixture.host(t);
    const network = networkSpec();
    const spec = vmSpec({ nics: [{ ...nicDevice(), network }] });
    await driver.start(spec.id, spec);
    await rejects(t, driver.releaseNetwork(network), 'invalid_state');
    t.is(await networkState(network), 'running');
    await driver.destroy(spec.id);
    await driver.releaseNetwork(network);
    t.is(await networkState(network), undefined);
  });

  test(title('releaseStorage forgets a storage domain but keeps its volumes, and releasing an unknown one is no error'), async (t) => {
    const { driver, storage, volumeExists } = await fixture.host(t);
    const [released, kept] = [await storage(), await storage()];
    const volume = volumeOn(released);
    await driver.createVolume(volume);
    await driver.prepareStorage(kept);
    await driver.releaseStorage(released);
    t.deepEqual((await driver.storageUsage()).map((entry) => entry.storageId), [kept.id]);
    t.true(await volumeExists(volume));
    await driver.releaseStorage(released);
    await driver.releaseStorage(await storage());
    t.deepEqual((await driver.storageUsage()).map((entry) => entry.storageId), [kept.id]);
  });

  test(title('createVolume prepares the storage domain and creates empty, backed and copied volumes; the same volume again is success'), async (t) => {
    const { driver, storage, volumeExists } = await fixture.host(t);
    const local = await storage();
    const base = volumeOn(local);
    const created = await driver.createVolume(base);
    t.true(created.volume.path.length > 0);
    t.true(created.volume.actualSizeBytes >= 0);
    t.is(created.usage.storageId, local.id);
    t.deepEqual((await driver.storageUsage()).map((entry) => entry.storageId), [local.id]);
    const overlay = volumeOn(local, { backing: { storage: local, volumeId: base.volumeId, format: 'qcow2' } });
    const copy = volumeOn(local, { format: 'raw', copyOf: { storage: local, volumeId: base.volumeId, format: 'qcow2' } });
    const preallocated = volumeOn(local, { format: 'raw', capacityBytes: 4 * mib, sparse: false });
    for (const volume of [overlay, copy, preallocated]) {
      const made = await driver.createVolume(volume);
      t.true(await volumeExists(volume));
      t.not(made.volume.path, created.volume.path);
    }
    t.deepEqual((await driver.createVolume(base)).volume.path, created.volume.path);
  });

  test(title('createVolume in the place of a different volume, or on a backing or copied volume that does not exist, is hypervisor_failure and leaves nothing'), async (t) => {
    const { driver, storage, volumeExists } = await fixture.host(t);
    const local = await storage();
    const base = volumeOn(local);
    await driver.createVolume(base);
    await rejects(t, driver.createVolume({ ...base, capacityBytes: base.capacityBytes * 2 }), 'hypervisor_failure', 'another size');
    await rejects(t, driver.createVolume({ ...base, format: 'raw' }), 'hypervisor_failure', 'another format');
    t.true(await volumeExists(base), 'the volume there stays');
    const absent = { storage: local, volumeId: randomUUID(), format: 'qcow2' as const };
    for (const volume of [volumeOn(local, { backing: absent }), volumeOn(local, { copyOf: absent })]) {
      await rejects(t, driver.createVolume(volume), 'hypervisor_failure');
      t.false(await volumeExists(volume));
    }
  });

  test(title('a preallocated volume that does not fit is no_space and leaves nothing'), async (t) => {
    const { driver, storage, volumeExists } = await fixture.host(t);
    const huge = volumeOn(await storage(), { format: 'raw', capacityBytes: 2 ** 50, sparse: false });
    await rejects(t, driver.createVolume(huge), 'no_space');
    t.false(await volumeExists(huge));
  });

  test(title('deleteVolume deletes a volume and reports the space after, and deleting a volume that does not exist succeeds'), async (t) => {
    const { driver, storage, volumeExists } = await fixture.host(t);
    const volume = volumeOn(await storage());
    await driver.createVolume(volume);
    t.is((await driver.deleteVolume(volume)).storageId, volume.storage.id);
    t.false(await volumeExists(volume));
    t.is((await driver.deleteVolume(volume)).storageId, volume.storage.id);
  });

  test(title('a volume a domain refers to is in_use for deleteVolume and checkVolumeUnused, which name the domain and delete nothing; once no domain has it, both succeed'), async (t) => {
    const { driver, storage, volumeExists } = await fixture.host(t);
    const disk = diskOn(await storage());
    await driver.createVolume({ ...disk.volume, capacityBytes: 64 * mib, sparse: true });
    const spec = vmSpec({ disks: [disk] });
    await driver.define(spec);
    const checked = await rejects(t, driver.checkVolumeUnused(disk.volume), 'in_use');
    t.true(checked.message.includes(spec.name) || checked.message.includes(spec.id), checked.message);
    const refused = await rejects(t, driver.deleteVolume(disk.volume), 'in_use');
    t.true(refused.message.includes(spec.name) || refused.message.includes(spec.id), refused.message);
    t.true(await volumeExists(disk.volume), 'the volume stays');
    await driver.define({ ...spec, disks: [] });
    await driver.checkVolumeUnused(disk.volume);
    await driver.deleteVolume(disk.volume);
    t.false(await volumeExists(disk.volume));
  });

  if (abilities.hotplug) {
    test(title('plugDevice plugs a device into a running or paused domain and makes the spec its definition; unplugDevice takes it out again'), async (t) => {
      const [running, paused] = [seeded('running'), seeded('paused')];
      const { driver, definition } = await fixture.host(t, [running, paused]);
      for (const { spec, state } of [running, paused]) {
        const nic = nicDevice();
        const withNic = { ...spec, nics: [nic] };
        await resolvedWith(t, driver, await driver.plugDevice(withNic, nic.nicId), spec.id, state);
        t.deepEqual((await definition(spec.id))?.deviceIds, [nic.nicId]);
        await resolvedWith(t, driver, await driver.unplugDevice(withNic, nic.nicId), spec.id, state);
        t.deepEqual((await definition(spec.id))?.deviceIds, []);
      }
    });
  } else {
    test(title('plugDevice and unplugDevice of a running domain are not_supported by a hypervisor without hot-plug, and change nothing'), async (t) => {
      const { driver, definition } = await fixture.host(t);
      const [nic, extra] = [nicDevice(), nicDevice()];
      const spec = vmSpec({ nics: [nic] });
      await driver.start(spec.id, spec);
      await rejects(t, driver.plugDevice({ ...spec, nics: [nic, extra] }, extra.nicId), 'not_supported');
      await rejects(t, driver.unplugDevice(spec, nic.nicId), 'not_supported');
      t.deepEqual((await definition(spec.id))?.deviceIds, [nic.nicId]);
      t.is(await stateOf(driver, spec.id), 'running');
    });
  }
}
