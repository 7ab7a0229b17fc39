import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { ProcessSystem } from '../support/process-system.js';
import { adminPassword } from '../support/api.js';

/** The repository root: this file runs as dist/test/integration/ovirt-client.test.js. */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const script = path.join(repoRoot, 'test/ovirt-client/govirt_client.py');

interface ClientRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runClient(args: string[]): Promise<ClientRun> {
  return new Promise((resolve) => {
    execFile('/usr/bin/python3', [script, ...args], { timeout: 90_000, cwd: repoRoot }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

/** libgovirt's own complaints: anything on stderr. */
function complaints(stderr: string): string[] {
  return stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

test.serial('libgovirt, over HTTPS trusting the controller\'s CA file, lists hosts, lists, searches, reads the CD-ROM drive of, starts and stops a VM and reads the host it runs on, with Basic credentials and with an SSO token', async (t) => {
  const system = await ProcessSystem.start('sqlite', { alpha: { memoryMiB: 2048 } });
  t.teardown(() => system.close());
  const vmId = await system.api.createVm('govirt-vm', 256, '<display><type>spice</type></display>');
  await system.api.createVm('govirt-other', 128);
  const url = `${system.api.root}`;
  t.regex(url, /^https:\/\//);
  const trust = ['--ca-file', system.caFile];

  const check = (label: string, run: ClientRun) => {
    t.is(run.code, 0, `${label}: exit ${run.code}\n${run.stderr}`);
    t.deepEqual(complaints(run.stderr), [], `${label}: libgovirt logged warnings or criticals`);
    const lines = run.stdout.trim().split('\n');
    t.is(lines.length, 1, `${label}: one JSON line on stdout`);
    const result = JSON.parse(lines[0]!) as { hosts: string[]; listed: string[]; searched: string[]; found: string; cdroms: string[]; host: string; host_cluster: string; host_vms: string[]; states: string[] };
    t.deepEqual(result.hosts, ['alpha'], `${label}: hosts`);
    t.deepEqual(result.listed, ['govirt-other', 'govirt-vm'], `${label}: listed`);
    t.deepEqual(result.searched, ['govirt-vm'], `${label}: the search found only the VM`);
    t.is(result.found, vmId, `${label}: found`);
    t.deepEqual(result.cdroms, [''], `${label}: the VM's one CD-ROM drive, empty`);
    t.is(result.states[0], 'down', `${label}: first state`);
    t.is(result.states.at(-1), 'down', `${label}: last state`);
    t.is(result.host, 'alpha', `${label}: the running VM's host`);
    t.is(result.host_cluster, 'Default', `${label}: the host's cluster`);
    t.deepEqual(result.host_vms, ['govirt-vm'], `${label}: the VMs of the host while the VM runs there`);
    const up = result.states.indexOf('up');
    t.true(up > 0 && up < result.states.length - 1, `${label}: states ${result.states.join(' → ')} go through up`);
    return result;
  };

  const basic = await runClient(['--url', url, ...trust, '--vm-name', 'govirt-vm', '--username', 'admin@internal', '--password', adminPassword, '--timeout', '30']);
  check('basic', basic);
  t.is(await system.api.vmStatus(vmId), 'down');

  const issued = await system.api.fetch('/ovirt-engine/sso/oauth/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    body: new URLSearchParams({ grant_type: 'password', scope: 'ovirt-app-api', username: 'admin@internal', password: adminPassword }).toString(),
  });
  t.is(issued.status, 200);
  const token = ((await issued.json()) as { access_token: string }).access_token;
  const bearer = await runClient(['--url', url, ...trust, '--vm-name', 'govirt-vm', `--token=${token}`, '--timeout', '30']);
  check('token', bearer);

  const tasks = await system.api.get(`/vms/${vmId}/tasks`, { accept: 'json' });
  t.deepEqual(tasks.body.task.map((task: any) => task.action), ['stop', 'start', 'stop', 'start'], 'each run started and stopped the VM once');
  t.true(tasks.body.task.every((task: any) => task.status === 'finished'));

  const refused = await runClient(['--url', url, ...trust, '--vm-name', 'govirt-vm', '--username', 'admin@internal', '--password', 'wrong', '--timeout', '5']);
  t.is(refused.code, 1, 'a wrong password fails the client');
  t.regex(refused.stderr, /fetching the API root failed: .*401|Unauthorized/);

  const untrusting = await runClient(['--url', url, '--vm-name', 'govirt-vm', '--username', 'admin@internal', '--password', adminPassword, '--timeout', '5']);
  t.is(untrusting.code, 1, 'without the CA file libgovirt refuses the certificate');
  t.regex(untrusting.stderr, /fetching the API root failed: Unacceptable TLS certificate/);
});
