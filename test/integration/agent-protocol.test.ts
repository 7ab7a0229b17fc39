import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import { loadAgentProtocol, type AgentMessage, type ControllerMessage__Output } from '../../shared/proto/load.js';
import { ProcessSystem } from '../support/process-system.js';

interface SessionEnd {
  code: grpc.status;
  details: string;
  received: ControllerMessage__Output[];
}

function session(address: string, messages: AgentMessage[]): Promise<SessionEnd> {
  const protocol = loadAgentProtocol();
  const client = new protocol.drover.agent.v1.AgentGateway(address, grpc.credentials.createInsecure());
  const call = client.Session();
  const received: ControllerMessage__Output[] = [];
  return new Promise((resolve) => {
    const finish = (code: grpc.status, details: string) => {
      client.close();
      resolve({ code, details, received });
    };
    call.on('data', (message: ControllerMessage__Output) => received.push(message));
    call.on('error', (error: grpc.ServiceError) => finish(error.code, error.details));
    call.on('end', () => finish(grpc.status.OK, ''));
    for (const message of messages) call.write(message);
    setTimeout(() => call.end(), 1_000);
  });
}

test('the controller refuses agent sessions that do not start with a valid hello, and keeps serving', async (t) => {
  const system = await ProcessSystem.start('sqlite');
  t.teardown(() => system.close());
  const address = `127.0.0.1:${system.grpcPort}`;

  const heartbeatFirst = await session(address, [{ heartbeat: { sequence: 1 } }]);
  t.is(heartbeatFirst.code, grpc.status.INVALID_ARGUMENT);
  t.regex(heartbeatFirst.details, /first message of a session must be a hello/);

  const badHostId = await session(address, [{ hello: { host_id: 'not-a-uuid', hostname: 'intruder' } }]);
  t.is(badHostId.code, grpc.status.INVALID_ARGUMENT);
  t.regex(badHostId.details, /not a UUID/);

  const nameless = await session(address, [{ hello: { host_id: '6f1c2a9e-3b7d-4c5e-8f90-123456789abc', hostname: '' } }]);
  t.is(nameless.code, grpc.status.INVALID_ARGUMENT);
  t.regex(nameless.details, /without a hostname/);

  const unknownCluster = await session(address, [{ hello: { host_id: '6f1c2a9e-3b7d-4c5e-8f90-123456789abc', hostname: 'lost', cluster: 'Nowhere' } }]);
  t.is(unknownCluster.code, grpc.status.INVALID_ARGUMENT);
  t.regex(unknownCluster.details, /cluster Nowhere does not exist/);

  t.deepEqual(await system.api.hosts(), [], 'no refused session registered a host');
  const valid = await session(address, [{ hello: { host_id: '6f1c2a9e-3b7d-4c5e-8f90-123456789abc', hostname: 'welcome', cpu_count: 2, memory_bytes: 2 ** 30 } }, { inventory: { domains: [] } }]);
  t.is(valid.received[0]?.body, 'welcome');
  t.deepEqual((await system.api.hosts()).map((host) => host.name), ['welcome']);
});
