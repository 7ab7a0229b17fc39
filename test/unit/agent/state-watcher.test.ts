import test from 'ava';
import { FakeDriver } from '../../../agent/hypervisor/fake/driver.js';
import { StateWatcher } from '../../../agent/watch/state-watcher.js';
import type { DomainChange } from '../../../shared/model.js';
import { vmSpec } from './helpers.js';
import { eventually } from '../../support/eventually.js';

async function watch(t: { teardown: (fn: () => Promise<void>) => void }, driver: FakeDriver, pollIntervalMs = 20) {
  const changes: DomainChange[] = [];
  const watcher = new StateWatcher({ driver, pollIntervalMs, onChange: (change) => changes.push(change) });
  await watcher.start();
  t.teardown(() => watcher.stop());
  return { watcher, changes };
}

/** A watcher of a fake host with one defined domain, its first poll's changes cleared. */
async function watchOneDomain(t: { teardown: (fn: () => Promise<void>) => void }, pollIntervalMs?: number) {
  const driver = new FakeDriver();
  const spec = vmSpec();
  await driver.define(spec);
  const { watcher, changes } = await watch(t, driver, pollIntervalMs);
  changes.length = 0;
  return { driver, spec, watcher, changes };
}

test('the first poll reports every domain and the snapshot holds them', async (t) => {
  const driver = new FakeDriver();
  const spec = vmSpec();
  await driver.define(spec);
  driver.addDomain({ uuid: '11111111-0000-4000-8000-000000000001', name: 'outsider', state: 'running', managed: false });
  const { watcher, changes } = await watch(t, driver);
  t.is(changes.length, 2);
  t.true(changes.every((change) => !change.removed));
  t.deepEqual(watcher.snapshot().map((domain) => domain.uuid).sort(), [spec.id, '11111111-0000-4000-8000-000000000001'].sort());
});

test('changes made behind the agent are emitted once each', async (t) => {
  const { driver, spec, changes } = await watchOneDomain(t);
  driver.setState(spec.id, 'running');
  await eventually(() => changes.length === 1, 'the running change', 2_000);
  t.deepEqual(changes[0], { domain: { uuid: spec.id, name: `drover-${spec.id}`, state: 'running', managed: true }, removed: false });
  driver.setState(spec.id, 'crashed');
  await eventually(() => changes.length === 2, 'the crashed change', 2_000);
  t.is(changes[1].domain.state, 'crashed');
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.is(changes.length, 2);
});

test('removals and new domains are emitted', async (t) => {
  const driver = new FakeDriver();
  const [kept, removed] = [vmSpec(), vmSpec()];
  await driver.define(kept);
  await driver.define(removed);
  const { changes, watcher } = await watch(t, driver);
  changes.length = 0;
  driver.removeDomain(removed.id);
  const added = vmSpec();
  await driver.define(added);
  await eventually(() => changes.length === 2, 'two changes', 2_000);
  t.deepEqual(changes.find((change) => change.removed)?.domain.uuid, removed.id);
  t.deepEqual(changes.find((change) => !change.removed)?.domain.uuid, added.id);
  t.false(watcher.snapshot().some((domain) => domain.uuid === removed.id));
});

test('pollNow reflects a change made before the call even while a poll runs', async (t) => {
  const { driver, spec, watcher, changes } = await watchOneDomain(t, 60_000);
  const listsBefore = driver.listCalls;
  const during = watcher.pollNow();
  driver.setState(spec.id, 'paused');
  await Promise.all([watcher.pollNow(), watcher.pollNow(), during]);
  t.deepEqual(changes.map((change) => change.domain.state), ['paused']);
  t.is(driver.listCalls - listsBefore, 2);
});

