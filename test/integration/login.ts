import type { ExecutionContext, TestFn } from 'ava';
import { performance } from 'node:perf_hooks';
import type { LockRule } from '../../controller/services/login-throttle.js';
import { adminPassword, adminUser, Api, assertFault, basicAuthorization, type ApiResponse } from '../support/api.js';
import { eventually } from '../support/eventually.js';
import { InProcessSystem } from '../support/in-process-system.js';
import type { DatabaseKind } from '../support/scratch-database.js';

type Test = TestFn<unknown>;

const goodBasic = basicAuthorization(adminUser, adminPassword);
const neverLocks: LockRule = { freeFailures: 1_000_000, firstLockSeconds: 1, maxLockSeconds: 1 };

async function startSystem(t: ExecutionContext, database: DatabaseKind, perAddress: LockRule, perUser: LockRule): Promise<InProcessSystem> {
  const system = await InProcessSystem.start(database, { label: 'it-login', controller: { loginThrottle: { perAddress, perUser, rememberedKeys: 1000 } } });
  t.teardown(() => system.close());
  return system;
}

/** A client of the system whose requests come from `localAddress`. */
function clientAt(t: ExecutionContext, system: InProcessSystem, localAddress: string): Api {
  const api = new Api(system.origin, goodBasic, { ca: system.api.ca, localAddress });
  t.teardown(() => api.close());
  return api;
}

function passwordGrant(api: Api, username: string, password: string, headers: Record<string, string> = {}): Promise<ApiResponse> {
  return api.post('/ovirt-engine/sso/oauth/token', new URLSearchParams({ grant_type: 'password', scope: 'ovirt-app-api', username, password }).toString(), {
    auth: null,
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json', ...headers },
  });
}

