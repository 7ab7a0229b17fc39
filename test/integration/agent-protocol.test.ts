import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import { ProcessSystem } from '../support/process-system.js';
import { ProtocolClient } from '../support/protocol-client.js';

test('the controller refuses enrolled agents sessions that do not start with a valid hello, and keeps serving', async (t) => {
  const system = await ProcessSystem.start('sqlite');
  t.teardown(() => system.close());
  const created = await system.api.post('/hostenrollmenttokens', {}, { accept: 'json' });
  const agent = await ProtocolClient.enroll(system.grpcAddress, created.body.token);
  t.teardown(() => agent.close());

  const refused = async (first: Parameters<ProtocolClient['session']> extends [] ? Parameters<ReturnType<ProtocolClient['session']>['send']>[0] : never) => {
    const session = agent.session();
    session.send(first);
    return session.ended;
  };

  const heartbeatFirst = await refused({ heartbeat: { sequence: 1 } });
  t.is(heartbeatFirst.code, grpc.status.INVALID_ARGUMENT);
  t.regex(heartbeatFirst.details, /first message of a session must be a hello/);

  const badHostId = await refused(agent.hello({ host_id: 'not-a-uuid' }));
  t.is(badHostId.code, grpc.status.INVALID_ARGUMENT);
  t.regex(badHostId.details, /not a UUID/);

  const nameless = await refused(agent.hello({ hostname: '' }));
  t.is(nameless.code, grpc.status.INVALID_ARGUMENT);
  t.regex(nameless.details, /hostname/);

  const unknownCluster = await refused(agent.hello({ hostname: 'lost', cluster: 'Nowhere' }));
  t.is(unknownCluster.code, grpc.status.INVALID_ARGUMENT);
  t.regex(unknownCluster.details, /cluster Nowhere does not exist/);

  t.deepEqual(await system.api.hosts(), [], 'no refused session registered a host');
  const valid = agent.session();
  valid.send(agent.hello({ hostname: 'welcome' }), { inventory: { domains: [] } });
  await valid.welcomed();
  await system.waitForHostStatus('welcome', 'up');
  t.deepEqual((await system.api.hosts()).map((host) => host.name), ['welcome']);
  await valid.close();
});
