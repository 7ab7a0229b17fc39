import { randomUUID } from 'node:crypto';
import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import { Agent } from '../../../agent/agent.js';
import type { AgentConfig } from '../../../agent/config.js';
import { FakeDriver } from '../../../agent/hypervisor/fake/driver.js';
import type { HypervisorDriver } from '../../../agent/hypervisor/driver.js';
import { ReconnectingDriver } from '../../../agent/hypervisor/reconnecting-driver.js';
import { decodeHello, decodeMigrationProgress, decodeOutcome, encodeCommand } from '../../../shared/proto/codec.js';
import { loadAgentProtocol, type AgentMessage__Output, type ControllerMessage } from '../../../shared/proto/load.js';
import type { HostCommand } from '../../../shared/model.js';
import { hostCommand, silentLogger, vmSpec } from './helpers.js';
import { eventually } from '../../support/eventually.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';
import { TestPki } from '../../support/test-pki.js';

class FakeController {
  readonly received: AgentMessage__Output[] = [];
  sessions = 0;
  port = 0;
  private server?: grpc.Server;
  private call?: grpc.ServerDuplexStream<AgentMessage__Output, ControllerMessage>;

  constructor(
    readonly pki: TestPki,
    private readonly heartbeatIntervalMs = 50,
  ) {}

