import type { ExecutionContext, TestFn } from 'ava';
import { DomainState, type Hypervisor } from '@unraid/libvirt';
import { ProcessSystem } from '../support/process-system.js';
import { eventually } from '../support/eventually.js';
import type { DatabaseKind } from '../support/scratch-database.js';

/** The ids of the domains a libvirt host runs (or holds paused), read from libvirt itself. */
async function activeDomains(libvirt: Hypervisor): Promise<Set<string>> {
  const active = new Set<string>();
  for (const domain of await libvirt.connectListAllDomains()) {
    const { state } = await libvirt.domainGetInfo(domain);
    if (state === DomainState.RUNNING || state === DomainState.PAUSED || state === DomainState.BLOCKED) active.add(await libvirt.domainGetUUIDString(domain));
  }
  return active;
}

/** Fails when one of the VMs is active on more than one host, reading every host's libvirt; answers where each active one runs. */
async function assertNoTwoCopies(t: ExecutionContext, system: ProcessSystem, names: string[], vms: string[]): Promise<Map<string, string>> {
  const where = new Map<string, string>();
  for (const name of names) {
    for (const id of await activeDomains(system.host(name).daemon!.hypervisor)) {
      if (!vms.includes(id)) continue;
      t.false(where.has(id), `VM ${id} runs on ${where.get(id)} and on ${name}`);
      where.set(id, name);
    }
  }
  return where;
}

type Test = TestFn<unknown>;

