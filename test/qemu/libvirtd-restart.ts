import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ExecutionContext, TestFn } from 'ava';
import type { ApiResponse } from '../support/api.js';
import { eventually } from '../support/eventually.js';
import { ProcessSystem } from '../support/process-system.js';
import { isProcessAlive, type QemuDaemon } from '../support/qemu-daemon.js';
import type { DatabaseKind } from '../support/scratch-database.js';

type Test = TestFn<unknown>;

/** The process id of a running guest's QEMU, from the pid file its daemon keeps. */
async function qemuPid(daemon: QemuDaemon, vmId: string): Promise<number> {
  const name = (await daemon.virsh('domname', vmId)).trim();
  return Number((await readFile(path.join(daemon.privatePath('/run/libvirt'), 'qemu', `${name}.pid`), 'utf8')).trim());
}

function expectUnavailable(t: ExecutionContext, response: ApiResponse, what: string): void {
  t.is(response.status, 503, `${what}: ${response.text}`);
  const fault = response.body?.fault ?? response.body?.action?.fault;
  t.is(fault?.reason, 'Host Unavailable', `${what} answers an oVirt fault: ${response.text}`);
  t.regex(String(fault?.detail), /hypervisor/, `${what} says the hypervisor is out of reach`);
}

/** The agent's hold on libvirt on real QEMU: libvirtd goes away and comes back while a guest runs. */
export function libvirtdRestartSuite(test: Test, database: DatabaseKind): void {
  test.serial(`[${database}] QEMU: while libvirtd is down the host is non_operational, actions answer 503 and the guest runs on; after libvirtd returns the host is up again with the VM up where it was`, async (t) => {
    // Heartbeats every 3 s: the agent is frozen for a moment below, which must not make its host non_responsive.
    const system = await ProcessSystem.start(database, { alpha: { qemu: true } }, { heartbeatMs: 3_000 });
    t.teardown(() => system.close());
    const daemon = system.qemuDaemon('alpha');
    const alpha = await system.hostId('alpha');
    const vmId = await system.api.createVm('outlives-libvirtd', 128);
    const started = await system.api.action(vmId, 'start');
    t.is(started.status, 200, started.text);
    t.is(await system.api.vmStatus(vmId), 'up');
    const pid = await qemuPid(daemon, vmId);
    t.true(isProcessAlive(pid), 'QEMU runs the guest');

    // A command that reaches the agent while libvirtd is gone: the agent is frozen before libvirtd stops, so
    // the controller still believes the host up and sends the stop; the agent thaws to a dead connection.
    system.signalAgent('alpha', 'SIGSTOP');
    await daemon.stopDaemonOnly();
    const stopping = system.api.action(vmId, 'stop');
    await eventually(async () => (await system.api.vmStatus(vmId)) === 'powering_down', 'the stop to be sent to the frozen agent');
    system.signalAgent('alpha', 'SIGCONT');
    expectUnavailable(t, await stopping, 'a stop the agent could not carry out');
    await system.waitForHostStatus('alpha', 'non_operational');
    const host = (await system.api.get(`/hosts/${alpha}`, { accept: 'json' })).body;
    t.regex(host.status_detail, /cannot reach the hypervisor/, 'the host says why it is non_operational');
    const vm = await system.api.vm(vmId);
    t.is(vm.host?.id, alpha, 'the VM keeps its host: nothing is inferred from a failed read');
    t.is(vm.status, 'not_responding', 'its state is unknown, not down');
    t.true(isProcessAlive(pid), 'the guest runs on without libvirtd');

    expectUnavailable(t, await system.api.action(vmId, 'suspend'), 'an action while the host is non_operational');
    t.true(isProcessAlive(pid));

    await daemon.start();
    await system.waitForHostStatus('alpha', 'up', 30_000);
    const after = await system.api.vm(vmId);
    t.is(after.status, 'up', 'the reconnected agent reports the guest running');
    t.is(after.host?.id, alpha, 'on the same host');
    t.is(await qemuPid(daemon, vmId), pid, 'the same QEMU process: nothing started a second copy');
    const stopped = await system.api.action(vmId, 'stop');
    t.is(stopped.status, 200, stopped.text);
    t.is(await system.api.vmStatus(vmId), 'down');
    await eventually(() => !isProcessAlive(pid), 'the guest to be gone after the stop');
    const agentLog = system.host('alpha').output.join('');
    t.true(agentLog.includes('reconnected to the hypervisor'), 'the agent reconnected');
    t.false(agentLog.includes('listing domains failed'), 'the agent did not log a failed listing on every poll');
  });

  test.serial(`[${database}] QEMU: a libvirtd that hangs makes its host non_operational once the agent's ping has waited 15 s (the agent keeps the connection, which libvirt's client needs to survive); the host is up again once libvirtd answers`, async (t) => {
    const system = await ProcessSystem.start(database, { alpha: { qemu: true } });
    const daemon = system.qemuDaemon('alpha');
    const libvirtd = Number((await readFile(path.join(daemon.directory, 'libvirtd.pid'), 'utf8')).trim());
    t.teardown(async () => {
      process.kill(libvirtd, 'SIGCONT');
      await system.close();
    });
    process.kill(libvirtd, 'SIGSTOP');
    await system.waitForHostStatus('alpha', 'non_operational', 40_000);
    const host = (await system.api.get(`/hosts/${await system.hostId('alpha')}`, { accept: 'json' })).body;
    t.regex(host.status_detail, /cannot reach the hypervisor/);
    process.kill(libvirtd, 'SIGCONT');
    try {
      await system.waitForHostStatus('alpha', 'up', 60_000);
    } catch (error) {
      t.log(system.host('alpha').output.join('').split('\n').slice(-40).join('\n'));
      throw error;
    }
    t.regex(await daemon.virsh('list', '--all'), /Id/, 'libvirtd answers again');
  });
}
