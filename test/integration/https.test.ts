import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import tls from 'node:tls';
import test from 'ava';
import { CertificateAuthority } from '../../controller/pki/certificate-authority.js';
import { adminPassword, adminUser, Api, assertFault } from '../support/api.js';
import { InProcessSystem } from '../support/in-process-system.js';
import { temporaryDirectory } from '../support/temporary-directory.js';

const caResource = '/ovirt-engine/services/pki-resource?resource=ca-certificate&format=X509-PEM-CA';

/** A TLS handshake with the API's port: what the server presented and agreed to, or the error that ended it. */
function handshake(origin: string, options: tls.ConnectionOptions): Promise<{ certificate: X509Certificate; protocol: string | null; authorized: boolean }> {
  const url = new URL(origin);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: url.hostname, port: Number(url.port), ...options }, () => {
      resolve({ certificate: socket.getPeerX509Certificate()!, protocol: socket.getProtocol(), authorized: socket.authorized });
      socket.end();
    });
    socket.once('error', reject);
  });
}

function curl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['--silent', '--show-error', ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

test('by default the API answers over HTTPS (TLS 1.2 or later) with a certificate of the controller\'s CA that names 127.0.0.1, and curl --cacert with that CA file lists VMs', async (t) => {
  const system = await InProcessSystem.start('sqlite', { label: 'it-https' });
  t.teardown(() => system.close());
  t.regex(system.controller.apiUrl, /^https:\/\/127\.0\.0\.1:\d+\/ovirt-engine\/api$/);
  const ca = new X509Certificate(system.controller.ca.certificatePem);

  const presented = await handshake(system.origin, { ca: system.controller.ca.certificatePem });
  t.true(presented.authorized, 'the certificate verifies against the CA and names 127.0.0.1');
  t.true(presented.certificate.checkIssued(ca) && presented.certificate.verify(ca.publicKey), 'the CA signed it');
  t.true(presented.certificate.checkIP('127.0.0.1') === '127.0.0.1');
  t.true(presented.protocol === 'TLSv1.3' || presented.protocol === 'TLSv1.2', `protocol ${presented.protocol}`);
  await t.throwsAsync(handshake(system.origin, { ca: system.controller.ca.certificatePem, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }), { message: /protocol version/ }, 'TLS 1.1 is refused');

  const vmId = await system.api.createVm('https-vm', 128);
  t.is((await system.api.vm(vmId)).name, 'https-vm', 'the test support reaches the API trusting the CA');

  const caFile = path.join(system.databaseLocation.dataDir, 'pki', 'ca.pem');
  t.is(await readFile(caFile, 'utf8'), system.controller.ca.certificatePem, 'the CA file is in <dataDir>/pki/ca.pem');
  const listed = await curl(['--cacert', caFile, '-u', `${adminUser}:${adminPassword}`, `${system.apiRoot}/vms`]);
  t.is(listed.code, 0, listed.stderr);
  t.regex(listed.stdout, new RegExp(`<vm href="/ovirt-engine/api/vms/${vmId}" id="${vmId}">`));
  t.regex(listed.stdout, /<name>https-vm<\/name>/);
  const untrusted = await curl(['-u', `${adminUser}:${adminPassword}`, `${system.apiRoot}/vms`]);
  t.is(untrusted.code, 60, `curl without the CA refuses the certificate: ${untrusted.stderr}`);
});

test('a client that does not trust the controller\'s CA is refused by its own TLS check', async (t) => {
  const system = await InProcessSystem.start('sqlite', { label: 'it-https' });
  t.teardown(() => system.close());
  const directory = await temporaryDirectory('https-other-ca');
  t.teardown(() => directory.remove());
  const otherCa = await CertificateAuthority.open(directory.path);

  for (const [label, client] of [
    ['the system trust store', new Api(system.origin)],
    ['another CA', new Api(system.origin, undefined, { ca: otherCa.certificatePem })],
  ] as const) {
    const error = await t.throwsAsync(client.get('/'), undefined, label);
    t.regex(String((error?.cause as NodeJS.ErrnoException | undefined)?.code), /^(SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)$/, `${label}: ${String(error?.cause)}`);
    await client.close();
  }
  await t.throwsAsync(handshake(system.origin, { ca: otherCa.certificatePem }), { code: 'SELF_SIGNED_CERT_IN_CHAIN' });
});

test('pki-resource and /ca.crt serve exactly the CA certificate without credentials, as oVirt\'s engine does; what Drover does not serve is a 400 or 405 fault', async (t) => {
  const system = await InProcessSystem.start('sqlite', { label: 'it-https' });
  t.teardown(() => system.close());
  const pem = system.controller.ca.certificatePem;
  const anonymous = { auth: null } as const;

  for (const where of [caResource, '/ovirt-engine/services/pki-resource?resource=ca-certificate', `${system.origin}/ca.crt`]) {
    const response = await system.api.get(where, anonymous);
    t.is(response.status, 200, `${where}: ${response.text}`);
    t.is(response.headers.get('content-type'), 'application/x-x509-ca-cert', where);
    t.is(response.text, pem, `${where} is the CA certificate, byte for byte`);
  }
  const asPlainPem = await system.api.get('/ovirt-engine/services/pki-resource?resource=ca-certificate&format=X509-PEM', anonymous);
  t.is(asPlainPem.headers.get('content-type'), 'application/x-x509-cert');
  t.is(asPlainPem.text, pem);
  const head = await system.api.request('HEAD', `${system.origin}/ca.crt`, anonymous);
  t.is(head.status, 200);
  t.is(head.text, '');

  const engine = await system.api.get('/ovirt-engine/services/pki-resource?resource=engine-certificate', anonymous);
  t.is(engine.status, 200);
  t.is(engine.headers.get('content-type'), 'application/x-x509-cert');
  const presented = await handshake(system.origin, { ca: pem });
  t.true(new X509Certificate(engine.text).raw.equals(presented.certificate.raw), 'engine-certificate is the certificate the controller presents');

  const fault = async (where: string, detail: RegExp) => assertFault(t, await system.api.get(where, anonymous), 400, detail);
  await fault('/ovirt-engine/services/pki-resource', /needs resource=ca-certificate or engine-certificate/);
  await fault('/ovirt-engine/services/pki-resource?resource=bogus', /resource bogus is not one of ca-certificate, engine-certificate/);
  await fault('/ovirt-engine/services/pki-resource?resource=qemu-ca-certificate', /resource qemu-ca-certificate is not served/);
  await fault('/ovirt-engine/services/pki-resource?resource=ca-certificate&format=OPENSSH-PUBKEY', /format OPENSSH-PUBKEY is not served/);
  await fault('/ovirt-engine/services/pki-resource?resource=ca-certificate&format=DER', /format DER is not one of X509-PEM-CA, X509-PEM/);
  await fault('/ovirt-engine/services/pki-resource?resource=ca-certificate&resource=engine-certificate', /given more than once/);
  const posted = await system.api.post(`${system.origin}/ca.crt`, '<action/>', anonymous);
  assertFault(t, posted, 405, /allowed: GET, HEAD/);
  t.is(posted.headers.get('allow'), 'GET, HEAD');
});

test('with DROVER_API_TLS=off the API answers plain HTTP, also pki-resource, and a TLS handshake on its port fails', async (t) => {
  const system = await InProcessSystem.start('sqlite', { label: 'it-https', controller: { apiTls: { kind: 'off' } } });
  t.teardown(() => system.close());
  t.regex(system.controller.apiUrl, /^http:\/\/127\.0\.0\.1:\d+\/ovirt-engine\/api$/);
  t.is((await system.api.get('/')).status, 200);
  const served = await system.api.get(caResource, { auth: null });
  t.is(served.text, system.controller.ca.certificatePem);
  const overTls = new Api(system.origin.replace(/^http:/, 'https:'), undefined, { ca: system.controller.ca.certificatePem });
  await t.throwsAsync(overTls.get('/'));
  await overTls.close();
  await t.throwsAsync(handshake(system.origin, { ca: system.controller.ca.certificatePem }));
});

test('the operator\'s own certificate and key (DROVER_TLS_CERT, DROVER_TLS_KEY) are what the API presents; pki-resource still serves Drover\'s CA', async (t) => {
  const directory = await temporaryDirectory('https-operator');
  t.teardown(() => directory.remove());
  const operatorCa = await CertificateAuthority.open(path.join(directory.path, 'operator-ca'));
  const operator = await operatorCa.issueServerCertificate(['127.0.0.1'], 3600_000);
  const certificateFile = path.join(directory.path, 'api.pem');
  const keyFile = path.join(directory.path, 'api.key');
  await writeFile(certificateFile, operator.certificatePem);
  await writeFile(keyFile, operator.privateKeyPem, { mode: 0o600 });

  const system = await InProcessSystem.start('sqlite', { label: 'it-https', controller: { apiTls: { kind: 'given', certificateFile, keyFile } }, trust: operatorCa.certificatePem });
  t.teardown(() => system.close());
  const presented = await handshake(system.origin, { ca: operatorCa.certificatePem });
  t.true(presented.authorized);
  t.true(presented.certificate.raw.equals(new X509Certificate(operator.certificatePem).raw), 'the API presents the operator\'s certificate');
  t.is((await system.api.get('/')).status, 200, 'a client trusting the operator\'s CA gets its answers');
  await t.throwsAsync(handshake(system.origin, { ca: system.controller.ca.certificatePem }), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }, 'Drover\'s own CA does not vouch for the operator\'s certificate');
  t.is((await system.api.get(caResource, { auth: null })).text, system.controller.ca.certificatePem);

  const otherKeyFile = path.join(directory.path, 'other.key');
  await writeFile(otherKeyFile, (await operatorCa.issueServerCertificate(['127.0.0.1'], 3600_000)).privateKeyPem);
  await t.throwsAsync(InProcessSystem.start('sqlite', { label: 'it-https', controller: { apiTls: { kind: 'given', certificateFile, keyFile: otherKeyFile } } }), {
    message: `DROVER_TLS_KEY: ${otherKeyFile} is not the key of the certificate in ${certificateFile}`,
  }, 'a controller given a key that is not its certificate\'s does not start');
});
