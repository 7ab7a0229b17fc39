import test from 'ava';
import { RebootWatch, rebootCompletesInCall } from '../../../agent/hypervisor/libvirt/reboot-watch.js';

const uuid = '6f1c2a3b-0000-4000-8000-000000000001';

test('a wait counts only the reboots of its domain that come after it began, whatever the case of the UUID', async (t) => {
  const watch = new RebootWatch();
  watch.rebooted(uuid);
  const pending = watch.next(uuid);
  watch.rebooted('6f1c2a3b-0000-4000-8000-000000000002');
  t.false(await pending.within(20), 'an earlier reboot and another domain\'s do not count');
  const next = watch.next(uuid);
  const rebooted = next.within(10_000);
  watch.rebooted(uuid.toUpperCase());
  t.true(await rebooted);
});

test('a reboot that came before within was called still counts, and cancelling ends a wait', async (t) => {
  const watch = new RebootWatch();
  const early = watch.next(uuid);
  watch.rebooted(uuid);
  t.true(await early.within(0));
  const cancelled = watch.next(uuid);
  const waiting = cancelled.within(10_000);
  cancelled.cancel();
  t.false(await waiting);
});

test('only libvirt\'s test driver completes a reboot within the call', (t) => {
  t.true(rebootCompletesInCall('TEST'));
  t.false(rebootCompletesInCall('QEMU'));
});
