import { createHash, randomBytes, randomUUID, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { Orm } from '../db/orm.js';
import { AccessToken, User } from '../db/entities.js';
import { ServiceError } from '../rules/errors.js';
import { inTransaction, reader } from '../db/store.js';

const scrypt = promisify(scryptCallback) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;

export const adminUserName = 'admin@internal';
const verifiedCacheMs = 60_000;

export interface Principal {
  userId: string;
  name: string;
}

export const unauthorized = (detail: string) => new ServiceError('unauthorized', 'Unauthorized', detail);

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, 32);
  return `scrypt$${salt.toString('base64')}$${key.toString('base64')}`;
}

async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64');
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), expected.length);
  return timingSafeEqual(actual, expected);
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/**
 * Authenticates API callers by password (HTTP Basic, SSO password grant) and
 * by bearer token. Passwords are stored as scrypt hashes and tokens as SHA-256
 * hashes. A successful verification is remembered for a minute, keyed by a
 * hash of the credentials, so that clients sending Basic credentials on every
 * request do not pay for scrypt each time.
 */
export class AuthService {
  private readonly verified = new Map<string, { principal: Principal; until: number }>();
  private readonly revoked = new Map<string, number>();

  constructor(
    private readonly orm: Orm,
    readonly tokenLifetimeMs: number,
  ) {}

  /** Sets the admin password when one is configured; otherwise creates the admin with a generated one, which is returned once. */
  async ensureAdmin(configuredPassword: string | undefined): Promise<string | undefined> {
    const em = reader(this.orm);
    const admin = await em.findOne(User, { name: adminUserName });
    if (configuredPassword !== undefined) {
      const passwordHash = await hashPassword(configuredPassword);
      if (admin) await em.nativeUpdate(User, { id: admin.id }, { passwordHash });
      else await inTransaction(this.orm, async (tx) => tx.create(User, { id: randomUUID(), name: adminUserName, passwordHash, createdAt: Date.now() }));
      return undefined;
    }
    if (admin) return undefined;
    const generated = randomBytes(18).toString('base64url');
    const passwordHash = await hashPassword(generated);
    await inTransaction(this.orm, async (tx) => tx.create(User, { id: randomUUID(), name: adminUserName, passwordHash, createdAt: Date.now() }));
    return generated;
  }

  async authenticatePassword(name: string, password: string): Promise<Principal> {
    const cacheKey = `password:${sha256(`${name}\0${password}`)}`;
    const cached = this.fromCache(cacheKey);
    if (cached) return cached;
    const user = await reader(this.orm).findOne(User, { name: normalizeUserName(name) });
    if (!user || !(await verifyPassword(password, user.passwordHash))) throw unauthorized('the user name or password is not valid');
    const principal = { userId: user.id, name: user.name };
    this.verified.set(cacheKey, { principal, until: Date.now() + verifiedCacheMs });
    return principal;
  }

  async authenticateToken(token: string): Promise<Principal> {
    const tokenHash = sha256(token);
    const cacheKey = `token:${tokenHash}`;
    const cached = this.fromCache(cacheKey);
    if (cached) return cached;
    const em = reader(this.orm);
    const stored = await em.findOne(AccessToken, { tokenHash });
    if (!stored || stored.expiresAt <= Date.now()) throw unauthorized('the access token is not valid or has expired');
    const user = await em.findOne(User, { id: stored.userId });
    if (!user) throw unauthorized('the access token belongs to no user');
    if (this.revoked.has(tokenHash)) throw unauthorized('the access token was revoked');
    const principal = { userId: user.id, name: user.name };
    this.verified.set(cacheKey, { principal, until: Math.min(Date.now() + verifiedCacheMs, stored.expiresAt) });
    return principal;
  }

  async issueToken(principal: Principal): Promise<{ token: string; expiresAt: number }> {
    const token = randomBytes(32).toString('base64url');
    const now = Date.now();
    const expiresAt = now + this.tokenLifetimeMs;
    await inTransaction(this.orm, async (em) => em.create(AccessToken, { tokenHash: sha256(token), userId: principal.userId, createdAt: now, expiresAt }));
    return { token, expiresAt };
  }

  async revokeToken(token: string): Promise<void> {
    const tokenHash = sha256(token);
    const now = Date.now();
    for (const [hash, until] of this.revoked) if (until <= now) this.revoked.delete(hash);
    this.revoked.set(tokenHash, now + this.tokenLifetimeMs);
    this.verified.delete(`token:${tokenHash}`);
    await reader(this.orm).nativeDelete(AccessToken, { tokenHash });
  }

  private fromCache(key: string): Principal | undefined {
    const entry = this.verified.get(key);
    if (!entry) return undefined;
    if (entry.until > Date.now()) return entry.principal;
    this.verified.delete(key);
    return undefined;
  }
}

function normalizeUserName(name: string): string {
  return name.endsWith('@internal-authz') ? name.replace(/@internal-authz$/, '@internal') : name;
}
