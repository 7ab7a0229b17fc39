import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Orm } from '../db/orm.js';
import { HostCertificate, HostEnrollmentToken } from '../db/entities.js';
import { inTransaction, reader } from '../db/store.js';
import { CertificateError, type CertificateAuthority, type HostIdentity } from '../pki/certificate-authority.js';
import { invalid, notFound, ServiceError } from '../rules/errors.js';

export interface EnrollmentSettings {
  /** How long a new enrollment token is valid unless its creator says otherwise. */
  tokenLifetimeMs: number;
  /** How long a host certificate is valid; agents renew theirs when a third of that is left. */
  hostCertificateLifetimeMs: number;
}

export const maxTokenLifetimeMs = 7 * 24 * 3600_000;

export interface NewEnrollmentToken {
  record: HostEnrollmentToken;
  /** The token to give the agent, shown once: its secret, a dot, and the CA's SHA-256 fingerprint. */
  token: string;
}

export interface Enrollment {
  hostId: string;
  certificatePem: string;
  caCertificatePem: string;
}

const refused = (detail: string) => new ServiceError('unauthorized', 'Unauthorized', detail);
const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');
const secretPattern = /^[A-Za-z0-9_-]{43}$/;

/**
 * Enrollment of hosts and the life of their certificates: one-time tokens
 * (stored as hashes), certificates signed by the controller's CA for the
 * hosts that present a token, renewal, and revocation. Every session check
 * reads the database, so a revocation made by any writer (the API, the
 * `drover` tool, a host's deletion) holds at the next session.
 */
export class EnrollmentService {
  constructor(
    private readonly orm: Orm,
    readonly ca: CertificateAuthority,
    private readonly settings: EnrollmentSettings,
  ) {}

  /** Creates a token that lives `lifetimeMs`, or until `expiresAt` (milliseconds since the epoch), or the configured lifetime. */
  async createToken(options: { description?: string; lifetimeMs?: number; expiresAt?: number; createdBy?: string } = {}): Promise<NewEnrollmentToken> {
    const now = Date.now();
    const lifetimeMs = options.expiresAt !== undefined ? options.expiresAt - now : (options.lifetimeMs ?? this.settings.tokenLifetimeMs);
    if (!Number.isSafeInteger(lifetimeMs) || lifetimeMs < 1000 || lifetimeMs > maxTokenLifetimeMs) throw invalid(`an enrollment token lives from 1 second to ${maxTokenLifetimeMs / 3600_000} hours`);
    const secret = randomBytes(32).toString('base64url');
    const record = await inTransaction(this.orm, async (em) =>
      em.create(HostEnrollmentToken, {
        id: randomUUID(),
        tokenHash: sha256(secret),
        description: options.description ?? '',
        createdBy: options.createdBy ?? null,
        createdAt: now,
        expiresAt: now + lifetimeMs,
        usedAt: null,
        hostId: null,
      }),
    );
    return { record, token: `${secret}.${this.ca.fingerprint}` };
  }

  listTokens(): Promise<HostEnrollmentToken[]> {
    return reader(this.orm).find(HostEnrollmentToken, {}, { orderBy: { createdAt: 'asc' } });
  }

  async getToken(id: string): Promise<HostEnrollmentToken> {
    const token = await reader(this.orm).findOne(HostEnrollmentToken, { id });
    if (!token) throw notFound('host enrollment token', id);
    return token;
  }

  async removeToken(id: string): Promise<void> {
    if (!(await reader(this.orm).nativeDelete(HostEnrollmentToken, { id }))) throw notFound('host enrollment token', id);
  }

  /** Uses up a token for a new host: its certificate, for the request's key, names a host id chosen here. */
  async enroll(secret: string, requestPem: string): Promise<Enrollment> {
    if (!secretPattern.test(secret)) throw refused('the enrollment token is not valid');
    const token = await reader(this.orm).findOne(HostEnrollmentToken, { tokenHash: sha256(secret) });
    const now = Date.now();
    if (!token) throw refused('the enrollment token is not valid');
    if (token.usedAt !== null) throw refused('the enrollment token was used already');
    if (token.expiresAt <= now) throw refused('the enrollment token has expired');
    const hostId = randomUUID();
    const issued = await this.sign(requestPem, hostId);
    await inTransaction(this.orm, async (em) => {
      const taken = await em.nativeUpdate(HostEnrollmentToken, { id: token.id, usedAt: null, expiresAt: { $gt: now } }, { usedAt: now, hostId });
      if (taken !== 1) throw refused('the enrollment token was used already');
      em.create(HostCertificate, { serial: issued.serial, hostId, issuedAt: now, notAfter: issued.notAfter, revokedAt: null });
    });
    return { hostId, certificatePem: issued.pem, caCertificatePem: this.ca.certificatePem };
  }

  /** A new certificate for the host a valid certificate names. */
  async renew(identity: HostIdentity, requestPem: string): Promise<string> {
    const issued = await this.sign(requestPem, identity.hostId);
    await inTransaction(this.orm, async (em) => em.create(HostCertificate, { serial: issued.serial, hostId: identity.hostId, issuedAt: Date.now(), notAfter: issued.notAfter, revokedAt: null }));
    return issued.pem;
  }

  /** The host a peer's certificate (DER) names, when the CA issued it, it is valid now, and it is not revoked. */
  async verifyPeer(der: Buffer | undefined): Promise<HostIdentity> {
    if (!der) throw refused('a session needs the host certificate the controller issued at enrollment');
    let identity: HostIdentity;
    try {
      identity = this.ca.hostIdentityOf(der);
    } catch (error) {
      if (error instanceof CertificateError) throw refused(error.message);
      throw error;
    }
    const record = await reader(this.orm).findOne(HostCertificate, { serial: identity.serial });
    if (!record || record.hostId !== identity.hostId) throw refused(`certificate ${identity.serial} is not one this controller issued`);
    if (record.revokedAt !== null) throw refused(`certificate ${identity.serial} of host ${identity.hostId} was revoked`);
    return identity;
  }

  listCertificates(hostId?: string): Promise<HostCertificate[]> {
    return reader(this.orm).find(HostCertificate, hostId ? { hostId } : {}, { orderBy: { issuedAt: 'asc' } });
  }

  /** Revokes one certificate, or every certificate of a host; returns how many it revoked. */
  async revoke(target: { serial: string } | { hostId: string }): Promise<number> {
    return reader(this.orm).nativeUpdate(HostCertificate, { ...target, revokedAt: null }, { revokedAt: Date.now() });
  }

  /** Which of the given serials are revoked, for ending the sessions that present them. */
  async revokedAmong(serials: string[]): Promise<Set<string>> {
    if (!serials.length) return new Set();
    const rows = await reader(this.orm).find(HostCertificate, { serial: { $in: serials }, revokedAt: { $ne: null } }, { fields: ['serial'] });
    return new Set(rows.map((row) => row.serial));
  }

  private async sign(requestPem: string, hostId: string) {
    if (typeof requestPem !== 'string' || requestPem.length > 16 * 1024) throw invalid('the certificate request is missing or too long');
    try {
      return await this.ca.signHostRequest(requestPem, hostId, this.settings.hostCertificateLifetimeMs);
    } catch (error) {
      if (error instanceof CertificateError) throw invalid(error.message);
      throw error;
    }
  }
}
