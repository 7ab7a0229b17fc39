import test from 'ava';
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Api, basicAuthorization } from '../support/api.js';
import { controllerEntry, freePort } from '../support/process-system.js';
import { eventually } from '../support/eventually.js';
import { temporaryDirectory } from '../support/temporary-directory.js';

function runEmbedded(dataDir: string, apiPort: number, grpcPort: number) {
  const child = spawn(process.execPath, [controllerEntry, '--embedded-agent'], {
    env: { ...process.env, DROVER_DATA_DIR: dataDir, DROVER_LISTEN: `127.0.0.1:${apiPort}`, DROVER_GRPC_LISTEN: `127.0.0.1:${grpcPort}`, DROVER_ADMIN_PASSWORD: '', DROVER_DATABASE_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.resume();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => stdout, exited };
}

test('the embedded setup prints the HTTPS API URL, a generated password once and how to trust its CA, serves a local host, and stops cleanly on Ctrl-C', async (t) => {
  const directory = await temporaryDirectory('embedded');
  t.teardown(() => directory.remove());
  const dataDir = directory.path;
  const apiPort = await freePort();
  const grpcPort = await freePort();

  const first = runEmbedded(dataDir, apiPort, grpcPort);
  const banner = await eventually(() => /Drover API: (\S+)\n.*password (\S+) \(generated/.exec(first.output()) ?? undefined, 'the startup banner');
  t.is(banner[1], `https://127.0.0.1:${apiPort}/ovirt-engine/api`);
  const caFile = path.join(dataDir, 'pki', 'ca.pem');
  t.true(first.output().includes(`Example: curl --cacert ${caFile} -u 'admin@internal:PASSWORD' https://127.0.0.1:${apiPort}/ovirt-engine/api/vms\n`), first.output());
  t.true(first.output().includes(`https://127.0.0.1:${apiPort}/ovirt-engine/services/pki-resource?resource=ca-certificate&format=X509-PEM-CA`), 'the banner says where to fetch the CA');
  const caPem = await readFile(caFile, 'utf8');
  t.true(first.output().includes(`${caFile} (SHA-256 fingerprint ${new X509Certificate(caPem).fingerprint256})`), 'the banner gives the CA file\'s fingerprint');
  const api = new Api(`https://127.0.0.1:${apiPort}`, basicAuthorization('admin@internal', banner[2]!), { ca: caPem });
  const hosts = await eventually(async () => {
    const listed = await api.hosts();
    return listed.length === 1 && listed[0].status === 'up' ? listed : undefined;
  }, 'the embedded agent to register');
  t.is(hosts[0].type, 'rhel');
  t.is(hosts[0].hypervisor.type, 'test');
  const vmId = await api.createVm('embedded-vm', 128);
  t.is((await api.action(vmId, 'start')).status, 200);
  t.is(await api.vmStatus(vmId), 'up');

  first.child.kill('SIGINT');
  t.is(await first.exited, 0, 'the controller exits 0 on SIGINT');

  const second = runEmbedded(dataDir, apiPort, grpcPort);
  await eventually(() => second.output().includes('Drover API:'), 'the second start');
  t.notRegex(second.output(), /generated now/, 'the password is printed only at first start');
  t.is((await api.get('/')).status, 200, 'the generated password keeps working');
  second.child.kill('SIGTERM');
  t.is(await second.exited, 0);
});
