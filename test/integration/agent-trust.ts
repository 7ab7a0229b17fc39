import test from 'ava';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { enroll, EnrollmentError, identityCredentials, parseEnrollmentToken } from '../../agent/link/enrollment.js';
import { ProcessSystem } from '../support/process-system.js';
import { assertFault } from '../support/api.js';
import { ProtocolClient } from '../support/protocol-client.js';
import { eventually } from '../support/eventually.js';
import { temporaryDirectory } from '../support/temporary-directory.js';
import { TestPki } from '../support/test-pki.js';
import type { DatabaseKind } from '../support/scratch-database.js';

async function newToken(system: ProcessSystem, body: object = {}): Promise<{ id: string; token: string }> {
  const created = await system.api.post('/hostenrollmenttokens', body, { accept: 'json' });
  if (created.status !== 201) throw new Error(`creating a token answered ${created.status}: ${created.text}`);
  return { id: created.body.id, token: created.body.token };
}

/** A hand-driven agent enrolled with a new token, its session welcomed and its (empty) Inventory sent. */
async function enrolledRogue(system: ProcessSystem, hostname: string, memoryBytes = 2 ** 31) {
  const client = await ProtocolClient.enroll(system.grpcAddress, (await newToken(system)).token);
  const session = client.session();
  session.send(client.hello({ hostname, memory_bytes: memoryBytes }));
  await session.welcomed();
  session.send({ inventory: { domains: [] } });
  await system.waitForHostStatus(hostname, 'up');
  return { client, session, hostId: client.identity!.hostId };
}

