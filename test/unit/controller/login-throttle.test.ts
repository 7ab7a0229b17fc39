import test from 'ava';
import { configFromEnvironment } from '../../../controller/config.js';
import { ExpiringMap } from '../../../controller/services/expiring-map.js';
import { addressKey, LoginThrottle, LoginThrottled, type LoginThrottleSettings } from '../../../controller/services/login-throttle.js';
import { Semaphore } from '../../../controller/services/semaphore.js';
import { eventually } from '../../support/eventually.js';

const settings: LoginThrottleSettings = {
  perAddress: { freeFailures: 3, firstLockSeconds: 1, maxLockSeconds: 8 },
  perUser: { freeFailures: 5, firstLockSeconds: 1, maxLockSeconds: 2 },
  rememberedKeys: 100,
};

function clock() {
  const state = { now: 1_000_000 };
  return { state, now: () => state.now };
}

/** Seconds an attempt would have to wait, probed with an attempt that succeeds (which forgives no address). */
function waitOf(throttle: LoginThrottle, user: string, address: string): number {
  try {
    throttle.admit(user, address).succeeded();
    return 0;
  } catch (error) {
    if (error instanceof LoginThrottled) return error.retryAfterSeconds;
    throw error;
  }
}

test('an address gets its free failures, then waits twice as long after each further one, up to its longest wait; other addresses do not', (t) => {
  const time = clock();
  const throttle = new LoginThrottle(settings, time.now);
  const waits: number[] = [];
  for (let failure = 1; failure <= 8; failure++) {
    throttle.admit(`user${failure}`, '192.0.2.1').failed();
    const wait = waitOf(throttle, 'prober', '192.0.2.1');
    waits.push(wait);
    time.state.now += wait * 1000;
  }
  t.deepEqual(waits, [0, 0, 0, 1, 2, 4, 8, 8]);
  t.is(waitOf(throttle, 'user9', '192.0.2.2'), 0, 'another address is checked at once');
});

test('a user name from many addresses waits at most its short longest wait, and a right password forgives it', (t) => {
  const time = clock();
  const throttle = new LoginThrottle(settings, time.now);
  for (let failure = 1; failure <= 6; failure++) throttle.admit('admin', `192.0.2.${failure}`).failed();
  const refused = t.throws(() => throttle.admit('admin', '192.0.2.50'), { instanceOf: LoginThrottled });
  t.is(refused.retryAfterSeconds, 1);
  time.state.now += 1000;
  throttle.admit('admin', '192.0.2.50').failed();
  t.is(t.throws(() => throttle.admit('admin', '192.0.2.51'), { instanceOf: LoginThrottled }).retryAfterSeconds, 2);
  time.state.now += 2000;
  throttle.admit('admin', '192.0.2.51').failed();
  t.is(t.throws(() => throttle.admit('admin', '192.0.2.52'), { instanceOf: LoginThrottled }).retryAfterSeconds, 2, 'the longest wait per user');
  time.state.now += 2000;
  throttle.admit('admin', '192.0.2.52').succeeded();
  t.notThrows(() => throttle.admit('admin', '192.0.2.53').failed(), 'a right password forgave the user name');
});

test('a right password does not forgive the address: a guesser cannot clear it by logging in to an account of its own', (t) => {
  const time = clock();
  const throttle = new LoginThrottle(settings, time.now);
  for (let failure = 1; failure <= 3; failure++) throttle.admit(`victim${failure}`, '192.0.2.1').failed();
  throttle.admit('own-account', '192.0.2.1').succeeded();
  throttle.admit('victim4', '192.0.2.1').failed();
  t.throws(() => throttle.admit('victim5', '192.0.2.1'), { instanceOf: LoginThrottled });
});

