import { isIPv4, isIPv6 } from 'node:net';
import { ExpiringMap } from './expiring-map.js';

/** How wrong passwords of one key (a client address, or a user name) make its further attempts wait. */
export interface LockRule {
  /** The wrong passwords that cost nothing. */
  freeFailures: number;
  /** The wait after the first wrong password beyond the free ones, in seconds; each further one doubles it. */
  firstLockSeconds: number;
  /** The longest wait, in seconds. */
  maxLockSeconds: number;
}

/** How wrong passwords slow down further attempts; `controller/config.ts` reads them from the environment. */
export interface LoginThrottleSettings {
  /** Strict and long: a client address is where a guesser is. */
  perAddress: LockRule;
  /** Mild and short: a guesser elsewhere can make the real user wait at most `maxLockSeconds`. */
  perUser: LockRule;
  /** The most client addresses, and the most user names, the throttle remembers at once. */
  rememberedKeys: number;
}

/** Refusal of a password attempt, without checking it, because of recent wrong passwords. */
export class LoginThrottled extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super(`too many wrong passwords from this address or for this user; try again in ${retryAfterSeconds} s`);
  }
}

/** The outcome of an admitted attempt, to be told once: a right password, a wrong one, or none known (the check itself failed). */
export interface LoginAttempt {
  succeeded(): void;
  failed(): void;
  abandoned(): void;
}

type Outcome = 'succeeded' | 'failed' | 'abandoned';

const minimumMemoryMs = 15 * 60_000;

interface Failures {
  count: number;
  inFlight: number;
  lockedUntil: number;
}

/**
 * Counts wrong passwords per key. A key's first `freeFailures` cost nothing;
 * each further one locks the key for twice as long as the last, from
 * `firstLockSeconds` up to `maxLockSeconds`. An attempt in flight counts as
 * a failure until it ends, and once a key has used up its free failures only
 * one attempt of it is checked at a time, so that parallel guesses cannot
 * outrun the lock. A key forgets its failures after max(15 minutes, twice
 * its longest lock) without an attempt.
 */
class FailureCounts {
  private readonly counts: ExpiringMap<Failures>;
  private readonly freeFailures: number;
  private readonly firstLockMs: number;
  private readonly maxLockMs: number;
  private readonly memoryMs: number;

  constructor(
    rule: LockRule,
    private readonly forgiveOnSuccess: boolean,
    capacity: number,
    private readonly now: () => number,
  ) {
    this.counts = new ExpiringMap(capacity, now);
    this.freeFailures = rule.freeFailures;
    this.firstLockMs = rule.firstLockSeconds * 1000;
    this.maxLockMs = rule.maxLockSeconds * 1000;
    this.memoryMs = Math.max(minimumMemoryMs, 2 * this.maxLockMs);
  }

  get size(): number {
    return this.counts.size;
  }

  /** Milliseconds the key has to wait before its next attempt, or 0. */
  waitMs(key: string): number {
    const failures = this.counts.get(key);
    if (!failures) return 0;
    const now = this.now();
    if (failures.lockedUntil > now) return failures.lockedUntil - now;
    if (failures.inFlight === 0 || failures.count + failures.inFlight <= this.freeFailures) return 0;
    return this.lockMs(failures.count + 1);
  }

  begin(key: string): void {
    const failures = this.counts.get(key) ?? { count: 0, inFlight: 0, lockedUntil: 0 };
    failures.inFlight++;
    this.counts.set(key, failures, this.now() + this.memoryMs);
  }

  end(key: string, outcome: Outcome): void {
    const failures = this.counts.get(key) ?? { count: 0, inFlight: 1, lockedUntil: 0 };
    failures.inFlight--;
    if (outcome === 'failed') {
      failures.count++;
      if (failures.count > this.freeFailures) failures.lockedUntil = this.now() + this.lockMs(failures.count);
    } else if (outcome === 'succeeded' && this.forgiveOnSuccess) {
      failures.count = 0;
      failures.lockedUntil = 0;
    }
    if (failures.count === 0 && failures.inFlight === 0) this.counts.delete(key);
    else this.counts.set(key, failures, this.now() + this.memoryMs);
  }

  private lockMs(failureCount: number): number {
    const beyondFree = failureCount - this.freeFailures - 1;
    return Math.min(this.maxLockMs, this.firstLockMs * 2 ** Math.min(beyondFree, 40));
  }
}

/**
 * Throttles password attempts by client address and by user name, known or
 * not, before anything is checked. Per address the limit is strict and long:
 * it is where a guesser is. Per user name it is mild and short, so that a
 * guesser elsewhere can make the real user wait at most
 * `perUser.maxLockSeconds`. A right password forgives the
 * user name's failures, not the address's: otherwise a guesser who knows one
 * account could clear the address between guesses.
 */
export class LoginThrottle {
  private readonly byAddress: FailureCounts;
  private readonly byUser: FailureCounts;

  constructor(settings: LoginThrottleSettings, now: () => number = Date.now) {
    this.byAddress = new FailureCounts(settings.perAddress, false, settings.rememberedKeys, now);
    this.byUser = new FailureCounts(settings.perUser, true, settings.rememberedKeys, now);
  }

  /** How many addresses and user names the throttle remembers now; never more than `rememberedKeys` each. */
  get remembered(): { addresses: number; users: number } {
    return { addresses: this.byAddress.size, users: this.byUser.size };
  }

  /** Admits an attempt for `userName` from `clientAddress`, or throws LoginThrottled. */
  admit(userName: string, clientAddress: string): LoginAttempt {
    const address = addressKey(clientAddress);
    const waitMs = Math.max(this.byAddress.waitMs(address), this.byUser.waitMs(userName));
    if (waitMs > 0) throw new LoginThrottled(Math.ceil(waitMs / 1000));
    this.byAddress.begin(address);
    this.byUser.begin(userName);
    let settled = false;
    const settle = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      this.byAddress.end(address, outcome);
      this.byUser.end(userName, outcome);
    };
    return { succeeded: () => settle('succeeded'), failed: () => settle('failed'), abandoned: () => settle('abandoned') };
  }
}

/**
 * What the throttle counts a client address as: an IPv4 address as itself
 * (also when it comes IPv4-mapped), an IPv6 address as its /64 network,
 * which one subscriber usually holds whole.
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIPv4(address) || !isIPv6(address)) return address;
  const [head = '', tail] = address.replace(/%.*$/, '').split('::');
  const groupsOf = (part: string) => (part ? part.split(':').flatMap((group) => (group.includes('.') ? ['0', '0'] : [group])) : []);
  const headGroups = groupsOf(head);
  const tailGroups = tail === undefined ? [] : groupsOf(tail);
  const groups = [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  return `${groups
    .slice(0, 4)
    .map((group) => parseInt(group, 16).toString(16))
    .join(':')}::/64`;
}
