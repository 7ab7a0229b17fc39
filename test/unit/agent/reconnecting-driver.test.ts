import test from 'ava';
import type { Reachability } from '../../../agent/hypervisor/driver.js';
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
