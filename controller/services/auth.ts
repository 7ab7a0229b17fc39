import { createHash, randomBytes, randomUUID, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { Orm } from '../db/orm.js';
import { AccessToken, User } from '../db/entities.js';
import { ServiceError } from '../rules/errors.js';
import { inTransaction, reader } from '../db/store.js';
import { ExpiringMap } from './expiring-map.js';
import { LoginThrottle, type LoginThrottleSettings } from './login-throttle.js';
import { Semaphore } from './semaphore.js';
import { eventOf, noEvents, type EventSink } from '../rules/events.js';

const scrypt = promisify(scryptCallback) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;

export const adminUserName = 'admin@internal';
const verifiedCacheMs = 60_000;

export interface Principal {
  userId: string;
  name: string;
}

export interface AuthSettings {
  tokenLifetimeMs: number;
  loginThrottle: LoginThrottleSettings;
  /** How many password verifications (scrypt, 35 to 40 ms of a libuv thread each) run at once; the others wait their turn. */
  concurrentPasswordChecks: number;
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

/** Creates admin@internal with `password`, or gives the existing one that password. */
export async function setAdminPassword(orm: Orm, password: string): Promise<void> {
  const passwordHash = await hashPassword(password);
  await inTransaction(orm, async (em) => {
    const admin = await em.findOne(User, { name: adminUserName });
    if (admin) admin.passwordHash = passwordHash;
    else em.create(User, { id: randomUUID(), name: adminUserName, passwordHash, createdAt: Date.now() });
  });
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/**
 * Authenticates API callers by password (HTTP Basic, SSO password grant) and
 * by bearer token. Passwords are stored as scrypt hashes and tokens as SHA-256
 * hashes. A successful verification is remembered for a minute, keyed by a
 * hash of the credentials, so that clients sending Basic credentials on every
 * request do not pay for scrypt each time; concurrent requests with the same
 * credentials share one verification.
 *
 * Password attempts go through a LoginThrottle (per client address and per
 * user name) before anything is checked, and at most
 * `concurrentPasswordChecks` scrypt verifications run at once, so that wrong
 * passwords cannot take the libuv thread pool from file and DNS work. An
 * unknown user name is checked against a dummy hash with the same scrypt
 * parameters, so that the answer takes as long as for a known user.
 *
 * A revoked token is refused from the next request on: its row is deleted
 * and its cached verification dropped, and a verification that read the row
 * before the revocation is not cached.
 */
export class AuthService {
  private readonly verified = new ExpiringMap<Principal>(10_000);
  private readonly verifying = new Map<string, Promise<Principal>>();
  private readonly throttle: LoginThrottle;
  private readonly passwordChecks: Semaphore;
  private readonly dummyHash = hashPassword(randomBytes(18).toString('base64url'));
  private revocations = 0;

  constructor(
    private readonly orm: Orm,
    private readonly settings: AuthSettings,
    private readonly events: EventSink = noEvents,
  ) {
    this.throttle = new LoginThrottle(settings.loginThrottle);
    this.passwordChecks = new Semaphore(settings.concurrentPasswordChecks);
  }

  /** Sets the admin password when one is configured; otherwise creates the admin with a generated one, which is returned once. */
  async ensureAdmin(configuredPassword: string | undefined): Promise<string | undefined> {
    if (configuredPassword !== undefined) {
      await setAdminPassword(this.orm, configuredPassword);
      return undefined;
    }
    if (await reader(this.orm).findOne(User, { name: adminUserName })) return undefined;
    const generated = randomBytes(18).toString('base64url');
    await setAdminPassword(this.orm, generated);
    return generated;
  }

  /** Checks a user name and password from `clientAddress`; throws `unauthorized`, or LoginThrottled without checking. */
  async authenticatePassword(name: string, password: string, clientAddress: string): Promise<Principal> {
    const cacheKey = `password:${sha256(`${name}\0${password}`)}`;
    const cached = this.verified.get(cacheKey);
    if (cached) return cached;
    const pending = this.verifying.get(cacheKey);
    if (pending) return pending;
    const userName = normalizeUserName(name);
    const attempt = this.throttle.admit(userName, clientAddress);
    const verification = this.verifyUser(userName, password).then(
      (principal) => {
        attempt.succeeded();
        this.events.record(eventOf('user_logged_in', { user: principal.name }, { userId: principal.userId, userName: principal.name }));
        this.verified.set(cacheKey, principal, Date.now() + verifiedCacheMs);
        return principal;
      },
      (error: unknown) => {
        if (error instanceof ServiceError && error.kind === 'unauthorized') {
          attempt.failed();
          this.events.record(eventOf('user_login_failed', { user: userName, address: clientAddress }, { userName }));
        } else {
          attempt.abandoned();
        }
        throw error;
      },
    );
    this.verifying.set(cacheKey, verification);
    try {
      return await verification;
    } finally {
      this.verifying.delete(cacheKey);
    }
  }

  private async verifyUser(userName: string, password: string): Promise<Principal> {
    const user = await reader(this.orm).findOne(User, { name: userName });
    const storedHash = user?.passwordHash ?? (await this.dummyHash);
    const matches = await this.passwordChecks.run(() => verifyPassword(password, storedHash));
    if (!user || !matches) throw unauthorized('the user name or password is not valid');
    return { userId: user.id, name: user.name };
  }

  async authenticateToken(token: string): Promise<Principal> {
    const tokenHash = sha256(token);
    const cacheKey = `token:${tokenHash}`;
    const cached = this.verified.get(cacheKey);
    if (cached) return cached;
    const revocationsBefore = this.revocations;
    const em = reader(this.orm);
    const stored = await em.findOne(AccessToken, { tokenHash });
    if (!stored || stored.expiresAt <= Date.now()) throw unauthorized('the access token is not valid or has expired');
    const user = await em.findOne(User, { id: stored.userId });
    if (!user) throw unauthorized('the access token belongs to no user');
    const principal = { userId: user.id, name: user.name };
    if (this.revocations === revocationsBefore) this.verified.set(cacheKey, principal, Math.min(Date.now() + verifiedCacheMs, stored.expiresAt));
    return principal;
  }

  async issueToken(principal: Principal): Promise<{ token: string; expiresAt: number }> {
    const token = randomBytes(32).toString('base64url');
    const now = Date.now();
    const expiresAt = now + this.settings.tokenLifetimeMs;
    await inTransaction(this.orm, async (em) => em.create(AccessToken, { tokenHash: sha256(token), userId: principal.userId, createdAt: now, expiresAt }));
    return { token, expiresAt };
  }

  /** Revokes a token this controller issued and answers true; a token it does not know changes nothing and answers false. */
  async revokeToken(token: string): Promise<boolean> {
    const tokenHash = sha256(token);
    const deleted = await reader(this.orm).nativeDelete(AccessToken, { tokenHash });
    if (deleted === 0) return false;
    this.revocations++;
    this.verified.delete(`token:${tokenHash}`);
    return true;
  }
}

function normalizeUserName(name: string): string {
  return name.endsWith('@internal-authz') ? name.replace(/@internal-authz$/, '@internal') : name;
}