export function agentTrustTests(database: DatabaseKind): void {
  test.serial(`[${database}] sessions without a host certificate of this controller, or for another host than their certificate names, or with facts no real host has, are refused and register nothing`, async (t) => {
    const system = await ProcessSystem.start(database);
    t.teardown(() => system.close());

    const anonymous = new ProtocolClient(system.grpcAddress);
    const unauthenticated = anonymous.session();
    unauthenticated.send(anonymous.hello({ host_id: '6f1c2a9e-3b7d-4c5e-8f90-123456789abc' }));
    t.like(await unauthenticated.ended, { code: grpc.status.UNAUTHENTICATED });
    t.regex(unauthenticated.end!.details, /host certificate/);

    const elsewhere = await temporaryDirectory('foreign-pki');
    t.teardown(() => elsewhere.remove());
    const foreignPki = await TestPki.create(elsewhere.path);
    const foreignIdentity = await foreignPki.enrollAgent(elsewhere.path);
    const controllerCa = await system.caCertificate();
    const foreign = new ProtocolClient(system.grpcAddress, foreignIdentity, identityCredentials({ ...foreignIdentity, caCertificatePem: controllerCa }));
    const foreignSession = foreign.session();
    foreignSession.send(foreign.hello());
    t.like(await foreignSession.ended, { code: grpc.status.UNAUTHENTICATED }, 'a certificate of another CA');

    const rogue = await ProtocolClient.enroll(system.grpcAddress, (await newToken(system)).token);
    const impostor = rogue.session();
    impostor.send(rogue.hello({ host_id: '6f1c2a9e-3b7d-4c5e-8f90-123456789abc', hostname: 'impostor' }));
    t.like(await impostor.ended, { code: grpc.status.PERMISSION_DENIED });
    t.regex(impostor.end!.details, /certificate names host/);

    for (const [what, overrides, detail] of [
      ['markup as a host name', { hostname: '<b>x</b>' }, /hostname/],
      ['1 PiB of memory', { memory_bytes: 2 ** 50 }, /64 TiB/],
      ['a million CPUs', { cpu_count: 1_000_000 }, /CPUs/],
      ['a control character in the CPU model', { cpu_model: 'x86\u0007' }, /CPU model/],
      ['a version that is not one', { libvirt_version: '<script>' }, /libvirt version/],
    ] as const) {
      const session = rogue.session();
      session.send(rogue.hello(overrides));
      t.like(await session.ended, { code: grpc.status.INVALID_ARGUMENT }, what);
      t.regex(session.end!.details, detail, what);
    }
    t.deepEqual(await system.api.hosts(), [], 'no refused session registered a host');
    for (const client of [anonymous, foreign, rogue]) client.close();
  });

  test.serial(`[${database}] enrollment: a token is shown once, used once, and refused when unknown, expired, used or offered by another controller; a malformed request does not use it up`, async (t) => {
    const system = await ProcessSystem.start(database);
    t.teardown(() => system.close());
    const address = system.grpcAddress;
    const { id, token } = await newToken(system, { description: 'for the test' });
    const { secret, caFingerprint } = parseEnrollmentToken(token);

    const listed = await system.api.get(`/hostenrollmenttokens/${id}`, { accept: 'json' });
    t.is(listed.status, 200);
    t.is(listed.body.token, undefined, 'the secret is never shown again');
    t.is(listed.body.used, 'false', 'oVirt JSON writes booleans as strings');

    await t.throwsAsync(enroll(address, { secret, caFingerprint: 'f'.repeat(64) }), { instanceOf: EnrollmentError, message: /fingerprint/ }, 'an agent checks the controller before it sends the secret');
    await t.throwsAsync(enroll(address, { secret: 'A'.repeat(43), caFingerprint }), { message: /UNAUTHENTICATED.*not valid/ });

    const rogue = new ProtocolClient(address, undefined, grpc.credentials.createSsl(Buffer.from(await system.caCertificate())));
    const malformed = await new Promise<grpc.ServiceError | null>((resolve) =>
      (rogue as unknown as { client: { Enroll: (r: object, cb: (e: grpc.ServiceError | null) => void) => void } }).client.Enroll({ token: secret, certificate_request_pem: 'not a request' }, resolve),
    );
    t.is(malformed?.code, grpc.status.INVALID_ARGUMENT);
    rogue.close();

    const identity = await enroll(address, parseEnrollmentToken(token));
    t.regex(identity.hostId, /^[0-9a-f-]{36}$/);
    await t.throwsAsync(enroll(address, parseEnrollmentToken(token)), { message: /UNAUTHENTICATED.*used already/ });
    const used = await system.api.get(`/hostenrollmenttokens/${id}`, { accept: 'json' });
    t.is(used.body.used, 'true');
    t.is(used.body.host.id, identity.hostId);

    const shortLived = await newToken(system, { lifetime: 1 });
    await eventually(async () => Date.now() > (await system.api.get(`/hostenrollmenttokens/${shortLived.id}`, { accept: 'json' })).body.expiration_time + 100, 'the token to expire');
    await t.throwsAsync(enroll(address, parseEnrollmentToken(shortLived.token)), { message: /UNAUTHENTICATED.*expired/ });

    const bad = await system.api.post('/hostenrollmenttokens', { lifetime: 10 ** 9 }, { accept: 'json' });
    t.is(bad.status, 400);
    t.is((await system.api.delete(`/hostenrollmenttokens/${shortLived.id}`)).status, 200);
    t.is((await system.api.get(`/hostenrollmenttokens/${shortLived.id}`)).status, 404);
  });

  test.serial(`[${database}] one session per host while it is heard from; a command result counts only from the host the command went to; storage reports about others' domains are dropped`, async (t) => {
    // Heartbeats two seconds apart: a session heard from within four seconds is live, however loaded the machine.
    const system = await ProcessSystem.start(database, {}, { heartbeatMs: 2_000 });
    t.teardown(() => system.close());
    const worker = await enrolledRogue(system, 'worker', 8 * 2 ** 30);
    const forger = await enrolledRogue(system, 'forger', 2 ** 30);
    t.teardown(() => [worker, forger].forEach(({ client }) => client.close()));
    const beat = setInterval(() => [worker, forger].forEach(({ session }) => session.send({ heartbeat: { sequence: 1 } })), 100);
    t.teardown(() => clearInterval(beat));

    const second = worker.client.session();
    second.send(worker.client.hello({ hostname: 'worker' }));
    t.like(await second.ended, { code: grpc.status.ALREADY_EXISTS }, 'a second session with the same certificate does not take over a live one');
    t.is(worker.session.end, undefined, 'the first session goes on');

    const vmId = await system.api.createVm('contested', 64);
    const started = await system.api.action(vmId, 'start', { async: true });
    t.is(started.status, 202);
    await eventually(() => worker.session.received.some((message) => message.command?.vm_id === vmId), 'the start to reach the host it was placed on');
    const command = worker.session.received.find((message) => message.command?.vm_id === vmId)!.command!;
    forger.session.send({ command_result: { command_id: command.command_id, ok: true } });
    worker.session.send({ command_result: { command_id: command.command_id, ok: false, error: 'HYPERVISOR_FAILURE', message: 'refused by the worker' } });
    const task = await system.api.task(started.body.action.task.id);
    t.is(task.status, 'failed', 'the forged success did not complete the command');
    t.regex(JSON.stringify(task), /refused by the worker/);

    forger.session.send({ storage_report: { usage: [{ storage_id: '6f1c2a9e-3b7d-4c5e-8f90-123456789abc', available_bytes: 1, used_bytes: 1 }] } });
    forger.session.send({ heartbeat: { sequence: 2 } });
    await eventually(() => system.controllerOutput.join('').includes('dropped a storage report'), 'the dropped report to be logged');
    t.true(system.controllerOutput.join('').includes('dropped a command result'), 'the forged result was logged');

    clearInterval(beat);
    await eventually(async () => {
      const replacement = worker.client.session();
      replacement.send(worker.client.hello({ hostname: 'worker' }));
      try {
        await replacement.welcomed();
        return true;
      } catch {
        return false;
      }
    }, 'a new session once the first fell silent');
    t.truthy(await worker.session.ended, 'the silent session was ended');
  });

  test.serial(`[${database}] a real agent enrolls, keeps its key to itself, renews its certificate before it expires, and is cut off when its host is removed`, async (t) => {
    const system = await ProcessSystem.start(database, {}, { controllerEnvironment: { DROVER_HOST_CERTIFICATE_LIFETIME_SECONDS: '6' } });
    t.teardown(() => system.close());
    await system.addHost('alpha');
    const host = (await system.api.hosts())[0];
    const files = await system.agentFiles('alpha');
    t.is(files['host.key'], 0o600);
    t.is(files['host.pem'], 0o600);

    const certificate = () => readFile(path.join(system.host('alpha').dataDir, 'host.pem'), 'utf8');
    const first = await certificate();
    await eventually(() => system.host('alpha').output.join('').includes('host certificate renewed'), 'the agent to renew its certificate', 30_000);
    t.not(await certificate(), first, 'the agent keeps the renewed certificate');
    await eventually(() => system.controllerOutput.join('').split('"agent connected"').length > 2, 'the agent to open a session with its renewed certificate');
    await system.waitForHostStatus('alpha', 'up');

    const removed = await system.api.delete(`/hosts/${host.id}`);
    t.is(removed.status, 200);
    await eventually(() => system.host('alpha').output.join('').includes('was revoked'), 'the agent to be refused as revoked', 20_000);
    t.deepEqual(await system.api.hosts(), [], 'a revoked agent does not register again');
  });

  test.serial(`[${database}] a host's reports are about itself: an empty Inventory leaves another host's VMs where they run, and a claim to run another host's VM makes it two copies (unknown, stop only), never a move`, async (t) => {
    const system = await ProcessSystem.start(database, { alpha: {} });
    t.teardown(() => system.close());
    const alphaId = await system.hostId('alpha');
    const vmId = await system.api.createVm('owned-by-alpha', 64);
    t.is((await system.api.action(vmId, 'start')).status, 200);
    await system.waitForVmStatus(vmId, 'up');

    const rogue = await enrolledRogue(system, 'claimant');
    t.teardown(() => rogue.client.close());
    rogue.session.send({ inventory: { domains: [] } });
    rogue.session.send({ heartbeat: { sequence: 1 } });
    await eventually(async () => (await system.api.hosts()).find((host) => host.name === 'claimant')?.status === 'up', 'the empty inventory to be taken');
    t.is((await system.api.vm(vmId)).host.id, alphaId, 'an empty inventory of another host does not take the VM from its host');
    t.is(await system.api.vmStatus(vmId), 'up');

    rogue.session.send({ inventory: { domains: [{ uuid: vmId, name: 'owned-by-alpha', state: 'RUNNING', managed: true }] } });
    await system.waitForVmStatus(vmId, 'unknown');
    t.is((await system.api.vm(vmId)).host.id, alphaId, 'the claim does not move the VM');
    t.regex(system.controllerOutput.join(''), /recorded on another host/);
    assertFault(t, await system.api.action(vmId, 'suspend'), 409, /two hosts/);

    rogue.session.send({ inventory: { domains: [] } });
    await system.waitForVmStatus(vmId, 'up');
    t.is((await system.api.vm(vmId)).host.id, alphaId);
  });

  test.serial(`[${database}] a CA the operator gives signs the API's certificate and the agents', its fingerprint is in the tokens, and the controller makes no CA of its own`, async (t) => {
    const given = await temporaryDirectory('given-ca');
    t.teardown(() => given.remove());
    const pki = await TestPki.create(given.path);
    const system = await ProcessSystem.start(database, { alpha: {} }, { controllerEnvironment: { DROVER_CA_CERT: path.join(given.path, 'ca.pem'), DROVER_CA_KEY: path.join(given.path, 'ca.key') } });
    t.teardown(() => system.close());
    t.is(parseEnrollmentToken((await newToken(system)).token).caFingerprint, pki.ca.fingerprint);
    t.is(await readFile(path.join(system.host('alpha').dataDir, 'ca.pem'), 'utf8'), pki.ca.certificatePem, 'the agent trusts the given CA');
    t.is((await system.api.get('/hosts', { accept: 'json' })).status, 200, 'the API presents a certificate of the given CA, which the client alone trusts');
    t.false(existsSync(path.join(system.databaseLocation.dataDir, 'pki', 'ca.pem')));
  });
}
