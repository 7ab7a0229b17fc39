import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { CertificateError } from './certificate-authority.js';

/** A server certificate (with the CA certificates behind it, if any) and its private key, in PEM. */
export interface CertificateAndKey {
  certificatePem: string;
  privateKeyPem: string;
}

/**
 * Reads the operator's own certificate for the API (DROVER_TLS_CERT: PEM, the
 * server's certificate first, then any intermediate CA certificates) and its
 * private key (DROVER_TLS_KEY: PEM, not encrypted). It refuses, saying which
 * file is wrong and why, a file it cannot read, a certificate or key it cannot
 * parse, a key that is not the certificate's, and a certificate that is not
 * valid now.
 */
export async function loadGivenCertificate(files: { certificateFile: string; keyFile: string }, now = Date.now()): Promise<CertificateAndKey> {
  const certificatePem = await readPem(files.certificateFile, 'DROVER_TLS_CERT');
  const privateKeyPem = await readPem(files.keyFile, 'DROVER_TLS_KEY');
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certificatePem);
  } catch {
    throw new CertificateError(`DROVER_TLS_CERT: ${files.certificateFile} holds no PEM certificate`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch {
    throw new CertificateError(`DROVER_TLS_KEY: ${files.keyFile} holds no unencrypted PEM private key`);
  }
  if (!certificate.checkPrivateKey(key)) throw new CertificateError(`DROVER_TLS_KEY: ${files.keyFile} is not the key of the certificate in ${files.certificateFile}`);
  if (now < Date.parse(certificate.validFrom) || now > Date.parse(certificate.validTo)) {
    throw new CertificateError(`DROVER_TLS_CERT: the certificate in ${files.certificateFile} is valid from ${certificate.validFrom} to ${certificate.validTo}, not now`);
  }
  return { certificatePem, privateKeyPem };
}

async function readPem(file: string, setting: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new CertificateError(`${setting}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}
