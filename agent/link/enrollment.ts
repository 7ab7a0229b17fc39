import * as grpc from '@grpc/grpc-js';
import { createCertificateRequest, fingerprintOf, generateKeyPair, privateKeyToPem } from '../../shared/pki/x509.js';
import { loadAgentProtocol, type AgentGatewayClient } from '../../shared/proto/load.js';
import { hostIdOf, type AgentIdentity } from '../identity.js';

/** An enrollment token as an administrator hands it out: a secret, a dot, and the SHA-256 fingerprint of the controller's CA certificate. */
export interface EnrollmentToken {
  secret: string;
  caFingerprint: string;
}

export class EnrollmentError extends Error {}

export function parseEnrollmentToken(token: string): EnrollmentToken {
  const match = /^([A-Za-z0-9_-]{43})\.([0-9a-f]{64})$/.exec(token.trim());
  if (!match) throw new EnrollmentError('the enrollment token is malformed: it is a secret, a dot, and a 64-digit fingerprint, as the controller printed it');
  return { secret: match[1]!, caFingerprint: match[2]! };
}

const callTimeoutMs = 15_000;

function call<Response>(client: AgentGatewayClient, method: 'CaCertificate' | 'Enroll' | 'Renew', request: object): Promise<Response> {
  return new Promise((resolve, reject) => {
    const deadline = new Date(Date.now() + callTimeoutMs);
    (client[method] as unknown as (request: object, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null, response?: Response) => void) => void).call(client, request, { deadline }, (error, response) =>
      error ? reject(error) : resolve(response!),
    );
  });
}

function client(address: string, credentials: grpc.ChannelCredentials): AgentGatewayClient {
  const { AgentGateway } = loadAgentProtocol().drover.agent.v1;
  return new AgentGateway(address, credentials);
}

/** Channel credentials of an enrolled agent: its certificate as the client certificate, and only the controller's CA trusted. */
export function identityCredentials(identity: AgentIdentity): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(Buffer.from(identity.caCertificatePem), Buffer.from(identity.privateKeyPem), Buffer.from(identity.certificatePem));
}

/**
 * Enrolls with the controller: fetches its CA certificate (before any trust,
 * so it is accepted only when its fingerprint is the token's), then, over a
 * channel that trusts that CA alone, exchanges the token and a request for a
 * new key for a host certificate.
 */
export async function enroll(address: string, token: EnrollmentToken): Promise<AgentIdentity> {
  const untrusted = client(address, grpc.credentials.createSsl(null, null, null, { rejectUnauthorized: false }));
  let caCertificatePem: string;
  try {
    ({ certificate_pem: caCertificatePem } = await call<{ certificate_pem: string }>(untrusted, 'CaCertificate', {}));
  } finally {
    untrusted.close();
  }
  if (fingerprintOf(caCertificatePem) !== token.caFingerprint) {
    throw new EnrollmentError(`the controller at ${address} offers a CA whose fingerprint is not the enrollment token's: this is not the controller that issued the token`);
  }
  const keys = await generateKeyPair();
  const trusted = client(address, grpc.credentials.createSsl(Buffer.from(caCertificatePem)));
  try {
    const response = await call<{ host_id: string; certificate_pem: string }>(trusted, 'Enroll', { token: token.secret, certificate_request_pem: await createCertificateRequest(keys) });
    if (hostIdOf(response.certificate_pem) !== response.host_id) throw new EnrollmentError('the controller issued a certificate for another host id than it named');
    return { hostId: response.host_id, privateKeyPem: await privateKeyToPem(keys.privateKey), certificatePem: response.certificate_pem, caCertificatePem };
  } finally {
    trusted.close();
  }
}

/** Obtains a new certificate, for a new key, for the host the current certificate names. */
export async function renew(address: string, identity: AgentIdentity): Promise<AgentIdentity> {
  const keys = await generateKeyPair();
  const enrolled = client(address, identityCredentials(identity));
  try {
    const response = await call<{ certificate_pem: string }>(enrolled, 'Renew', { certificate_request_pem: await createCertificateRequest(keys) });
    if (hostIdOf(response.certificate_pem) !== identity.hostId) throw new EnrollmentError('the controller renewed the certificate for another host');
    return { ...identity, privateKeyPem: await privateKeyToPem(keys.privateKey), certificatePem: response.certificate_pem };
  } finally {
    enrolled.close();
  }
}