test('beyond its free failures, a key has one attempt checked at a time: parallel guesses cannot outrun the lock', (t) => {
  const time = clock();
  const throttle = new LoginThrottle(settings, time.now);
  const inFlight = [1, 2, 3, 4].map((guess) => throttle.admit(`user${guess}`, '192.0.2.1'));
  t.throws(() => throttle.admit('user5', '192.0.2.1'), { instanceOf: LoginThrottled }, 'free failures plus attempts in flight are used up');
  for (const attempt of inFlight) attempt.failed();
  t.throws(() => throttle.admit('user5', '192.0.2.1'), { instanceOf: LoginThrottled });
  time.state.now += 1000;
  const single = throttle.admit('user5', '192.0.2.1');
  t.throws(() => throttle.admit('user6', '192.0.2.1'), { instanceOf: LoginThrottled }, 'a second attempt while one is checked');
  single.succeeded();
  t.notThrows(() => throttle.admit('user6', '192.0.2.1').succeeded());
});

test('failures are forgotten after 15 minutes without an attempt, and the throttle remembers at most rememberedKeys keys', (t) => {
  const time = clock();
  const throttle = new LoginThrottle({ ...settings, rememberedKeys: 10 }, time.now);
  for (let failure = 1; failure <= 4; failure++) throttle.admit(`user${failure}`, '192.0.2.1').failed();
  t.throws(() => throttle.admit('user5', '192.0.2.1'), { instanceOf: LoginThrottled });
  time.state.now += 15 * 60_000 + 1;
  t.notThrows(() => throttle.admit('user5', '192.0.2.1').failed());
  for (let guess = 0; guess < 1000; guess++) throttle.admit(`sprayed-${guess}`, `198.51.100.${guess % 250}`).failed();
  t.true(throttle.remembered.users <= 10, `remembers ${throttle.remembered.users} user names`);
  t.true(throttle.remembered.addresses <= 10, `remembers ${throttle.remembered.addresses} addresses`);
});

