import test from 'ava';
import { planAction, vmActions, type VmAction } from '../../../controller/rules/vm-actions.js';
import { vmStatus } from '../../../controller/rules/vm-status.js';
import { ServiceError } from '../../../controller/rules/errors.js';
import type { CommandKind, PowerState } from '../../../shared/model.js';

const onHost = (powerState: PowerState | null) => ({ name: 'vm1', hostId: 'h1', powerState });
const nowhere = { name: 'vm1', hostId: null, powerState: null };

function refusal(action: VmAction, vm: Parameters<typeof planAction>[1], hostStatus: 'up' | 'non_responsive' | undefined = 'up'): string {
  try {
    planAction(action, vm, hostStatus);
  } catch (error) {
    if (error instanceof ServiceError) return error.kind;
    throw error;
  }
  return 'accepted';
}

test('start of a shut off, suspended or never placed VM starts it, and a paused VM resumes', (t) => {
  t.deepEqual(planAction('start', nowhere, undefined), { command: 'start' });
  t.deepEqual(planAction('start', onHost('shutoff'), 'up'), { command: 'start' });
  t.deepEqual(planAction('start', onHost('suspended'), 'up'), { command: 'start' });
  t.deepEqual(planAction('start', onHost('paused'), 'up'), { command: 'resume' });
  t.is(refusal('start', onHost('running')), 'conflict');
});

test('each action maps to one command in the states that allow it and is refused as a conflict otherwise', (t) => {
  const allowed: Record<VmAction, Partial<Record<PowerState, CommandKind>>> = {
    start: { shutoff: 'start', suspended: 'start', crashed: 'start', paused: 'resume', pm_suspended: 'resume' },
    resume: { paused: 'resume', suspended: 'resume', pm_suspended: 'resume' },
    stop: { running: 'destroy', paused: 'destroy', shutting_down: 'destroy', pm_suspended: 'destroy', suspended: 'destroy' },
    shutdown: { running: 'shutdown' },
    suspend: { running: 'suspend', paused: 'suspend' },
    reboot: { running: 'reboot' },
    reset: { running: 'reset' },
    remove: { shutoff: 'undefine', suspended: 'undefine', crashed: 'undefine' },
  };
  const states: PowerState[] = ['running', 'paused', 'shutoff', 'suspended', 'shutting_down', 'crashed', 'pm_suspended'];
  for (const action of vmActions) {
    for (const state of states) {
      const expected = allowed[action][state];
      if (expected) t.is(planAction(action, onHost(state), 'up').command, expected, `${action} on ${state}`);
      else t.is(refusal(action, onHost(state)), 'conflict', `${action} on ${state}`);
    }
  }
});

test('a VM whose host does not respond cannot be acted on, and removing a never-placed VM needs no host', (t) => {
  t.is(refusal('stop', onHost('running'), 'non_responsive'), 'unavailable');
  t.is(t.throws(() => planAction('start', onHost('shutoff'), undefined), { instanceOf: ServiceError })?.kind, 'unavailable');
  t.deepEqual(planAction('remove', nowhere, undefined), { command: null });
});

test('a VM active on two hosts at once can only be stopped or shut down, on its own host; nothing starts it again', (t) => {
  const twice = (powerState: PowerState) => ({ name: 'vm1', hostId: 'h1', powerState, duplicateHostId: 'h2' });
  t.deepEqual(planAction('stop', twice('running'), 'up'), { command: 'destroy' });
  t.deepEqual(planAction('shutdown', twice('running'), 'up'), { command: 'shutdown' });
  for (const action of ['start', 'resume', 'suspend', 'reboot', 'remove'] as const) {
    t.is(refusal(action, twice('paused')), 'conflict', `${action} on a paused copy`);
    t.is(refusal(action, twice('running')), 'conflict', `${action} on a running copy`);
  }
});

test('status comes from the reported power state, the host, and the task in flight', (t) => {
  t.is(vmStatus(null, null, undefined, undefined), 'down');
  t.is(vmStatus('running', 'h1', 'up', undefined), 'up');
  t.is(vmStatus('paused', 'h1', 'up', undefined), 'paused');
  t.is(vmStatus('suspended', 'h1', 'up', undefined), 'suspended');
  t.is(vmStatus('shutoff', 'h1', 'up', 'start'), 'powering_up');
  t.is(vmStatus('running', 'h1', 'up', 'start'), 'up', 'a start that already took effect shows the reported state');
  t.is(vmStatus('running', 'h1', 'up', 'shutdown'), 'powering_down');
  t.is(vmStatus('suspended', 'h1', 'up', 'start'), 'restoring_state');
  t.is(vmStatus('running', 'h1', 'up', 'suspend'), 'saving_state');
  t.is(vmStatus('running', 'h1', 'non_responsive', undefined), 'not_responding');
  t.is(vmStatus('shutoff', 'h1', 'non_responsive', undefined), 'unknown');
  t.is(vmStatus('running', 'h1', 'non_operational', undefined), 'not_responding', 'a host that cannot reach its hypervisor cannot tell');
  t.is(vmStatus('paused', 'h1', 'non_operational', 'start'), 'not_responding');
  t.is(vmStatus('running', 'h1', 'up', undefined, 'h2'), 'unknown', 'a VM active on two hosts at once');
});
