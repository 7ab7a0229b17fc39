import test from 'ava';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { configFromEnvironment } from '../../../controller/config.js';
import { CertificateAuthority, CertificateError } from '../../../controller/pki/certificate-authority.js';
import { loadGivenCertificate } from '../../../controller/pki/given-certificate.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';

test('the API serves HTTPS with the certificate the CA issues unless DROVER_API_TLS=off or the operator gives a certificate and key', (t) => {
  t.deepEqual(configFromEnvironment({}).apiTls, { kind: 'issued' });
  t.deepEqual(configFromEnvironment({ DROVER_API_TLS: 'on' }).apiTls, { kind: 'issued' });
  t.deepEqual(configFromEnvironment({ DROVER_API_TLS: 'off' }).apiTls, { kind: 'off' });
  t.deepEqual(configFromEnvironment({ DROVER_TLS_CERT: 'api.pem', DROVER_TLS_KEY: '/etc/drover/api.key' }).apiTls, {
    kind: 'given',
    certificateFile: path.resolve('api.pem'),
    keyFile: '/etc/drover/api.key',
  });
});

test('API TLS settings that contradict each other or are unknown stop the controller with a message naming them', (t) => {
  t.throws(() => configFromEnvironment({ DROVER_API_TLS: 'yes' }), { message: /DROVER_API_TLS must be on or off, not yes/ });
  t.throws(() => configFromEnvironment({ DROVER_TLS_CERT: 'api.pem' }), { message: /DROVER_TLS_CERT and DROVER_TLS_KEY go together/ });
  t.throws(() => configFromEnvironment({ DROVER_TLS_KEY: 'api.key' }), { message: /DROVER_TLS_CERT and DROVER_TLS_KEY go together/ });
  t.throws(() => configFromEnvironment({ DROVER_API_TLS: 'off', DROVER_TLS_CERT: 'api.pem', DROVER_TLS_KEY: 'api.key' }), { message: /cannot be given with DROVER_API_TLS=off/ });
});

test("the operator's certificate and key are read when they are readable PEM, belong together and are valid now; otherwise the message says which file is wrong", async (t) => {
  const directory = await temporaryDirectory('api-tls');
  t.teardown(() => directory.remove());
  const ca = await CertificateAuthority.open(path.join(directory.path, 'ca'));
  const issued = await ca.issueServerCertificate(['127.0.0.1'], 3600_000);
  const other = await ca.issueServerCertificate(['127.0.0.1'], 3600_000);
  const file = async (name: string, text: string) => {
    const where = path.join(directory.path, name);
    await writeFile(where, text);
    return where;
  };
  const certificateFile = await file('api.pem', issued.certificatePem);
  const keyFile = await file('api.key', issued.privateKeyPem);

  t.deepEqual(await loadGivenCertificate({ certificateFile, keyFile }), { certificatePem: issued.certificatePem, privateKeyPem: issued.privateKeyPem });
  const missing = path.join(directory.path, 'missing.pem');
  await t.throwsAsync(loadGivenCertificate({ certificateFile: missing, keyFile }), { instanceOf: CertificateError, message: `DROVER_TLS_CERT: cannot read ${missing} (ENOENT)` });
  await t.throwsAsync(loadGivenCertificate({ certificateFile, keyFile: missing }), { instanceOf: CertificateError, message: `DROVER_TLS_KEY: cannot read ${missing} (ENOENT)` });
  const garbage = await file('garbage.pem', 'not PEM at all\n');
  await t.throwsAsync(loadGivenCertificate({ certificateFile: garbage, keyFile }), { instanceOf: CertificateError, message: `DROVER_TLS_CERT: ${garbage} holds no PEM certificate` });
  await t.throwsAsync(loadGivenCertificate({ certificateFile, keyFile: garbage }), { instanceOf: CertificateError, message: `DROVER_TLS_KEY: ${garbage} holds no unencrypted PEM private key` });
  const otherKey = await file('other.key', other.privateKeyPem);
  await t.throwsAsync(loadGivenCertificate({ certificateFile, keyFile: otherKey }), { instanceOf: CertificateError, message: `DROVER_TLS_KEY: ${otherKey} is not the key of the certificate in ${certificateFile}` });
  await t.throwsAsync(loadGivenCertificate({ certificateFile, keyFile }, Date.now() + 2 * 3600_000), { instanceOf: CertificateError, message: /DROVER_TLS_CERT: the certificate in .* is valid from .* to .*, not now/ });
});