  async listen(port = 0): Promise<number> {
    const server = new grpc.Server();
    server.addService(loadAgentProtocol().drover.agent.v1.AgentGateway.service, {
      Session: (call: grpc.ServerDuplexStream<AgentMessage__Output, ControllerMessage>) => {
        this.sessions++;
        this.call = call;
        call.on('data', (message: AgentMessage__Output) => {
          this.received.push(message);
          if (message.hello) call.write({ welcome: { heartbeat_interval_ms: this.heartbeatIntervalMs } });
        });
        call.on('end', () => call.end());
        call.on('error', () => undefined);
      },
    });
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, this.pki.serverCredentials(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    this.server = server;
    return this.port;
  }

  send(command: HostCommand): void {
    this.call?.write({ command: encodeCommand(command) });
  }

  stop(): void {
    this.server?.forceShutdown();
    this.server = undefined;
  }

  ofKind(body: AgentMessage__Output['body']): AgentMessage__Output[] {
    return this.received.filter((message) => message.body === body);
  }

  resultsFor(commandId: string): AgentMessage__Output[] {
    return this.received.filter((message) => message.command_result?.command_id === commandId);
  }
}

let pki: Promise<TestPki> | undefined;
/** One CA for the file's fake controllers: an agent trusts the controller it enrolled with, also after that controller restarts. */
function sharedPki(): Promise<TestPki> {
  pki ??= temporaryDirectory('link-pki').then((directory) => TestPki.create(directory.path));
  return pki;
}

async function startAgent(t: { teardown: (fn: () => Promise<void>) => void }, controller: FakeController, driver: HypervisorDriver, overrides: Partial<AgentConfig> = {}) {
  const directory = await temporaryDirectory('link');
  await controller.pki.enrollAgent(directory.path);
  const config: AgentConfig = {
    controllerAddress: `127.0.0.1:${controller.port}`,
    libvirtUri: 'fake:///',
    dataDir: directory.path,
    hostname: 'host-under-test',
    cluster: 'lab',
    pollIntervalMs: 50,
    storageMountRoot: '/nonexistent',
    storageReportIntervalMs: 60_000,
    shutdownTimeoutMs: 1_000,
    rebootTimeoutMs: 1_000,
    ...overrides,
  };
  const agent = new Agent(config, { driver, logger: silentLogger });
  await agent.start();
  t.teardown(async () => {
    await agent.stop();
    controller.stop();
    await directory.remove();
  });
  return agent;
}

test('the agent says Hello, sends its Inventory, heartbeats, and answers commands once', async (t) => {
  const controller = new FakeController(await sharedPki());
  await controller.listen();
  const driver = new FakeDriver();
  const existing = vmSpec();
  await driver.define(existing);
  const agent = await startAgent(t, controller, driver);
  await agent.waitUntilConnected();

  await eventually(() => controller.received.length >= 2, 'hello and inventory', 3_000);
  t.is(controller.received[0].body, 'hello');
  const hello = decodeHello(controller.received[0].hello!);
  t.like(hello, { hostname: 'host-under-test', cluster: 'lab', cpuCount: 8, libvirtVersion: '9.0.0', hypervisorType: 'FAKE', libvirtUri: 'fake:///' });
  t.regex(hello.hostId, /^[0-9a-f-]{36}$/);
  t.is(controller.received[1].body, 'inventory');
  t.deepEqual(controller.received[1].inventory?.domains, [{ uuid: existing.id, name: `drover-${existing.id}`, state: 'SHUTOFF', managed: true }]);

  const heartbeats = await eventually(() => (controller.ofKind('heartbeat').length >= 2 ? controller.ofKind('heartbeat') : undefined), 'heartbeats', 3_000);
  t.deepEqual(heartbeats.slice(0, 2).map((message) => Number(message.heartbeat?.sequence)), [1, 2]);

  const spec = vmSpec();
  const start = hostCommand('start', spec.id, spec);
  controller.send(start);
  const [result] = await eventually(() => (controller.resultsFor(start.commandId).length ? controller.resultsFor(start.commandId) : undefined), 'the command result', 3_000);
  t.like(decodeOutcome(result.command_result!), { ok: true, domain: { uuid: spec.id, state: 'running', managed: true } });

  driver.setState(spec.id, 'shutoff');
  controller.send(start);
  await eventually(() => controller.resultsFor(start.commandId).length === 2, 'the repeated result', 3_000);
  t.deepEqual(controller.resultsFor(start.commandId)[1].command_result, result.command_result);
  const reportedRunning = controller.received.filter((message) => message.state_change?.domain?.uuid === spec.id && message.state_change.domain.state === 'RUNNING');
  t.deepEqual(reportedRunning, [], 'the result carries the state the command left, so no state change repeats it');
  t.is(driver.calls.start, 1);

  const bad = { ...hostCommand('start', spec.id), commandId: randomUUID() };
  controller.send({ ...bad, kind: 'start', vmId: 'nope' });
  const [refused] = await eventually(() => (controller.resultsFor(bad.commandId).length ? controller.resultsFor(bad.commandId) : undefined), 'the refusal', 3_000);
  t.like(decodeOutcome(refused.command_result!), { ok: false, error: 'invalid_command' });
});

test('over the link, a reboot of a guest that ignores it says the agent reset it after its reboot timeout, a reset is carried out, and networks are prepared and released', async (t) => {
  const controller = new FakeController(await sharedPki());
  await controller.listen();
  const driver = new FakeDriver();
  const agent = await startAgent(t, controller, driver, { rebootTimeoutMs: 50 });
  await agent.waitUntilConnected();
  const answer = async (command: HostCommand) => {
    controller.send(command);
    const [result] = await eventually(() => (controller.resultsFor(command.commandId).length ? controller.resultsFor(command.commandId) : undefined), `the result of ${command.kind}`, 3_000);
    return decodeOutcome(result.command_result!);
  };
  const spec = vmSpec();
  await answer(hostCommand('start', spec.id, spec));
  t.like(await answer(hostCommand('reboot', spec.id)), { ok: true, reboot: { reset: false }, domain: { state: 'running' } });
  driver.ignoreReboot();
  t.like(await answer(hostCommand('reboot', spec.id)), { ok: true, reboot: { reset: true, waitedMs: 50 }, domain: { state: 'running' } });
  t.like(await answer(hostCommand('reset', spec.id)), { ok: true, domain: { state: 'running' } });
  t.is(driver.calls.reset, 1);

  const network = { id: randomUUID(), name: 'blue', vlanId: 12, mtu: 1400 };
  t.like(await answer({ commandId: randomUUID(), taskId: '', kind: 'prepare_network', network }), { ok: true });
  t.deepEqual(driver.networks.get(network.id), network, 'the network arrives as the controller described it');
  t.like(await answer({ commandId: randomUUID(), taskId: '', kind: 'release_network', network }), { ok: true });
  t.false(driver.networks.has(network.id));
  t.like(await answer({ commandId: randomUUID(), taskId: '', kind: 'release_network', network: { ...network, id: 'not-a-uuid' } }), { ok: false, error: 'invalid_command' });
});

test('the agent reports the space of its storage domains after the Inventory and then periodically, whenever there is a domain to report', async (t) => {
  const controller = new FakeController(await sharedPki(), 20);
  await controller.listen();
  const driver = new FakeDriver();
  const agent = await startAgent(t, controller, driver, { storageReportIntervalMs: 20 });
  await agent.waitUntilConnected();
  await eventually(() => controller.ofKind('heartbeat').length >= 5, 'five heartbeats, as many storage report intervals', 3_000);
  t.deepEqual(controller.ofKind('storage_report'), [], 'no report while the host has no storage domain');

  const storage = { id: randomUUID(), kind: 'localfs' as const, address: '', path: '/srv/vms' };
  await driver.prepareStorage(storage);
  const report = await eventually(() => controller.ofKind('storage_report')[0], 'a periodic storage report', 3_000);
  t.deepEqual(report.storage_report?.usage.map((usage) => usage.storage_id), [storage.id]);

  const second = new FakeController(await sharedPki());
  await second.listen();
  const restarted = await startAgent(t, second, driver);
  await restarted.waitUntilConnected();
  await eventually(() => second.ofKind('storage_report').length > 0, 'the report of the new session', 3_000);
  t.deepEqual(second.received.slice(0, 3).map((message) => message.body), ['hello', 'inventory', 'storage_report']);
});

test('state changes behind the agent reach the controller', async (t) => {
  const controller = new FakeController(await sharedPki(), 1_000);
  await controller.listen();
  const driver = new FakeDriver();
  const spec = vmSpec();
  await driver.define(spec);
  const agent = await startAgent(t, controller, driver);
  await agent.waitUntilConnected();
  driver.setState(spec.id, 'paused');
  const change = await eventually(() => controller.ofKind('state_change').find((message) => message.state_change?.domain?.state === 'PAUSED'), 'the paused change', 2_000);
  t.false(change.state_change?.removed);
  driver.removeDomain(spec.id);
  const removal = await eventually(() => controller.ofKind('state_change').find((message) => message.state_change?.removed), 'the removal', 2_000);
  t.is(removal.state_change?.domain?.uuid, spec.id);
});

test('the agent reconnects after the controller restarts on the same port, without touching guests', async (t) => {
  const first = new FakeController(await sharedPki());
  const port = await first.listen();
  const driver = new FakeDriver();
  const spec = vmSpec();
  await driver.define(spec);
  await driver.start(spec.id);
  const agent = await startAgent(t, first, driver);
  await agent.waitUntilConnected();
  const hostId = decodeHello(first.received[0].hello!).hostId;

  first.stop();
  await eventually(() => !agent.connected || undefined, 'the disconnect', 3_000);
  const callsBefore = { ...driver.calls };

  const second = new FakeController(await sharedPki());
  await second.listen(port);
  t.teardown(() => second.stop());
  await agent.waitUntilConnected(8_000);
  await eventually(() => second.ofKind('inventory').length === 1, 'the new inventory', 3_000);
  t.is(second.received[0].body, 'hello');
  t.is(decodeHello(second.received[0].hello!).hostId, hostId);
  t.deepEqual(second.ofKind('inventory')[0].inventory?.domains.map((domain) => domain.state), ['RUNNING']);
  t.deepEqual(driver.calls, callsBefore);
});

test('an agent that loses its hypervisor says so, answers commands with hypervisor_unreachable and the domain unknown, reports no domain gone, and sends a full Inventory once it has reconnected', async (t) => {
  const controller = new FakeController(await sharedPki());
  await controller.listen();
  const fake = new FakeDriver();
  const running = vmSpec();
  await fake.start(running.id, running);
  const driver = new ReconnectingDriver(fake, { livenessCheckMs: 10, initialBackoffMs: 10, maxBackoffMs: 40 });
  const agent = await startAgent(t, controller, driver);
  await agent.waitUntilConnected();
  await eventually(() => controller.ofKind('inventory').length === 1, 'the first inventory', 3_000);

  fake.stopHypervisor();
  const lost = await eventually(() => controller.ofKind('hypervisor_unreachable')[0], 'the report that the hypervisor is unreachable', 3_000);
  t.regex(lost.hypervisor_unreachable!.reason, /closed/);
  const stop = hostCommand('destroy', running.id);
  controller.send(stop);
  const [result] = await eventually(() => (controller.resultsFor(stop.commandId).length ? controller.resultsFor(stop.commandId) : undefined), 'the stop result', 3_000);
  t.like(result.command_result, { ok: false, error: 'HYPERVISOR_UNREACHABLE', domain: null, domain_unknown: true });
  t.deepEqual(controller.ofKind('state_change'), [], 'no state change, least of all a removal, while the hypervisor is away');

  fake.startHypervisor();
  const [, again] = await eventually(() => (controller.ofKind('inventory').length === 2 ? controller.ofKind('inventory') : undefined), 'the inventory after reconnecting', 3_000);
  t.deepEqual(again.inventory?.domains, [{ uuid: running.id, name: `drover-${running.id}`, state: 'RUNNING', managed: true }]);
  t.is(fake.calls.destroy, 0, 'the stop never reached the hypervisor');
});

test('a session that begins while the hypervisor is unreachable reports that in place of the Inventory, and the Inventory follows once the agent has reconnected', async (t) => {
  const first = new FakeController(await sharedPki());
  const port = await first.listen();
  const fake = new FakeDriver();
  const running = vmSpec();
  await fake.start(running.id, running);
  const driver = new ReconnectingDriver(fake, { livenessCheckMs: 10, initialBackoffMs: 10, maxBackoffMs: 40 });
  const agent = await startAgent(t, first, driver);
  await agent.waitUntilConnected();
  fake.stopHypervisor();
  await eventually(() => first.ofKind('hypervisor_unreachable').length === 1, 'the report that the hypervisor is unreachable', 3_000);
  first.stop();
  await eventually(() => !agent.connected || undefined, 'the disconnect', 3_000);

  const second = new FakeController(await sharedPki());
  await second.listen(port);
  t.teardown(() => second.stop());
  await agent.waitUntilConnected(8_000);
  await eventually(() => second.received.length >= 2, 'the hello and what follows it', 3_000);
  t.deepEqual(second.received.slice(0, 2).map((message) => message.body), ['hello', 'hypervisor_unreachable']);
  t.deepEqual(second.ofKind('inventory'), [], 'no inventory from a hypervisor the agent cannot reach');
  fake.startHypervisor();
  const inventory = await eventually(() => second.ofKind('inventory')[0], 'the inventory once reconnected', 3_000);
  t.deepEqual(inventory.inventory?.domains.map((domain) => domain.state), ['RUNNING']);
});

test('while a MIGRATE executes the agent sends MigrationProgress under its command id, then the result; its Hello names its migration URI and address', async (t) => {
  const controller = new FakeController(await sharedPki());
  await controller.listen();
  const destinationUri = `qemu+fake://${randomUUID()}/system`;
  const destination = new FakeDriver({ migrationUri: destinationUri });
  await destination.open();
  const driver = new FakeDriver({ migrationUri: `qemu+fake://${randomUUID()}/system`, migration: { steps: 250, stepMs: 10, totalBytes: 2 ** 30 } });
  t.teardown(() => {
    driver.withdrawFromMigrations();
    destination.withdrawFromMigrations();
  });
  const agent = await startAgent(t, controller, driver, { migrationUri: 'qemu+tls://kvm1.example.org/system', migrationAddress: '192.0.2.1' });
  await agent.waitUntilConnected();
  t.like(decodeHello(controller.received[0].hello!), { migrationUri: 'qemu+tls://kvm1.example.org/system', migrationAddress: '192.0.2.1' });
  const spec = vmSpec();
  await driver.start(spec.id, spec);
  const migrate: HostCommand = {
    commandId: randomUUID(),
    taskId: randomUUID(),
    kind: 'migrate',
    vmId: spec.id,
    migration: { migrationId: randomUUID(), destinationUri, destinationAddress: '192.0.2.2', stallTimeoutMs: 10_000, deadlineMs: 60_000, sharedStorage: true, bandwidthMiBPerSecond: 0 },
  };
  controller.send(migrate);
  const [result] = await eventually(() => (controller.resultsFor(migrate.commandId).length ? controller.resultsFor(migrate.commandId) : undefined), 'the migration result', 15_000);
  t.like(decodeOutcome(result.command_result!), { ok: true, domain: undefined });
  const progress = controller.ofKind('migration_progress').map((message) => decodeMigrationProgress(message.migration_progress!));
  t.true(progress.length > 0, 'progress was sent');
  for (const sample of progress) {
    t.is(sample.commandId, migrate.commandId);
    t.is(sample.vmId, spec.id);
    t.is(sample.progress.dataTotalBytes, 2 ** 30);
  }
  t.true(controller.received.indexOf(result) > controller.received.findIndex((message) => message.body === 'migration_progress'), 'progress comes before the result');
  t.is((await destination.getDomain(spec.id))?.state, 'running');
});