test('an IPv4 address counts as itself, also IPv4-mapped; an IPv6 address as its /64 network', (t) => {
  t.is(addressKey('192.0.2.7'), '192.0.2.7');
  t.is(addressKey('::ffff:192.0.2.7'), '192.0.2.7');
  t.is(addressKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd'), '2001:db8:1:2::/64');
  t.is(addressKey('2001:db8:1:2::1'), '2001:db8:1:2::/64');
  t.is(addressKey('2001:0db8:0001:0002::ffff'), '2001:db8:1:2::/64');
  t.is(addressKey('2001:db8::1'), '2001:db8:0:0::/64');
  t.is(addressKey('::1'), '0:0:0:0::/64');
  t.is(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
  t.is(addressKey('64:ff9b::192.0.2.1'), '64:ff9b:0:0::/64');
});

test('an expiring map forgets expired entries and the entries set longest ago beyond its capacity', (t) => {
  const time = clock();
  const map = new ExpiringMap<number>(3, time.now);
  map.set('a', 1, time.state.now + 100);
  map.set('b', 2, time.state.now + 200);
  t.is(map.get('a'), 1);
  time.state.now += 150;
  t.is(map.get('a'), undefined);
  map.set('c', 3, time.state.now + 1000);
  map.set('d', 4, time.state.now + 1000);
  map.set('e', 5, time.state.now + 1000);
  t.is(map.size, 3);
  t.deepEqual(['b', 'c', 'd', 'e'].map((key) => map.get(key)), [undefined, 3, 4, 5]);
  map.set('c', 6, time.state.now + 1000);
  map.set('f', 7, time.state.now + 1000);
  t.deepEqual(['c', 'd', 'e', 'f'].map((key) => map.get(key)), [6, undefined, 5, 7], 'setting c again moved it to the end');
});

test('a semaphore runs at most its limit of tasks at once and starts the waiting ones in order, also after a task fails', async (t) => {
  const semaphore = new Semaphore(2);
  const started: number[] = [];
  const finishers: (() => void)[] = [];
  const failers: ((error: Error) => void)[] = [];
  const tasks = [0, 1, 2, 3].map((index) =>
    semaphore.run(
      () =>
        new Promise<number>((resolve, reject) => {
          started.push(index);
          finishers[index] = () => resolve(index);
          failers[index] = reject;
        }),
    ),
  );
  await eventually(() => started.length === 2, 'two tasks to start');
  t.deepEqual(started, [0, 1]);
  failers[1]!(new Error('scrypt failed'));
  await t.throwsAsync(tasks[1]!, { message: 'scrypt failed' });
  await eventually(() => started.length === 3, 'the first waiting task to start');
  t.deepEqual(started, [0, 1, 2]);
  finishers[0]!();
  t.is(await tasks[0], 0);
  await eventually(() => started.length === 4, 'the second waiting task to start');
  finishers[2]!();
  finishers[3]!();
  t.deepEqual(await Promise.all([tasks[2], tasks[3]]), [2, 3]);
});

test('the login settings have the documented defaults and are read from DROVER_LOGIN_* and DROVER_CONCURRENT_PASSWORD_CHECKS', (t) => {
  const defaults = configFromEnvironment({});
  t.deepEqual(defaults.loginThrottle, {
    perAddress: { freeFailures: 10, firstLockSeconds: 1, maxLockSeconds: 900 },
    perUser: { freeFailures: 10, firstLockSeconds: 1, maxLockSeconds: 30 },
    rememberedKeys: 10_000,
  });
  t.is(defaults.concurrentPasswordChecks, 2);
  const set = configFromEnvironment({
    DROVER_LOGIN_ADDRESS_FREE_FAILURES: '0',
    DROVER_LOGIN_ADDRESS_FIRST_LOCK_SECONDS: '5',
    DROVER_LOGIN_ADDRESS_MAX_LOCK_SECONDS: '3600',
    DROVER_LOGIN_USER_FREE_FAILURES: '3',
    DROVER_LOGIN_USER_FIRST_LOCK_SECONDS: '0.5',
    DROVER_LOGIN_USER_MAX_LOCK_SECONDS: '10',
    DROVER_LOGIN_REMEMBERED_KEYS: '500',
    DROVER_CONCURRENT_PASSWORD_CHECKS: '1',
  });
  t.deepEqual(set.loginThrottle, {
    perAddress: { freeFailures: 0, firstLockSeconds: 5, maxLockSeconds: 3600 },
    perUser: { freeFailures: 3, firstLockSeconds: 0.5, maxLockSeconds: 10 },
    rememberedKeys: 500,
  });
  t.is(set.concurrentPasswordChecks, 1);
  t.throws(() => configFromEnvironment({ DROVER_LOGIN_USER_FREE_FAILURES: '2.5' }), { message: /DROVER_LOGIN_USER_FREE_FAILURES must be a whole number of at least 0/ });
  t.throws(() => configFromEnvironment({ DROVER_CONCURRENT_PASSWORD_CHECKS: '0' }), { message: /DROVER_CONCURRENT_PASSWORD_CHECKS must be a whole number of at least 1/ });
  t.throws(() => configFromEnvironment({ DROVER_LOGIN_ADDRESS_MAX_LOCK_SECONDS: '-1' }), { message: /DROVER_LOGIN_ADDRESS_MAX_LOCK_SECONDS must be a positive number/ });
});

test('an abandoned attempt (its check failed, say the database) neither counts as a wrong password nor forgives one', (t) => {
  const time = clock();
  const throttle = new LoginThrottle(settings, time.now);
  for (let failure = 1; failure <= 5; failure++) throttle.admit('admin', `192.0.2.${failure}`).failed();
  for (let attempt = 0; attempt < 20; attempt++) throttle.admit('admin', '192.0.2.100').abandoned();
  throttle.admit('admin', '192.0.2.6').failed();
  t.is(t.throws(() => throttle.admit('admin', '192.0.2.7'), { instanceOf: LoginThrottled }).retryAfterSeconds, 1, 'the sixth wrong password locks the user, as if nothing was abandoned');
});
