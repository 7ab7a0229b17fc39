import test from 'ava';
import type { HypervisorDriver, Reachability } from '../../../agent/hypervisor/driver.js';
import { FakeDriver } from '../../../agent/hypervisor/fake/driver.js';
import { ReconnectingDriver } from '../../../agent/hypervisor/reconnecting-driver.js';
import { eventually } from '../../support/eventually.js';
import { vmSpec } from './helpers.js';

async function openDriver(t: { teardown: (fn: () => Promise<void>) => void }) {
  const fake = new FakeDriver();
  const driver = new ReconnectingDriver(fake, { livenessCheckMs: 10, initialBackoffMs: 10, maxBackoffMs: 40 });
  const heard: Reachability[] = [];
  driver.onReachabilityChange((reachability) => heard.push(reachability));
  await driver.open();
  t.teardown(() => driver.close());
  return { fake, driver, heard };
}

test('a call on a dead connection rejects with hypervisor_unreachable, the loss is told once, and later calls reject at once', async (t) => {
  const { fake, driver, heard } = await openDriver(t);
  const spec = vmSpec();
  await driver.start(spec.id, spec);
  fake.stopHypervisor();
  await t.throwsAsync(driver.destroy(spec.id), { message: /unreachable.*client socket is closed/ });
  const lookups = fake.lookups;
  await t.throwsAsync(driver.getDomain(spec.id), { message: /unreachable/ });
  await t.throwsAsync(driver.listDomains(), { message: /unreachable/ });
  t.is(fake.lookups, lookups, 'the hypervisor is not asked while unreachable');
  t.deepEqual(heard, [{ reachable: false, reason: 'internal error: client socket is closed' }]);
});

test('the liveness check notices a dead connection without a call, and the driver keeps trying to reconnect until the hypervisor is back', async (t) => {
  const { fake, driver, heard } = await openDriver(t);
  const spec = vmSpec();
  await driver.start(spec.id, spec);
  fake.stopHypervisor();
  await eventually(() => heard.length === 1, 'the loss to be told');
  t.like(heard[0], { reachable: false });
  await eventually(() => !fake.opened, 'a first attempt to reconnect, which closes the dead connection');
  fake.startHypervisor();
  await eventually(() => heard.length === 2, 'the reconnection to be told');
  t.deepEqual(heard[1], { reachable: true });
  t.is((await driver.getDomain(spec.id))?.state, 'running', 'the domain ran on meanwhile');
});

test('errors of a live connection pass through unchanged', async (t) => {
  const { fake, driver, heard } = await openDriver(t);
  fake.failNext('start', 'hypervisor_failure', 'no capacity');
  const spec = vmSpec();
  await t.throwsAsync(driver.start(spec.id, spec), { message: 'no capacity' });
  t.deepEqual(heard, []);
});

/** Every member of the driver interface: adding one to the interface fails compilation here until it is listed. */
const driverMembers = {
  open: true, close: true, nodeFacts: true, onDomainChange: true, onReachabilityChange: true, listDomains: true, getDomain: true,
  define: true, start: true, shutdown: true, destroy: true, resume: true, suspend: true, reboot: true, reset: true, undefine: true,
  prepareStorage: true, releaseStorage: true, storageUsage: true, createVolume: true, deleteVolume: true, checkVolumeUnused: true,
  plugDevice: true, unplugDevice: true, prepareNetwork: true, releaseNetwork: true,
  listIsoFiles: true, changeMedium: true, readMedium: true, setConsoleTicket: true, describeConsole: true,
  migrate: true, migrationJob: true, abortMigration: true, migrationIdOf: true, prepareIncoming: true,
} satisfies Record<keyof HypervisorDriver, true>;

test('the reconnecting driver has every member of the driver interface, optional ones included, so production agents lose none', (t) => {
  const missing = Object.keys(driverMembers).filter((name) => typeof Reflect.get(ReconnectingDriver.prototype, name) !== 'function');
  t.deepEqual(missing, [], 'a member missing here would not exist on every production agent');
});

test('an optional operation the wrapped driver lacks is not_supported, as the agent answers for such a driver', async (t) => {
  const { driver } = await openDriver(t);
  await t.throwsAsync(driver.setConsoleTicket(vmSpec().id, { password: 'x', validSeconds: 1, protocol: 'vnc' }), { message: /cannot setConsoleTicket/ });
});

test('a hypervisor that stops answering its pings is told unreachable once a ping has waited the answer timeout, new calls reject at once, and the connection is kept until the ping is answered, which tells it reachable again', async (t) => {
  const fake = new FakeDriver();
  const driver = new ReconnectingDriver(fake, { livenessCheckMs: 10, initialBackoffMs: 10, maxBackoffMs: 40, pingIntervalMs: 20, answerTimeoutMs: 200 });
  const heard: Reachability[] = [];
  driver.onReachabilityChange((reachability) => heard.push(reachability));
  await driver.open();
  t.teardown(() => driver.close());
  const spec = vmSpec();
  await driver.start(spec.id, spec);
  fake.pingDelayMs = 600;
  await eventually(() => heard.length === 1, 'the hang to be told');
  t.like(heard[0], { reachable: false });
  t.regex((heard[0] as { reason: string }).reason, /has not answered for \d+ s/);
  await t.throwsAsync(driver.getDomain(spec.id), { message: /unreachable.*has not answered/ });
  t.true(fake.opened, 'the connection stays open under the waiting ping');
  fake.pingDelayMs = 0;
  await eventually(() => heard.length === 2, 'the answer to be told');
  t.deepEqual(heard[1], { reachable: true });
  t.is((await driver.getDomain(spec.id))?.state, 'running');
});

test('a call that takes longer than the answer timeout is not taken for a hung hypervisor while its pings are answered', async (t) => {
  const fake = new FakeDriver();
  const driver = new ReconnectingDriver(fake, { livenessCheckMs: 10, initialBackoffMs: 10, maxBackoffMs: 40, pingIntervalMs: 20, answerTimeoutMs: 100 });
  const heard: Reachability[] = [];
  driver.onReachabilityChange((reachability) => heard.push(reachability));
  await driver.open();
  t.teardown(() => driver.close());
  const spec = vmSpec();
  await driver.define(spec);
  fake.delay('start', 400);
  t.is((await driver.start(spec.id, spec))?.state, 'running');
  t.deepEqual(heard, []);
});
