import test from 'ava';
import { AgentHub, type AgentSessionSink } from '../../../controller/agents/agent-hub.js';
import type { HostCommand } from '../../../shared/model.js';
import { ServiceError } from '../../../controller/rules/errors.js';

function recordingSession(): AgentSessionSink & { sent: HostCommand[]; closed: string[] } {
  const sent: HostCommand[] = [];
  const closed: string[] = [];
  return { sent, closed, sendCommand: (command) => sent.push(command), close: (reason) => closed.push(reason) };
}

const command = (commandId: string): HostCommand => ({ commandId, taskId: commandId, kind: 'start', vmId: 'vm-1' });

test('a command for a connected host is sent and resolved by its result', async (t) => {
  const hub = new AgentHub();
  const session = recordingSession();
  hub.attach('h1', session);
  const outcome = hub.dispatch('h1', command('c1'));
  t.deepEqual(session.sent.map((sent) => sent.commandId), ['c1']);
  hub.complete('c1', { ok: true });
  t.deepEqual(await outcome, { ok: true });
});

test('a command waits for a host that is away and is sent again when it reconnects', async (t) => {
  const hub = new AgentHub();
  const first = recordingSession();
  hub.attach('h1', first);
  const outcome = hub.dispatch('h1', command('c1'));
  hub.detach('h1', first);
  const second = recordingSession();
  hub.attach('h1', second);
  t.deepEqual(second.sent.map((sent) => sent.commandId), ['c1'], 'the pending command is sent again on the new session');
  hub.complete('c1', { ok: false, error: 'invalid_state', message: 'no' });
  t.deepEqual(await outcome, { ok: false, error: 'invalid_state', message: 'no' });
});

test('an unreachable host fails its pending commands as unavailable and closes its session', async (t) => {
  const hub = new AgentHub();
  const session = recordingSession();
  hub.attach('h1', session);
  const outcome = hub.dispatch('h1', command('c1'));
  hub.markUnreachable('h1');
  const error = await t.throwsAsync(outcome);
  t.true(error instanceof ServiceError && error.kind === 'unavailable');
  t.is(session.closed.length, 1);
  t.false(hub.isConnected('h1'));
  await t.throwsAsync(hub.dispatch('h1', command('c2')), { instanceOf: ServiceError });
});

test('a second session for a host id replaces the first: the first is closed, and pending and new commands go to the second', async (t) => {
  const hub = new AgentHub();
  const first = recordingSession();
  hub.attach('h1', first);
  const pending = hub.dispatch('h1', command('c1'));
  const second = recordingSession();
  hub.attach('h1', second);
  t.deepEqual(first.closed, ['replaced by a new session']);
  t.deepEqual(second.sent.map((sent) => sent.commandId), ['c1']);
  hub.detach('h1', first);
  t.true(hub.isConnected('h1'), 'the end of the replaced session does not disconnect the host');
  void hub.dispatch('h1', command('c2'));
  t.deepEqual(first.sent.map((sent) => sent.commandId), ['c1']);
  t.deepEqual(second.sent.map((sent) => sent.commandId), ['c1', 'c2']);
  hub.complete('c1', { ok: true });
  t.deepEqual(await pending, { ok: true });
});
