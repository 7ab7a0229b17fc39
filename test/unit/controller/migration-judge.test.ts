import test from 'ava';
import { powerStates, type PowerState } from '../../../shared/model.js';
import { judgeMigration, migrationDeadlineMs, migrationPercent, type HostWord, type MigrateAnswer } from '../../../controller/rules/migration.js';

const attempt = 'a1b2c3d4-0000-4000-8000-000000000001';
const silent: HostWord = { kind: 'silent', why: 'host b is non_responsive' };
const down: HostWord = { kind: 'confirmed_down' };
const none: HostWord = { kind: 'reported' };
const has = (state: PowerState, options: { ours?: boolean; job?: boolean } = {}): HostWord => ({
  kind: 'reported',
  domain: { state, migrationId: options.ours === false ? undefined : attempt, jobActive: options.job ?? false },
});

test('the VM is handed over when the destination runs it with this attempt id, whatever the source says or the MIGRATE answered', (t) => {
  for (const source of [silent, down, none, has('running'), has('paused', { job: true })]) {
    for (const answer of ['ok', 'failed', undefined] as MigrateAnswer[]) {
      t.is(judgeMigration(attempt, source, has('running'), answer).verdict, 'succeeded');
    }
  }
});

test('a running copy of another attempt or of none on the destination is no evidence of success', (t) => {
  t.not(judgeMigration(attempt, has('running'), has('running', { ours: false }), 'failed').verdict, 'succeeded');
});

test('the source no longer having the domain after a successful MIGRATE is success, even while the destination is silent', (t) => {
  t.is(judgeMigration(attempt, none, silent, 'ok').verdict, 'succeeded');
  t.is(judgeMigration(attempt, none, none, 'ok').verdict, 'succeeded');
  t.is(judgeMigration(attempt, none, has('paused'), 'ok').verdict, 'wait', 'the destination still switches over');
});

test('a migration job still running on either host waits', (t) => {
  t.is(judgeMigration(attempt, has('running', { job: true }), has('paused'), undefined).verdict, 'wait');
  t.is(judgeMigration(attempt, has('paused', { job: true }), silent, 'failed').verdict, 'wait');
});

test('the source running the VM without a job fails the attempt; a copy the attempt left on the destination is discarded first, never one of another attempt', (t) => {
  t.deepEqual(judgeMigration(attempt, has('running'), none, 'failed'), { verdict: 'failed', discard: false, why: 'the VM still runs on the source' });
  t.like(judgeMigration(attempt, has('running'), has('paused'), 'failed'), { verdict: 'failed', discard: true });
  t.like(judgeMigration(attempt, has('running'), has('paused', { ours: false }), 'failed'), { verdict: 'failed', discard: false });
  t.like(judgeMigration(attempt, has('running'), has('shutoff'), undefined), { verdict: 'failed', discard: true });
});

test('nothing is decided while a host that could hold the VM is silent', (t) => {
  t.is(judgeMigration(attempt, has('running'), silent, 'failed').verdict, 'wait', 'the destination may run it');
  t.is(judgeMigration(attempt, has('running'), silent, undefined).verdict, 'wait');
  t.is(judgeMigration(attempt, silent, none, undefined).verdict, 'wait', 'the source may run it');
  t.is(judgeMigration(attempt, silent, has('paused'), 'ok').verdict, 'wait');
  t.is(judgeMigration(attempt, none, silent, undefined).verdict, 'wait', 'without the MIGRATE answer the destination may hold it');
});

test('a host confirmed down counts as holding nothing', (t) => {
  t.like(judgeMigration(attempt, has('running'), down, undefined), { verdict: 'failed', discard: false });
  t.like(judgeMigration(attempt, down, none, undefined), { verdict: 'failed', discard: false });
  t.like(judgeMigration(attempt, down, has('paused'), undefined), { verdict: 'failed', discard: true });
});

test('neither host having the VM any more ends the attempt as failed, which moves nothing', (t) => {
  t.like(judgeMigration(attempt, none, none, undefined), { verdict: 'failed', discard: false });
  t.like(judgeMigration(attempt, none, none, 'failed'), { verdict: 'failed', discard: false });
});

test('over every combination, success needs a running copy of this attempt on the destination or the source gone after MIGRATE ok, and discard never touches a running copy', (t) => {
  const words: HostWord[] = [silent, down, none];
  for (const state of powerStates) for (const ours of [true, false]) for (const job of [true, false]) words.push(has(state, { ours, job }));
  for (const source of words) {
    for (const destination of words) {
      for (const answer of ['ok', 'failed', undefined] as MigrateAnswer[]) {
        const verdict = judgeMigration(attempt, source, destination, answer);
        const destinationDomain = destination.kind === 'reported' ? destination.domain : undefined;
        const sourceDomain = source.kind === 'reported' ? source.domain : undefined;
        if (verdict.verdict === 'succeeded') {
          const arrived = destinationDomain?.state === 'running' && destinationDomain.migrationId === attempt;
          const left = source.kind === 'reported' && !sourceDomain && answer === 'ok';
          t.true(arrived || left, JSON.stringify({ source, destination, answer }));
        }
        if (verdict.verdict === 'failed') {
          t.false(destinationDomain?.state === 'running' && destinationDomain.migrationId === attempt, 'a running copy of the attempt is never failed');
          t.not(destination.kind, 'silent', 'a silent destination is never failed');
          if (verdict.discard) t.true(destinationDomain?.migrationId === attempt && destinationDomain.state !== 'running', 'only a copy of this attempt that does not run is discarded');
        }
      }
    }
  }
});

test('the deadline grows with memory, and progress is a percentage below 100 until the end', (t) => {
  const settings = { baseDeadlineMs: 120_000, deadlineMsPerGiB: 60_000 };
  t.is(migrationDeadlineMs(2 ** 30, settings), 180_000);
  t.is(migrationDeadlineMs(2 ** 29, settings), 150_000);
  t.is(migrationPercent(undefined), 0);
  t.is(migrationPercent({ dataTotalBytes: 1000, dataProcessedBytes: 500, dataRemainingBytes: 500, elapsedMs: 10 }), 50);
  t.is(migrationPercent({ dataTotalBytes: 1000, dataProcessedBytes: 1000, dataRemainingBytes: 0, elapsedMs: 10 }), 99);
});
