import type { ExecutionContext, TestFn } from 'ava';
import { spawn } from 'node:child_process';
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { configFromEnvironment } from '../../controller/config.js';
import { startController } from '../../controller/controller.js';
import { adminPassword, adminUser, Api, assertFault, basicAuthorization } from '../support/api.js';
import { eventually } from '../support/eventually.js';
import { ProtocolClient } from '../support/protocol-client.js';
import { cliEntry, ProcessSystem } from '../support/process-system.js';
import { createScratchDatabase, type DatabaseKind, type DatabaseLocation } from '../support/scratch-database.js';

type Test = TestFn<unknown>;

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function databaseEnvironment(database: DatabaseLocation): NodeJS.ProcessEnv {
  return { ...process.env, DROVER_DATA_DIR: database.dataDir, DROVER_DATABASE_URL: database.url ?? '' };
}

/** Runs `drover ARGS` on a database with `input` as its standard input (a pipe, not a terminal). */
async function drover(database: DatabaseLocation, args: string[], input = ''): Promise<CliRun> {
  const child = spawn(process.execPath, [cliEntry, ...args], { env: databaseEnvironment(database), stdio: ['pipe', 'pipe', 'pipe'] });
  const run: CliRun = { code: null, stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (run.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
  child.stdin.end(input);
  run.code = await new Promise((resolve) => child.once('exit', resolve));
  return run;
}

/** Runs `drover admin password` on a terminal (a pseudo-terminal of script(1)), typing `password` at both prompts once each is shown. */
async function droverOnTerminal(database: DatabaseLocation, password: string): Promise<CliRun> {
  const child = spawn('script', ['-qec', `'${process.execPath}' '${cliEntry}' admin password`, '/dev/null'], { env: databaseEnvironment(database), stdio: ['pipe', 'pipe', 'pipe'] });
  const run: CliRun = { code: null, stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (run.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  await eventually(() => run.stdout.includes('New password: '), 'the first password prompt');
  child.stdin.write(`${password}\r`);
  await eventually(() => run.stdout.includes('The password again: '), 'the second password prompt');
  child.stdin.write(`${password}\r`);
  run.code = await exited;
  child.stdin.end();
  return run;
}

function assertPasswordSet(t: ExecutionContext, run: CliRun): void {
  t.is(run.code, 0, `drover failed: ${run.stderr}`);
  t.regex(run.stdout, /The password of admin@internal is set/);
}

/** Registers the `drover` command-line tool's scenarios for one database. */
export function cliSuite(test: Test, database: DatabaseKind): void {
  const tag = `[${database}] drover CLI:`;

  test(`${tag} admin password creates the first administrator on a fresh database, which then logs in to a controller that generated no password`, async (t) => {
    const scratch = await createScratchDatabase(database, 'it-cli');
    t.teardown(() => scratch.drop());

    const fromArguments = await drover(scratch, ['admin', 'password', '--password', 'on-the-command-line']);
    t.not(fromArguments.code, 0, 'a password is never taken from the command line');
    t.regex(fromArguments.stderr, /unknown option '--password'/);
    const withoutTerminal = await drover(scratch, ['admin', 'password']);
    t.is(withoutTerminal.code, 1);
    t.regex(withoutTerminal.stderr, /^drover: standard input is not a terminal .*--password-stdin\n$/);
    const empty = await drover(scratch, ['admin', 'password', '--password-stdin'], '\n');
    t.is(empty.code, 1);
    t.regex(empty.stderr, /^drover: the password is empty; nothing changed\n$/);

    assertPasswordSet(t, await drover(scratch, ['admin', 'password', '--password-stdin'], 'first admin password\nignored second line\n'));

    const controller = await startController(
      { ...configFromEnvironment({}), listen: '127.0.0.1:0', grpcListen: '127.0.0.1:0', dataDir: scratch.dataDir, databaseUrl: scratch.url, adminPassword: undefined },
      pino({ level: 'silent' }),
    );
    t.teardown(() => controller.stop());
    t.is(controller.generatedAdminPassword, undefined, 'the controller found the administrator and generated no password');
    const origin = new URL(controller.apiUrl).origin;
    const trusting = { ca: controller.ca.certificatePem };
    t.is((await new Api(origin, basicAuthorization(adminUser, 'first admin password'), trusting).get('/')).status, 200);
    assertFault(t, await new Api(origin, basicAuthorization(adminUser, 'ignored second line'), trusting).get('/'), 401);
  });

  test(`${tag} admin password resets the password while the controller runs and while it is stopped, asking on the terminal without echo`, async (t) => {
    const system = await ProcessSystem.start(database);
    t.teardown(() => system.close());

    assertPasswordSet(t, await drover(system.databaseLocation, ['admin', 'password', '--password-stdin'], 'set while running'));
    t.is((await system.api.as(basicAuthorization(adminUser, 'set while running')).get('/')).status, 200, 'the running controller takes the new password at once');

    await system.killController('SIGTERM');
    const prompted = await droverOnTerminal(system.databaseLocation, 'typed on the terminal');
    assertPasswordSet(t, prompted);
    t.false(prompted.stdout.includes('typed on the terminal'), `the terminal did not echo the password: ${JSON.stringify(prompted.stdout)}`);

    system.controllerEnvironment = { DROVER_ADMIN_PASSWORD: '' };
    system.api = system.api.as(basicAuthorization(adminUser, 'typed on the terminal'));
    await system.startController();
    t.is((await system.api.get('/vms')).status, 200, 'the password set while the controller was stopped logs in');
    assertFault(t, await system.api.get('/vms', { auth: basicAuthorization(adminUser, 'set while running') }), 401);
    assertFault(t, await system.api.get('/vms', { auth: basicAuthorization(adminUser, adminPassword) }), 401);
  });

  test(`${tag} enrollment-token create gives a token an agent enrolls with; host-certificates lists its certificate, and revoke ends its live session`, async (t) => {
    const system = await ProcessSystem.start(database);
    t.teardown(() => system.close());

    const created = await drover(system.databaseLocation, ['enrollment-token', 'create', '--description', 'from the tool', '--lifetime', '600']);
    t.is(created.code, 0, created.stderr);
    const agent = await ProtocolClient.enroll(system.grpcAddress, created.stdout.trim());
    t.teardown(() => agent.close());
    const hostId = agent.identity!.hostId;
    const session = agent.session();
    session.send(agent.hello({ hostname: 'enrolled-by-tool' }), { inventory: { domains: [] } });
    await session.welcomed();
    const beat = setInterval(() => session.send({ heartbeat: { sequence: 1 } }), 100);
    t.teardown(() => clearInterval(beat));

    const listed = await drover(system.databaseLocation, ['host-certificates', 'list', '--host', hostId]);
    t.is(listed.code, 0, listed.stderr);
    const [line, ...others] = listed.stdout.trim().split('\n');
    t.deepEqual(others, []);
    t.regex(line!, new RegExp(`^[0-9a-f]{32}  ${hostId}  \\S+  \\S+  -$`));

    const bad = await drover(system.databaseLocation, ['enrollment-token', 'create', '--lifetime', '0']);
    t.not(bad.code, 0);
    const neither = await drover(system.databaseLocation, ['host-certificates', 'revoke']);
    t.is(neither.code, 1);
    t.regex(neither.stderr, /either --serial or --host/);

    const revoked = await drover(system.databaseLocation, ['host-certificates', 'revoke', '--host', hostId]);
    t.is(revoked.code, 0, revoked.stderr);
    t.regex(revoked.stdout, /Revoked 1 certificate/);
    const ended = await session.ended;
    t.is(ended.code, grpc.status.UNAUTHENTICATED);
    t.regex(ended.details, /revoked/);
    const again = agent.session();
    again.send(agent.hello({ hostname: 'enrolled-by-tool' }));
    t.like(await again.ended, { code: grpc.status.UNAUTHENTICATED }, 'a revoked certificate opens no new session');
  });
}
