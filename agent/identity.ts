import { X509Certificate } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** What an enrolled agent holds: its host id, its key and certificate, and the controller's CA certificate. */
export interface AgentIdentity {
  hostId: string;
  privateKeyPem: string;
  certificatePem: string;
  caCertificatePem: string;
}

const files = { privateKeyPem: 'host.key', certificatePem: 'host.pem', caCertificatePem: 'ca.pem' } as const;

/** The validity of the identity's certificate, in epoch milliseconds. */
export function validityOf(identity: AgentIdentity): { notBefore: number; notAfter: number } {
  const certificate = new X509Certificate(identity.certificatePem);
  return { notBefore: Date.parse(certificate.validFrom), notAfter: Date.parse(certificate.validTo) };
}

/** The host id a host certificate names (its common name). */
export function hostIdOf(certificatePem: string): string {
  const subject = new X509Certificate(certificatePem).subject;
  const commonName = /^CN=(.*)$/m.exec(subject)?.[1];
  if (!commonName) throw new Error('the host certificate names no host');
  return commonName;
}

/** The identity kept in the data directory, or undefined when the agent has not enrolled. */
export async function loadIdentity(dataDir: string): Promise<AgentIdentity | undefined> {
  const read = (name: string) => readFile(path.join(dataDir, name), 'utf8');
  let privateKeyPem: string;
  try {
    privateKeyPem = await read(files.privateKeyPem);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const [certificatePem, caCertificatePem] = await Promise.all([read(files.certificatePem), read(files.caCertificatePem)]);
  return { hostId: hostIdOf(certificatePem), privateKeyPem, certificatePem, caCertificatePem };
}

/** Keeps the identity in the data directory, each file replaced whole, all readable by the agent's user only (mode 0600). */
export async function saveIdentity(dataDir: string, identity: AgentIdentity): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  for (const key of ['caCertificatePem', 'certificatePem', 'privateKeyPem'] as const) {
    const target = path.join(dataDir, files[key]);
    const staging = `${target}.${process.pid}.new`;
    await writeFile(staging, identity[key], { mode: 0o600 });
    await rename(staging, target);
  }
}