/** Registers the agent-failure and controller-restart scenarios for one database. */
export function resilienceSuite(test: Test, database: DatabaseKind): void {
  test.serial(`[${database}] a killed agent makes its host non_responsive; restarted, it reconnects and VM states match libvirt`, async (t) => {
    const system = await ProcessSystem.start(database, { alpha: { daemon: true }, beta: { memoryMiB: 1024 } });
    t.teardown(() => system.close());
    const alpha = await system.hostId('alpha');
    const running = await system.api.createVm('keeps-running', 256);
    const stopped = await system.api.createVm('stays-down', 256);
    for (const id of [running, stopped]) {
      t.is((await system.api.action(id, 'start')).status, 200);
      t.is((await system.api.vm(id)).host.id, alpha);
    }
    t.is((await system.api.action(stopped, 'stop')).status, 200);
    const libvirt = system.host('alpha').daemon!.hypervisor;
    const domainState = async (id: string) => (await libvirt.domainGetInfo(await libvirt.domainLookupByUUIDString(id))).state;

    await system.killAgent('alpha');
    await system.waitForHostStatus('alpha', 'non_responsive', 5_000);
    t.is(await system.api.vmStatus(running), 'not_responding');
    t.is(await system.api.vmStatus(stopped), 'unknown');
    t.is(await domainState(running), DomainState.RUNNING, 'the guest keeps running while its agent is away');
    const refused = await system.api.action(running, 'stop');
    t.is(refused.status, 503, refused.text);
    t.regex(refused.body.fault.detail, /not responding/);
    t.is((await system.hostId('beta')) !== alpha, true);
    t.is((await system.api.hosts()).find((host) => host.name === 'beta').status, 'up', 'the other host is unaffected');

    await system.startAgent('alpha');
    await system.waitForHostStatus('alpha', 'up');
    await system.waitForVmStatus(running, 'up');
    t.is(await system.api.vmStatus(stopped), 'down');
    t.is(await domainState(running), DomainState.RUNNING);
    t.is((await system.api.hosts()).filter((host) => host.name.startsWith('alpha')).length, 1, 'the host kept its identity');

    await libvirt.domainSuspend(await libvirt.domainLookupByUUIDString(running));
    await system.waitForVmStatus(running, 'paused', 2_000);
    t.is((await system.api.action(running, 'resume')).status, 200);
    t.is(await domainState(running), DomainState.RUNNING);
    t.is((await system.api.action(running, 'stop')).status, 200);
    t.is(await domainState(running), DomainState.SHUTOFF);
  });

  test.serial(`[${database}] a controller restarted mid-queue runs every queued task once`, async (t) => {
    const system = await ProcessSystem.start(database, { alpha: { memoryMiB: 4096 } }, { heartbeatMs: 3000 });
    t.teardown(() => system.close());
    const vmId = await system.api.createVm('survivor', 256);
    system.signalAgent('alpha', 'SIGSTOP');
    const actions = ['start', 'suspend', 'start', 'stop', 'start'];
    const taskIds: string[] = [];
    for (const action of actions) {
      const response = await system.api.post(`/vms/${vmId}/tasks`, `<task><action>${action}</action></task>`);
      t.is(response.status, 201, response.text);
      taskIds.push(response.body.task.id);
    }
    await eventually(async () => (await system.api.get(`/tasks/${taskIds[0]}`)).body.task.status === 'running', 'the first task to be dispatched');

    await system.killController('SIGKILL');
    await system.startController();
    system.signalAgent('alpha', 'SIGCONT');

    for (const id of taskIds) {
      const task = (await system.api.get(`/tasks/${id}?wait=30`)).body.task;
      t.is(task.status, 'finished', `task ${task.action} ${id}: ${JSON.stringify(task.fault ?? '')}`);
    }
    await system.waitForVmStatus(vmId, 'up');
    const executed = system.executedCommands('alpha');
    for (const id of taskIds) t.is(executed.filter((commandId) => commandId === id).length, 1, `task ${id} executed exactly once`);
  });

  test.serial(`[${database}] a controller killed while a host's agent is frozen never starts that host's VMs elsewhere; they are unknown until the host reports`, async (t) => {
    const system = await ProcessSystem.start(database, { alpha: { daemon: true }, beta: { daemon: true } }, { heartbeatMs: 2000 });
    t.teardown(() => system.close());
    const vms: string[] = [];
    for (let index = 0; index < 12; index++) vms.push(await system.api.createVm(`owned-${index}`, 128));
    for (const id of vms) t.is((await system.api.action(id, 'start')).status, 200);
    const before = await assertNoTwoCopies(t, system, ['alpha', 'beta'], vms);
    const onBeta = vms.filter((id) => before.get(id) === 'beta');
    const onAlpha = vms.filter((id) => before.get(id) === 'alpha');
    t.true(onBeta.length > 0 && onAlpha.length > 0, `the VMs are spread over both hosts (${onAlpha.length} on alpha, ${onBeta.length} on beta)`);

    system.signalAgent('beta', 'SIGSTOP');
    await system.killController('SIGKILL');
    await system.startController();

    for (const id of onBeta) t.is(await system.api.vmStatus(id), 'unknown', 'a VM of the silent host is unknown');
    t.is((await system.api.hosts()).find((host) => host.name === 'beta').status, 'connecting');
    const waiting = await system.api.action(onBeta[0]!, 'start', { async: true });
    t.is(waiting.status, 202, waiting.text);
    const cancelled = await system.api.action(onBeta.at(-1)!, 'stop', { async: true });
    if (cancelled.status === 202) {
      const taskId = cancelled.body.action.task.id;
      t.is((await system.api.get(`/tasks/${taskId}`, { accept: 'json' })).body.status, 'queued', 'a task waiting for its host is queued');
      const cancel = await system.api.delete(`/tasks/${taskId}`, { accept: 'json' });
      t.is(cancel.status, 200, cancel.text);
      t.is(cancel.body.status, 'cancelled', 'and can be cancelled');
    } else {
      t.is(cancelled.status, 503, `a stop waits, or is refused once the host is declared non-responsive: ${cancelled.text}`);
    }
    const removal = await system.api.delete(`/vms/${onBeta[1] ?? onBeta[0]}?async=true`);
    t.true(removal.status === 202 || removal.status === 503, `a removal waits, or is refused once the host is declared non-responsive: ${removal.text}`);
    await system.waitForHostStatus('alpha', 'up');
    for (const id of onAlpha) await system.waitForVmStatus(id, 'up');

    await system.waitForHostStatus('beta', 'non_responsive', 15_000);
    for (const id of onBeta) t.is(await system.api.vmStatus(id), 'unknown', 'still unknown once the host is declared non-responsive');
    const startTask = await system.api.task(waiting.body.action.task.id);
    t.is(startTask.status, 'failed', 'the waiting start failed once the host was declared non-responsive, and did not run elsewhere');
    t.regex(startTask.fault?.detail ?? '', /not responding/);
    const refused = await system.api.action(onBeta[0]!, 'start');
    t.is(refused.status, 503, refused.text);
    const removeRefused = await system.api.delete(`/vms/${onBeta[0]}`);
    t.is(removeRefused.status, 503, removeRefused.text);
    await assertNoTwoCopies(t, system, ['alpha', 'beta'], vms);
    t.deepEqual([...(await activeDomains(system.host('alpha').daemon!.hypervisor))].filter((id) => onBeta.includes(id)), [], "no VM of the silent host started on the other host");

    system.signalAgent('beta', 'SIGCONT');
    await system.waitForHostStatus('beta', 'up', 20_000);
    for (const id of onBeta) await system.waitForVmStatus(id, 'up');
    const after = await assertNoTwoCopies(t, system, ['alpha', 'beta'], vms);
    for (const id of vms) t.is(after.get(id), before.get(id), `VM ${id} runs where it ran`);
    for (const id of vms) t.is((await system.api.vm(id)).host.id, await system.hostId(before.get(id)!));
  });

  test.serial(`[${database}] actions submitted right after a controller restart wait for the hosts to report instead of failing`, async (t) => {
    // Three heartbeats of 2 s outlast the agents' longest reconnect backoff (5 s), as the default 5 s heartbeat does.
    const system = await ProcessSystem.start(database, { alpha: { memoryMiB: 8192 }, beta: { memoryMiB: 8192 } }, { heartbeatMs: 2000 });
    t.teardown(() => system.close());
    const vms: string[] = [];
    for (let index = 0; index < 16; index++) vms.push(await system.api.createVm(`restart-${index}`, 128));
    const running = vms.slice(0, 8);
    const stopped = vms.slice(8);
    for (const id of running) t.is((await system.api.action(id, 'start')).status, 200);
    await system.killController('SIGKILL');
    await system.startController();

    const submitted = await Promise.all([
      ...running.map((id) => system.api.action(id, 'stop', { async: true })),
      ...stopped.map((id) => system.api.action(id, 'start', { async: true })),
    ]);
    for (const response of submitted) t.is(response.status, 202, response.text);
    for (const response of submitted) {
      const task = await system.api.task(response.body.action.task.id);
      t.is(task.status, 'finished', `${task.action} of VM ${task.vm?.id}: ${JSON.stringify(task.fault ?? '')}`);
    }
    for (const id of running) t.is(await system.api.vmStatus(id), 'down');
    for (const id of stopped) t.is(await system.api.vmStatus(id), 'up');
  });
}
