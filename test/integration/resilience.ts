import type { TestFn } from 'ava';
import { DomainState } from '@unraid/libvirt';
import { ProcessSystem } from '../support/process-system.js';
import { eventually } from '../support/eventually.js';
import type { DatabaseKind } from '../support/scratch-database.js';

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
}
