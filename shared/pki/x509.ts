import 'reflect-metadata';
import { createHash, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = webcrypto.CryptoKey;

/** Every Drover key is an ECDSA P-256 key signing with SHA-256. */
const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface KeyPair {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

export function generateKeyPair(): Promise<KeyPair> {
  return webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']) as Promise<KeyPair>;
}

export async function privateKeyToPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

export async function keyPairFromPem(privateKeyPem: string, certificatePem: string): Promise<KeyPair> {
  const privateKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(privateKeyPem), algorithm, true, ['sign']);
  const publicKey = await new x509.X509Certificate(certificatePem).publicKey.export(algorithm, ['verify']);
  return { privateKey, publicKey };
}

/** A PKCS #10 request, in PEM, for a certificate of the key pair; the CA decides the subject. */
export async function createCertificateRequest(keys: KeyPair): Promise<string> {
  const request = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=drover-agent', keys, signingAlgorithm: algorithm });
  return request.toString('pem');
}

/** The SHA-256 fingerprint of a certificate's DER encoding, lower-case hex without separators. */
export function fingerprintOf(certificatePem: string): string {
  return createHash('sha256').update(new X509Certificate(certificatePem).raw).digest('hex');
}

/** 16 random bytes as lower-case hex, the first in 0x40-0x7f so that the DER integer is positive and keeps all 16 bytes (its hex is the same wherever it is read). */
export function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x3f) | 0x40;
  return bytes.toString('hex');
}

export { x509, algorithm as signingAlgorithm };