function logout(api: Api, token: string): Promise<ApiResponse> {
  return api.post('/ovirt-engine/services/sso-logout', `token=${encodeURIComponent(token)}`, { auth: null, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
}

function retryAfter(t: ExecutionContext, response: ApiResponse): number {
  const header = response.headers.get('retry-after') ?? '';
  t.regex(header, /^[1-9]\d*$/, 'Retry-After is a whole number of seconds');
  return Number(header);
}

/** The SSO password grant refused by the throttle: 429, Retry-After, and oVirt's error JSON. */
function assertSsoThrottled(t: ExecutionContext, response: ApiResponse, maxWaitSeconds: number): void {
  t.is(response.status, 429, response.text);
  t.regex(response.headers.get('content-type') ?? '', /^application\/json/);
  t.is(response.body.error, 'access_denied');
  t.is(response.body.error_code, 'access_denied');
  t.regex(response.body.error_description, /^Cannot authenticate user '.+': too many wrong passwords.*try again in \d+ s\.$/);
  t.true(retryAfter(t, response) <= maxWaitSeconds);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Registers the login scenarios (throttling, timing of unknown users, logout) for one database. */
export function loginSuite(test: Test, database: DatabaseKind): void {
  const tag = `[${database}] login:`;

  test(`${tag} wrong passwords from one address make that address wait (429 with Retry-After, Basic and SSO alike), not the user from another address`, async (t) => {
    const system = await startSystem(t, database, { freeFailures: 3, firstLockSeconds: 60, maxLockSeconds: 600 }, neverLocks);

    const attacker = clientAt(t, system, '127.0.0.2');
    for (let guess = 1; guess <= 4; guess++) assertFault(t, await attacker.get('/vms', { auth: basicAuthorization(adminUser, `guess-${guess}`) }), 401);
    const refused = await attacker.get('/vms');
    assertFault(t, refused, 429, /too many wrong passwords/);
    t.is(refused.body.fault.reason, 'Too Many Requests');
    t.true(retryAfter(t, refused) <= 60);
    assertFault(t, await attacker.get('/vms', { headers: { 'X-Forwarded-For': '127.0.0.3' } }), 429, undefined);
    assertSsoThrottled(t, await passwordGrant(attacker, adminUser, adminPassword), 60);
    assertSsoThrottled(t, await passwordGrant(attacker, adminUser, adminPassword, { 'X-Forwarded-For': '127.0.0.3' }), 60);

    const user = clientAt(t, system, '127.0.0.3');
    t.is((await user.get('/vms')).status, 200, 'the right password from another address gets in at once');
    t.is((await passwordGrant(user, adminUser, adminPassword)).status, 200);
    t.is((await attacker.get('/vms')).status, 200, 'credentials checked right within the last minute are answered from memory, also to a waiting address');

    const guesser = clientAt(t, system, '127.0.0.4');
    const guesses = await Promise.all(Array.from({ length: 8 }, (_, guess) => guesser.get('/', { auth: basicAuthorization(`nobody-${guess}@internal`, 'guess') })));
    const checked = guesses.filter((response) => response.status === 401).length;
    t.true(checked >= 1 && checked <= 4, `${checked} of 8 parallel guesses were checked: at most the 3 free ones and one more`);
    t.is(guesses.filter((response) => response.status === 429).length, 8 - checked);

    // Credentials of their own (the -authz spelling), so that no earlier check answers them from the cache.
    const parallelClient = new Api(system.origin, basicAuthorization('admin@internal-authz', adminPassword), { ca: system.api.ca, localAddress: '127.0.0.5' });
    t.teardown(() => parallelClient.close());
    const parallel = await Promise.all(Array.from({ length: 10 }, () => parallelClient.get('/')));
    t.deepEqual(
      parallel.map((response) => response.status),
      Array(10).fill(200),
      "a client's parallel first requests with the right password share one check and are not throttled",
    );
  });

  test(`${tag} wrong passwords for one user from many addresses make the user wait briefly; the right password gets in once the short wait ends`, async (t) => {
    const maxUserWait = 3;
    const system = await startSystem(t, database, neverLocks, { freeFailures: 3, firstLockSeconds: maxUserWait, maxLockSeconds: maxUserWait });
    for (let guess = 1; guess <= 4; guess++) assertFault(t, await clientAt(t, system, `127.0.1.${guess}`).get('/vms', { auth: basicAuthorization(adminUser, `guess-${guess}`) }), 401);

    const waiting = await clientAt(t, system, '127.0.1.10').get('/vms');
    assertFault(t, waiting, 429, /too many wrong passwords/);
    t.true(retryAfter(t, waiting) <= maxUserWait, 'the user waits at most the short per-user lock');
    assertSsoThrottled(t, await passwordGrant(clientAt(t, system, '127.0.1.11'), 'admin@internal-authz', adminPassword), maxUserWait);
    assertFault(t, await clientAt(t, system, '127.0.1.12').get('/vms', { auth: basicAuthorization('other@internal', 'guess') }), 401, /not valid/);

    const user = clientAt(t, system, '127.0.1.20');
    await eventually(async () => (await user.get('/vms')).status === 200, 'the right password to get in once the user lock ends', 4 * maxUserWait * 1000);
    assertFault(t, await clientAt(t, system, '127.0.1.21').get('/vms', { auth: basicAuthorization(adminUser, 'guess-5') }), 401, undefined);
  });

  test.serial(`${tag} a wrong password takes as long for an unknown user as for a known one (medians of interleaved samples within a factor of 2)`, async (t) => {
    const system = await startSystem(t, database, neverLocks, neverLocks);
    const client = clientAt(t, system, '127.0.2.1');
    const timed = async (authorization: string) => {
      const started = performance.now();
      const response = await client.get('/', { auth: authorization });
      t.is(response.status, 401);
      return performance.now() - started;
    };
    const known: number[] = [];
    const unknown: number[] = [];
    for (let sample = -3; sample < 30; sample++) {
      const knownTime = await timed(basicAuthorization(adminUser, `wrong-${sample}`));
      const unknownTime = await timed(basicAuthorization(`nobody-${sample}@internal`, `wrong-${sample}`));
      if (sample < 0) continue;
      known.push(knownTime);
      unknown.push(unknownTime);
    }
    const ratio = median(unknown) / median(known);
    t.log(`median wrong-password answer: known user ${median(known).toFixed(1)} ms, unknown user ${median(unknown).toFixed(1)} ms`);
    t.true(ratio > 0.5 && ratio < 2, `unknown / known = ${ratio.toFixed(2)}`);
  });

  test(`${tag} logout answers {} for a token it does not know and keeps nothing; a known token stops working at once, also when its check was cached`, async (t) => {
    const system = await startSystem(t, database, neverLocks, neverLocks);
    const client = clientAt(t, system, '127.0.3.1');
    const tokenRows = async () => Number(((await system.controller.orm.em.getConnection().execute('select count(*) as n from access_tokens')) as { n: number | string }[])[0]!.n);

    for (let attempt = 0; attempt < 20; attempt++) {
      const unknown = await logout(client, `not-a-token-${attempt}`);
      t.is(unknown.status, 200);
      t.deepEqual(unknown.body, {});
    }
    const bearerUnknown = await client.post('/ovirt-engine/services/sso-logout', undefined, { auth: 'Bearer not-a-token' });
    t.is(bearerUnknown.status, 200);
    t.is(await tokenRows(), 0);

    const issued = await passwordGrant(client, adminUser, adminPassword);
    t.is(issued.status, 200, issued.text);
    const token = issued.body.access_token as string;
    const bearer = clientAt(t, system, '127.0.3.2');
    const withToken = { auth: `Bearer ${token}` };
    t.is((await bearer.get('/vms', withToken)).status, 200);
    t.is((await bearer.get('/vms', withToken)).status, 200, 'the second request is answered from the cached check');
    t.is(await tokenRows(), 1);

    const known = await logout(client, token);
    t.is(known.status, 200);
    t.deepEqual(known.body, {});
    assertFault(t, await bearer.get('/vms', withToken), 401, /token/);
    t.is(await tokenRows(), 0);
    t.deepEqual((await logout(client, token)).body, {}, 'a token logged out already is one the controller does not know');
  });
}
