import http from 'node:http';
import https from 'node:https';
import type { CertificateAndKey } from '../pki/given-certificate.js';

const timeouts = { keepAliveTimeout: 65_000, requestTimeout: 60_000 };

/**
 * The server the API listens with: HTTPS (TLS 1.2 or later) with the given
 * certificate chain and key, or plain HTTP without them. Either way an idle
 * keep-alive connection is kept 65 s and a request must arrive whole within
 * 60 s.
 */
export function createApiServer(handler: http.RequestListener, tls?: CertificateAndKey): http.Server {
  if (!tls) return http.createServer(timeouts, handler);
  return https.createServer({ ...timeouts, cert: tls.certificatePem, key: tls.privateKeyPem, minVersion: 'TLSv1.2' }, handler);
}
