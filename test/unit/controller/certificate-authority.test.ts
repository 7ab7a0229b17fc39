import test from 'ava';
import { X509Certificate } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { CertificateAuthority, CertificateError } from '../../../controller/pki/certificate-authority.js';
import { createCertificateRequest, fingerprintOf, generateKeyPair } from '../../../shared/pki/x509.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';

const hostId = '0b5c2a43-5d3e-4f4c-9a4e-1f6f7d2c1a90';

test('a CA is created once in its directory, its key readable by its owner only, and loaded again from there', async (t) => {
  const directory = await temporaryDirectory('ca');
  t.teardown(() => directory.remove());
  const first = await CertificateAuthority.open(path.join(directory.path, 'pki'));
  const second = await CertificateAuthority.open(path.join(directory.path, 'pki'));
  t.is(second.fingerprint, first.fingerprint);
  t.is(first.fingerprint, fingerprintOf(first.certificatePem));
  t.regex(first.fingerprint, /^[0-9a-f]{64}$/);
  t.is((await stat(path.join(directory.path, 'pki', 'ca.key'))).mode & 0o777, 0o600);
  t.true(new X509Certificate(first.certificatePem).ca);
});

test('a signed host request names the host id whatever its own subject says, and is recognised as that host', async (t) => {
  const directory = await temporaryDirectory('ca');
  t.teardown(() => directory.remove());
  const ca = await CertificateAuthority.open(directory.path);
  const issued = await ca.signHostRequest(await createCertificateRequest(await generateKeyPair()), hostId, 3600_000);
  const certificate = new X509Certificate(issued.pem);
  t.true(certificate.subject.includes(`CN=${hostId}`));
  t.deepEqual(ca.hostIdentityOf(certificate.raw), { hostId, serial: issued.serial, notAfter: issued.notAfter });
});

test('certificates that are not this CA host certificates valid now are refused', async (t) => {
  const directory = await temporaryDirectory('ca');
  t.teardown(() => directory.remove());
  const ca = await CertificateAuthority.open(path.join(directory.path, 'one'));
  const other = await CertificateAuthority.open(path.join(directory.path, 'two'));
  const request = await createCertificateRequest(await generateKeyPair());
  const foreign = await other.signHostRequest(request, hostId, 3600_000);
  t.throws(() => ca.hostIdentityOf(new X509Certificate(foreign.pem).raw), { instanceOf: CertificateError, message: /not signed by this controller/ });
  const server = await ca.issueServerCertificate(['localhost', '127.0.0.1'], 3600_000);
  t.throws(() => ca.hostIdentityOf(new X509Certificate(server.certificatePem).raw), { instanceOf: CertificateError, message: /not a client certificate/ });
  const mine = await ca.signHostRequest(request, hostId, 3600_000);
  t.throws(() => ca.hostIdentityOf(new X509Certificate(mine.pem).raw, mine.notAfter + 1), { instanceOf: CertificateError, message: /not valid now/ });
  t.throws(() => ca.hostIdentityOf(Buffer.from('not a certificate')), { instanceOf: CertificateError });
});

test('requests that are not PKCS #10, or not signed by their key, or for another key type, are refused', async (t) => {
  const directory = await temporaryDirectory('ca');
  t.teardown(() => directory.remove());
  const ca = await CertificateAuthority.open(directory.path);
  await t.throwsAsync(ca.signHostRequest('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n', hostId, 1000), { instanceOf: CertificateError });
  await t.throwsAsync(ca.signHostRequest('garbage', hostId, 1000), { instanceOf: CertificateError });
  await t.throwsAsync(ca.signHostRequest(await createCertificateRequest(await generateKeyPair()), 'not-a-uuid', 1000), { instanceOf: CertificateError });
});

test('a server certificate carries its DNS names and IP addresses and the CA behind it', async (t) => {
  const directory = await temporaryDirectory('ca');
  t.teardown(() => directory.remove());
  const ca = await CertificateAuthority.open(directory.path);
  const server = await ca.issueServerCertificate(['controller.example', '127.0.0.1', '::1'], 3600_000);
  const leaf = new X509Certificate(server.certificatePem);
  t.true(leaf.checkHost('controller.example') !== undefined);
  t.truthy(leaf.checkIP('127.0.0.1'));
  t.truthy(leaf.checkIP('::1'));
  t.true(leaf.verify(new X509Certificate(ca.certificatePem).publicKey));
  t.true(server.certificatePem.includes(ca.certificatePem));
});