test('a change the driver reports makes the watcher read that domain at once, and a burst costs at most two reads and no listing', async (t) => {
  const { driver, spec, changes } = await watchOneDomain(t, 60_000);
  const listsBefore = driver.listCalls;
  const lookupsBefore = driver.lookups;
  driver.setState(spec.id, 'running');
  for (let index = 0; index < 20; index++) driver.reportChange(spec.id);
  await eventually(() => changes.length === 1, 'the reported change', 1_000);
  t.is(changes[0].domain.state, 'running');
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.is(driver.listCalls, listsBefore);
  t.true(driver.lookups - lookupsBefore <= 2, `${driver.lookups - lookupsBefore} reads`);
  t.deepEqual(changes.length, 1);
});

test('changes reported while a command holds a domain are read once, after the hold ends', async (t) => {
  const { driver, spec, watcher, changes } = await watchOneDomain(t, 60_000);
  const lookupsBefore = driver.lookups;
  const release = watcher.hold(spec.id);
  driver.setState(spec.id, 'running');
  driver.reportChange(spec.id);
  driver.reportChange(spec.id);
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.is(driver.lookups, lookupsBefore, 'nothing is read while the domain is held');
  t.deepEqual(changes, []);
  release();
  release();
  await eventually(() => changes.length === 1, 'the change read after the hold', 1_000);
  t.is(changes[0].domain.state, 'running');
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.is(driver.lookups - lookupsBefore, 1, 'one read for both reports');

  const other = vmSpec();
  await driver.define(other);
  driver.reportChange(other.id);
  await eventually(() => changes.some((change) => change.domain.uuid === other.id), 'the second domain', 1_000);
  const held = watcher.hold(spec.id);
  const lookups = driver.lookups;
  driver.setState(other.id, 'running');
  driver.reportChange(other.id);
  await eventually(() => changes.some((change) => change.domain.uuid === other.id && change.domain.state === 'running'), 'a domain that is not held is read at once', 1_000);
  t.is(driver.lookups - lookups, 1);
  held();
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.is(driver.lookups - lookups, 1, 'a hold with no reports reads nothing when it ends');
});

test('after a hold, no read is made when the last report implies the state the command observed, or reports only a definition', async (t) => {
  const { driver, spec, watcher, changes } = await watchOneDomain(t, 60_000);
  const settle = () => new Promise((resolve) => setTimeout(resolve, 60));

  let lookups = driver.lookups;
  let release = watcher.hold(spec.id);
  driver.setState(spec.id, 'running');
  watcher.observe(spec.id, await driver.getDomain(spec.id), { reportedElsewhere: true });
  lookups = driver.lookups;
  driver.reportChange(spec.id, 'definition');
  driver.reportChange(spec.id, 'running');
  release();
  await settle();
  t.is(driver.lookups, lookups, 'defined then started, as observed: nothing to read');
  t.deepEqual(changes, [], 'and nothing to report: the command result carried the state');

  release = watcher.hold(spec.id);
  driver.reportChange(spec.id, 'definition');
  release();
  await settle();
  t.is(driver.lookups, lookups, 'a redefinition alone is covered by the command');

  release = watcher.hold(spec.id);
  driver.setState(spec.id, 'paused');
  driver.reportChange(spec.id, 'running');
  driver.reportChange(spec.id, 'paused');
  release();
  await eventually(() => changes.length === 1, 'the pause the command did not observe', 1_000);
  t.is(driver.lookups - lookups, 1);
  t.is(changes[0].domain.state, 'paused');

  lookups = driver.lookups;
  release = watcher.hold(spec.id);
  driver.setState(spec.id, 'shutoff');
  driver.reportChange(spec.id, undefined);
  release();
  await eventually(() => changes.length === 2, 'a report that implies nothing is read', 1_000);
  t.is(driver.lookups - lookups, 1);
  t.is(changes[1].domain.state, 'shutoff');
});

test('a stopped watcher ignores reported changes', async (t) => {
  const driver = new FakeDriver();
  const { watcher } = await watch(t, driver, 60_000);
  await watcher.stop();
  const listsBefore = driver.listCalls;
  const lookupsBefore = driver.lookups;
  driver.reportChange('9b6a3f0e-0000-4000-8000-00000000dead');
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.is(driver.listCalls, listsBefore);
  t.is(driver.lookups, lookupsBefore);
});
