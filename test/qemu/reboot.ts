import type { ExecutionContext, TestFn } from 'ava';
import { LibvirtConnection } from '../../agent/hypervisor/libvirt/native/index.js';
import { eventually } from '../support/eventually.js';
import { ProcessSystem } from '../support/process-system.js';
import type { DatabaseKind } from '../support/scratch-database.js';

type Test = TestFn<unknown>;

const rebootTimeoutMs = 2_000;

/** Counts the reboot events (a reset makes one or more, as the firmware restarts) QEMU reports for each domain, on a connection of the test's own. */
async function watchReboots(t: ExecutionContext, uri: string): Promise<Map<string, number>> {
  const reboots = new Map<string, number>();
  const connection = new LibvirtConnection(uri);
  await connection.open();
  t.teardown(() => connection.close());
  await connection.onDomainReboot((uuid) => reboots.set(uuid, (reboots.get(uuid) ?? 0) + 1));
  return reboots;
}

/** Reboot and reset on real QEMU: a guest with no operating system ignores the ACPI reboot request, so only a reset restarts it. */
export function qemuRebootSuite(test: Test, database: DatabaseKind): void {
  test.serial(`[${database}] QEMU: a guest that ignores the reboot request is reset after the agent's reboot timeout and the answer says so; reset restarts a running guest at once and is refused for a stopped one`, async (t) => {
    const system = await ProcessSystem.start(database, { alpha: { qemu: true, rebootTimeoutMs } });
    t.teardown(() => system.close());
    const daemon = system.qemuDaemon('alpha');
    const reboots = await watchReboots(t, daemon.uri);
    const vmId = await system.api.createVm('qemu-reboot', 128);
    const started = await system.api.action(vmId, 'start');
    t.is(started.status, 200, started.text);

    const askedAt = Date.now();
    const rebooted = await system.api.action(vmId, 'reboot');
    t.is(rebooted.status, 200, rebooted.text);
    t.is(rebooted.body.action.status, 'complete');
    t.true(Date.now() - askedAt >= rebootTimeoutMs, 'the agent waited for the guest first');
    t.is(rebooted.body.action.description, `the guest did not reboot within ${rebootTimeoutMs / 1000} s of the request and was reset`);
    await eventually(() => (reboots.get(vmId) ?? 0) > 0, 'QEMU to report the reset');
    const task = await system.api.get(`/tasks/${rebooted.body.action.task.id}`);
    t.is(task.body.task.description, rebooted.body.action.description, 'the task keeps what happened');
    t.is(await system.api.vmStatus(vmId), 'up');
    t.regex(await daemon.virsh('domstate', vmId), /running/);

    const rebootsBefore = reboots.get(vmId)!;
    const resetAt = Date.now();
    const reset = await system.api.action(vmId, 'reset');
    t.is(reset.status, 200, reset.text);
    t.is(reset.body.action.status, 'complete');
    t.true(Date.now() - resetAt < rebootTimeoutMs, 'a reset does not ask the guest first');
    await eventually(() => reboots.get(vmId)! > rebootsBefore, 'QEMU to report the second reset');
    t.is(await system.api.vmStatus(vmId), 'up');

    const stopped = await system.api.action(vmId, 'stop');
    t.is(stopped.status, 200, stopped.text);
    const refused = await system.api.action(vmId, 'reset');
    t.is(refused.status, 409, refused.text);
    t.regex(refused.body.fault.detail, /cannot reset VM qemu-reboot: it is shutoff, not running/);
    const actions = (await system.api.get(`/vms/${vmId}/tasks`)).body.tasks.task.map((entry: { action: string }) => entry.action);
    t.deepEqual(actions, ['stop', 'reset', 'reboot', 'start'], 'the refused reset left no task');
  });
}
