import type { experimental } from '@grpc/grpc-js';

type Update = experimental.CaCertificateUpdate | experimental.IdentityCertificateUpdate;

/**
 * A gRPC certificate provider of fixed certificates: a CA certificate, or an
 * identity (certificate chain and key). It delivers them to each listener
 * after the listener is added, as the credentials that add it expect (they
 * start watching only after adding their listeners).
 */
export function staticCertificates(update: experimental.CaCertificateUpdate | experimental.IdentityCertificateUpdate): experimental.CertificateProvider {
  const deliver = (listener: (update: never) => void) => setImmediate(() => listener(update as never));
  const isCa = (value: Update): value is experimental.CaCertificateUpdate => 'caCertificate' in value;
  return {
    addCaCertificateListener: (listener) => (isCa(update) ? deliver(listener) : listener(null)),
    removeCaCertificateListener: () => undefined,
    addIdentityCertificateListener: (listener) => (isCa(update) ? listener(null) : deliver(listener)),
    removeIdentityCertificateListener: () => undefined,
  };
}
