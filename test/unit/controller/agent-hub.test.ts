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
  hub.attach('h1', session, 0);
  const outcome = hub.dispatch('h1', command('c1'));
  t.deepEqual(session.sent.map((sent) => sent.commandId), ['c1']);
  hub.complete('h1', 'c1', { ok: true });
  t.deepEqual(await outcome, { ok: true });
});

test('a command waits for a host that is away and is sent again when it reconnects', async (t) => {
  const hub = new AgentHub();
  const first = recordingSession();
  hub.attach('h1', first, 0);
  const outcome = hub.dispatch('h1', command('c1'));
  hub.detach('h1', first);
  const second = recordingSession();
  hub.attach('h1', second, 0);
  t.deepEqual(second.sent.map((sent) => sent.commandId), ['c1'], 'the pending command is sent again on the new session');
  hub.complete('h1', 'c1', { ok: false, error: 'invalid_state', message: 'no' });
  t.deepEqual(await outcome, { ok: false, error: 'invalid_state', message: 'no' });
});

test('an unreachable host fails its pending commands as unavailable and closes its session', async (t) => {
  const hub = new AgentHub();
  const session = recordingSession();
  hub.attach('h1', session, 0);
  const outcome = hub.dispatch('h1', command('c1'));
  hub.markUnreachable('h1');
  const error = await t.throwsAsync(outcome);
  t.true(error instanceof ServiceError && error.kind === 'unavailable');
  t.is(session.closed.length, 1);
  t.false(hub.isConnected('h1'));
  await t.throwsAsync(hub.dispatch('h1', command('c2')), { instanceOf: ServiceError });
});

test('a second session for a host whose session fell silent replaces the first: the first is closed, and pending and new commands go to the second', async (t) => {
  const hub = new AgentHub();
  const first = recordingSession();
  hub.attach('h1', first, 0);
  const pending = hub.dispatch('h1', command('c1'));
  const second = recordingSession();
  hub.attach('h1', second, 0);
  t.deepEqual(first.closed, ['replaced by a new session after it fell silent']);
  t.deepEqual(second.sent.map((sent) => sent.commandId), ['c1']);
  hub.detach('h1', first);
  t.true(hub.isConnected('h1'), 'the end of the replaced session does not disconnect the host');
  void hub.dispatch('h1', command('c2'));
  t.deepEqual(first.sent.map((sent) => sent.commandId), ['c1']);
  t.deepEqual(second.sent.map((sent) => sent.commandId), ['c1', 'c2']);
  hub.complete('h1', 'c1', { ok: true });
  t.deepEqual(await pending, { ok: true });
});

test('a second session for a host whose session was heard from lately is refused, and the first stays', (t) => {
  const hub = new AgentHub();
  const first = recordingSession();
  t.true(hub.attach('h1', first, 60_000));
  const second = recordingSession();
  t.false(hub.attach('h1', second, 60_000));
  t.deepEqual(first.closed, []);
  void hub.dispatch('h1', command('c1'));
  t.deepEqual(first.sent.map((sent) => sent.commandId), ['c1']);
  t.deepEqual(second.sent, []);
});

test('a result for a command is taken only from the host it was sent to', async (t) => {
  const hub = new AgentHub();
  hub.attach('h1', recordingSession(), 0);
  hub.attach('h2', recordingSession(), 0);
  const outcome = hub.dispatch('h1', command('c1'));
  t.false(hub.complete('h2', 'c1', { ok: false, error: 'invalid_state', message: 'forged' }));
  t.true(hub.complete('h1', 'c1', { ok: true }));
  t.deepEqual(await outcome, { ok: true });
  t.false(hub.complete('h1', 'c1', { ok: true }), 'a command completes once');
});

test('ending a host session closes it and the host is no longer connected', (t) => {
  const hub = new AgentHub();
  const session = recordingSession();
  hub.attach('h1', session, 0);
  hub.end('h1', 'its certificate was revoked');
  t.deepEqual(session.closed, ['its certificate was revoked']);
  t.false(hub.isConnected('h1'));
});
