import type { Next } from 'koa';
import { ServiceError, invalid } from '../../rules/errors.js';
import type { ApiContext } from '../context.js';
import { querySingle } from '../input/request.js';

/** The certificates clients may fetch before they trust the controller, in PEM. */
export interface PkiDocuments {
  /** The controller's CA certificate: what a client trusts to verify the API's and the agents' endpoints. */
  caCertificatePem: string;
  /** The certificate the controller's CA issued for the controller's endpoints (without the CA's behind it). */
  engineCertificatePem: string;
}

export const pkiResourcePath = '/ovirt-engine/services/pki-resource';
const caFilePath = '/ca.crt';

/** The formats of oVirt's pki-resource that Drover serves, each with the content type oVirt's engine gives it. */
const formats = { 'X509-PEM-CA': 'application/x-x509-ca-cert', 'X509-PEM': 'application/x-x509-cert' } as const;
type Format = keyof typeof formats;

/** The resources of oVirt's pki-resource that Drover serves, each with its format when the request names none (oVirt's defaults). */
const resources = {
  'ca-certificate': { format: 'X509-PEM-CA', pem: (documents: PkiDocuments) => documents.caCertificatePem },
  'engine-certificate': { format: 'X509-PEM', pem: (documents: PkiDocuments) => documents.engineCertificatePem },
} as const satisfies Record<string, { format: Format; pem: (documents: PkiDocuments) => string }>;

/** What oVirt's engine serves at pki-resource and Drover does not, and why. */
const notServed: Record<string, string> = {
  'qemu-ca-certificate': 'Drover has no separate CA for QEMU; its CA is resource=ca-certificate',
  'OPENSSH-PUBKEY': 'Drover serves certificates only as X509-PEM-CA or X509-PEM',
};

/**
 * The CA certificate for clients, without credentials (a client needs it
 * before it can trust the server): oVirt's
 * `GET /ovirt-engine/services/pki-resource?resource=...&format=...` and
 * `GET /ca.crt` (the CA certificate, as libgovirt fetches it).
 */
export function pkiRoutes(documents: PkiDocuments) {
  return async (ctx: ApiContext, next: Next) => {
    if (ctx.path !== pkiResourcePath && ctx.path !== caFilePath) return next();
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.set('Allow', 'GET, HEAD');
      throw new ServiceError('method_not_allowed', 'Method Not Allowed', `${ctx.method} is not allowed on ${ctx.path}; allowed: GET, HEAD`);
    }
    if (ctx.path === caFilePath) return send(ctx, formats['X509-PEM-CA'], documents.caCertificatePem);
    const resourceName = querySingle(ctx, 'resource');
    const formatName = querySingle(ctx, 'format');
    if (resourceName === undefined) throw invalid(`${pkiResourcePath} needs resource=${Object.keys(resources).join(' or ')}`);
    if (formatName !== undefined && Object.hasOwn(notServed, formatName)) throw invalid(`format ${formatName} is not served: ${notServed[formatName]}`);
    if (formatName !== undefined && !Object.hasOwn(formats, formatName)) throw invalid(`format ${formatName} is not one of ${Object.keys(formats).join(', ')}`);
    if (Object.hasOwn(notServed, resourceName)) throw invalid(`resource ${resourceName} is not served: ${notServed[resourceName]}`);
    if (!Object.hasOwn(resources, resourceName)) throw invalid(`resource ${resourceName} is not one of ${Object.keys(resources).join(', ')}`);
    const resource = resources[resourceName as keyof typeof resources];
    send(ctx, formats[(formatName as Format | undefined) ?? resource.format], resource.pem(documents));
  };
}

function send(ctx: ApiContext, contentType: string, pem: string): void {
  ctx.set('Content-Type', contentType);
  ctx.body = pem;
}
