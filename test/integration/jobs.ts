import type { ExecutionContext, TestFn } from 'ava';
import { DriverError } from '../../agent/hypervisor/driver.js';
import { LibvirtDriver } from '../../agent/hypervisor/libvirt/driver.js';
import { assertFault, basicAuthorization, type Api, type ApiResponse } from '../support/api.js';
import { eventually } from '../support/eventually.js';
import { GatedDriver } from '../support/gated-driver.js';
import { InProcessSystem } from '../support/in-process-system.js';
import { ProcessSystem } from '../support/process-system.js';
import type { DatabaseKind } from '../support/scratch-database.js';
import { jobStatusOfTasks, jobStatuses } from '../../controller/rules/jobs.js';
import { taskStates } from '../../controller/rules/states.js';

type Test = TestFn<unknown>;

async function must(t: ExecutionContext, response: Promise<ApiResponse>, status = 200): Promise<any> {
  const answered = await response;
  t.is(answered.status, status, answered.text);
  return answered.body;
}

/** The jobs of a correlation id, as go-ovirt-client and the Python SDK's jobs helper poll them (`search=correlation_id=X`), in JSON. */
async function jobsOf(api: Api, correlationId: string): Promise<any[]> {
  const response = await api.get(`/jobs?search=${encodeURIComponent(`correlation_id=${correlationId}`)}`, { accept: 'json' });
  if (response.status !== 200) throw new Error(`GET /jobs answered ${response.status}: ${response.text}`);
  return response.body.job ?? [];
}

/** Waits until the one job of a correlation id has the status, and answers it. */
async function jobWithStatus(api: Api, correlationId: string, status: string): Promise<any> {
  return eventually(async () => {
    const jobs = await jobsOf(api, correlationId);
    return jobs.length === 1 && jobs[0].status === status ? jobs[0] : undefined;
  }, `the job of ${correlationId} to be ${status}`);
}

const listOf = (value: unknown): any[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** Registers the scenarios of jobs and steps (oVirt's /jobs) for one database. */
export function jobsSuite(test: Test, database: DatabaseKind): void {
  test(`[${database}] jobs: a VM start with a Correlation-Id header is one job, started while its task runs and finished after it, with one step; the correlation_id query parameter go-ovirt-client sends names a job too`, async (t) => {
    const system = await InProcessSystem.start(database, { label: 'it-jobs' });
    t.teardown(() => system.close());
    let gated!: GatedDriver;
    await system.addAgent({ name: 'alpha', memoryMiB: 2048, driver: (options) => (gated = new GatedDriver(new LibvirtDriver(options))).driver });
    const api = system.api;
    const created = await api.post('/vms', '<vm><name>web-1</name><cluster><name>Default</name></cluster><template><name>Blank</name></template><memory>268435456</memory></vm>', { headers: { 'Correlation-Id': 'create-web-1' } });
    t.is(created.status, 201, created.text);
    const vmId = created.body.vm.id as string;
    t.deepEqual(await jobsOf(api, 'create-web-1'), [], 'a request that submitted no task made no job');

    const held = gated.hold('start');
    const pending = await api.post(`/vms/${vmId}/start`, '<action><async>true</async></action>', { headers: { 'Correlation-Id': 'start-web-1' } });
    t.is(pending.status, 202, pending.text);
    t.is(pending.headers.get('Correlation-Id'), 'start-web-1');
    const taskId = pending.body.action.task.id as string;
    await held.reached;

    const listed = await must(t, api.get('/jobs?search=correlation_id%3Dstart-web-1'));
    const [running] = listOf(listed.jobs.job);
    t.like(running, { status: 'started', description: 'Launching VM web-1', external: 'false', auto_cleared: 'true', correlation_id: 'start-web-1' });
    t.regex(running.id, /^[0-9a-f-]{36}$/, 'a job has an id of its own, a UUID');
    t.not(running.id, taskId);
    t.truthy(running.start_time);
    t.is(running.end_time, undefined, 'a started job has no end time');
    const adminId = (await must(t, api.get('/', { accept: 'json' }))).authenticated_user.id;
    t.is(running.owner.id, adminId, 'the job is owned by the user who sent the request');
    t.deepEqual(listOf(running.actions.link).map((link: any) => link.rel).sort(), ['clear', 'end']);

    held.release();
    t.is((await api.task(taskId)).status, 'finished');
    const finished = await jobWithStatus(api, 'start-web-1', 'finished');
    t.is(finished.id, running.id);
    t.is(pending.body.action.job.id, running.id, 'the action answer links its job, as oVirt\'s does');
    t.truthy(finished.end_time, 'a finished job has an end time');
    const own = await must(t, api.get(`/jobs/${running.id}`));
    t.like(own.job, { id: running.id, status: 'finished', description: 'Launching VM web-1' });

    const steps = listOf((await must(t, api.get(`/jobs/${running.id}/steps`))).steps.step);
    t.is(steps.length, 1, 'the job has one step, its task');
    t.like(steps[0], { id: taskId, number: '1', type: 'executing', status: 'finished', description: 'Launching VM web-1', external: 'false' });
    t.is(steps[0].job.id, running.id);
    t.like((await must(t, api.get(`/jobs/${running.id}/steps/${taskId}`, { accept: 'json' }))), { id: taskId, status: 'finished', type: 'executing', number: '1' });

    const stopped = await api.post(`/vms/${vmId}/stop?correlation_id=stop-web-1`, {}, { accept: 'json' });
    t.is(stopped.status, 200, stopped.text);
    t.is(stopped.headers.get('Correlation-Id'), 'stop-web-1', 'the query parameter is the request correlation id');
    const stopJob = await jobWithStatus(api, 'stop-web-1', 'finished');
    t.is(stopJob.description, 'Stopping VM web-1');
    assertFault(t, await api.post(`/vms/${vmId}/stop?correlation_id=refused-stop`, '<action/>'), 409);
    t.deepEqual(await jobsOf(api, 'refused-stop'), [], 'an action refused before its task was stored makes no job');

    const newestFirst = (await must(t, api.get('/jobs', { accept: 'json' }))).job.map((job: any) => job.id);
    t.deepEqual(newestFirst, [stopJob.id, running.id], 'GET /jobs lists the newest first');
    const byDescription = (await must(t, api.get(`/jobs?search=${encodeURIComponent('description="Launching VM*" and status=finished')}`, { accept: 'json' }))).job;
    t.deepEqual(byDescription.map((job: any) => job.id), [running.id]);
    t.deepEqual((await must(t, api.get(`/jobs?search=${encodeURIComponent('STATUS=started')}`, { accept: 'json' }))).job, [], 'no job is started any more');
    t.is((await api.get('/jobs?search=correlation_id%3Dstart-web-1', { headers: { 'Correlation-Id': 'a-read' } })).status, 200);
    t.deepEqual(await jobsOf(api, 'a-read'), [], 'a read makes no job');

    const { jobs } = system.controller.services;
    t.is(await jobs.prune(Date.now() + 9 * 60_000, 10 * 60_000, 60 * 60_000), 0, 'finished jobs stay for ten minutes');
    t.is(await jobs.prune(Date.now() + 11 * 60_000, 10 * 60_000, 60 * 60_000), 2, 'and are removed after that, as oVirt cleans them up');
    t.deepEqual((await must(t, api.get('/jobs', { accept: 'json' }))).job, []);
    t.is((await api.task(taskId)).status, 'finished', 'the tasks of a removed job stay');
  });

  test(`[${database}] jobs: a failing start makes a failed job, and a queued task cancelled before it ran an aborted one`, async (t) => {
    const system = await InProcessSystem.start(database, { label: 'it-jobs' });
    t.teardown(() => system.close());
    let gated!: GatedDriver;
    await system.addAgent({ name: 'alpha', memoryMiB: 2048, driver: (options) => (gated = new GatedDriver(new LibvirtDriver(options))).driver });
    const api = system.api;
    const vmId = await api.createVm('db-1', 256);

    const failing = gated.hold('start');
    const refused = api.post(`/vms/${vmId}/start`, '<action/>', { headers: { 'Correlation-Id': 'failing-start' } });
    await failing.reached;
    failing.fail(new DriverError('hypervisor_failure', 'the gate failed the start'));
    t.not((await refused).status, 200);
    const failed = await jobWithStatus(api, 'failing-start', 'failed');
    t.truthy(failed.end_time);
    const [failedStep] = (await must(t, api.get(`/jobs/${failed.id}/steps`, { accept: 'json' }))).step;
    t.is(failedStep.status, 'failed');
    t.deepEqual((await must(t, api.get('/jobs?search=status%3Dfailed', { accept: 'json' }))).job.map((job: any) => job.id), [failed.id]);

    const running = gated.hold('start');
    const started = await api.post(`/vms/${vmId}/start`, { async: 'true' }, { accept: 'json', headers: { 'Correlation-Id': 'held-start' } });
    t.is(started.status, 202, started.text);
    await running.reached;
    const queued = await api.post(`/vms/${vmId}/stop`, { async: 'true' }, { accept: 'json', headers: { 'Correlation-Id': 'queued-stop' } });
    t.is(queued.status, 202, queued.text);
    t.is((await jobsOf(api, 'queued-stop'))[0]?.status, 'started', 'a job whose task is queued is started');
    await must(t, api.delete(`/tasks/${queued.body.task.id}`));
    const aborted = await jobWithStatus(api, 'queued-stop', 'aborted');
    t.is((await must(t, api.get(`/jobs/${aborted.id}/steps`, { accept: 'json' }))).step[0].status, 'aborted');
    running.release();
    await jobWithStatus(api, 'held-start', 'finished');

    const { jobs } = system.controller.services;
    t.is(await jobs.prune(Date.now() + 11 * 60_000, 10 * 60_000, 60 * 60_000), 1, 'after ten minutes only the finished job is removed');
    t.is(await jobs.prune(Date.now() + 61 * 60_000, 10 * 60_000, 60 * 60_000), 2, 'failed and aborted jobs are removed after an hour');
  });

  test(`[${database}] jobs: a request that submits several tasks (a VM pool's removal) is one job with a step per task`, async (t) => {
    const system = await InProcessSystem.start(database, { label: 'it-jobs' });
    t.teardown(() => system.close());
    const api = system.api;
    const pool = await must(
      t,
      api.post('/vmpools', '<vm_pool><name>desk</name><size>2</size><template><name>Blank</name></template><cluster><name>Default</name></cluster></vm_pool>'),
      201,
    );
    const removed = await api.delete(`/vmpools/${pool.vm_pool.id}`, { headers: { 'Correlation-Id': 'remove-desk' } });
    t.is(removed.status, 200, removed.text);
    const job = await jobWithStatus(api, 'remove-desk', 'finished');
    t.is(job.description, 'Removing VM Pool desk');
    const steps = (await must(t, api.get(`/jobs/${job.id}/steps`, { accept: 'json' }))).step as any[];
    t.deepEqual(
      steps.map((step) => [step.number, step.status, step.description]),
      [
        ['1', 'finished', 'Removing VM Pool desk'],
        ['2', 'finished', 'Removing VM desk-1 from system'],
        ['3', 'finished', 'Removing VM desk-2 from system'],
      ],
    );
  });

  test(`[${database}] jobs: an external job goes through its lifecycle as Ansible's ovirt_job drives it, and the engine's own jobs cannot be ended by hand`, async (t) => {
    const system = await InProcessSystem.start(database, { label: 'it-jobs' });
    t.teardown(() => system.close());
    const api = system.api;

    const added = await api.post('/jobs', '<job><auto_cleared>true</auto_cleared><description>backup web</description><external>true</external><status>started</status></job>');
    t.is(added.status, 201, added.text);
    const job = added.body.job;
    t.like(job, { description: 'backup web', status: 'started', external: 'true', auto_cleared: 'true' });
    t.is(added.headers.get('Location'), job.href);

    const step = await api.post(`/jobs/${job.id}/steps`, `<step><description>copy disks</description><external>true</external><job id="${job.id}"/><status>started</status><type>unknown</type></step>`);
    t.is(step.status, 201, step.text);
    t.like(step.body.step, { description: 'copy disks', type: 'unknown', status: 'started', number: '1', external: 'true' });
    const second = await api.post(`/jobs/${job.id}/steps`, { description: 'verify', type: 'validating' }, { accept: 'json' });
    t.is(second.status, 201, second.text);
    t.like(second.body, { number: '2', type: 'validating', status: 'started' });

    t.like(await must(t, api.post(`/jobs/${job.id}/steps/${step.body.step.id}/end`, '<action><succeeded>true</succeeded></action>')), { action: { status: 'complete' } });
    t.is((await must(t, api.get(`/jobs/${job.id}/steps/${step.body.step.id}`))).step.status, 'finished');
    assertFault(t, await api.post(`/jobs/${job.id}/steps/${step.body.step.id}/end`, '<action><succeeded>true</succeeded></action>'), 409, /ended already/);

    const ended = await must(t, api.post(`/jobs/${job.id}/end`, { status: 'failed', force: 'true' }, { accept: 'json' }));
    t.like(ended.job, { status: 'failed', auto_cleared: 'true' });
    t.truthy(ended.job.end_time);
    const steps = (await must(t, api.get(`/jobs/${job.id}/steps`, { accept: 'json' }))).step as any[];
    t.deepEqual(steps.map((one) => one.status), ['finished', 'aborted'], 'force aborts the steps still started');
    assertFault(t, await api.post(`/jobs/${job.id}/end`, '<action><status>finished</status></action>'), 409, /ended already/);
    assertFault(t, await api.post(`/jobs/${job.id}/steps`, '<step><description>late</description></step>'), 409, /started job/);

    const kept = await must(t, api.post('/jobs', { description: 'keep me', auto_cleared: 'false' }, { accept: 'json' }), 201);
    t.is(kept.auto_cleared, 'false');
    t.like(await must(t, api.post(`/jobs/${kept.id}/clear`, '<action/>')), { action: { status: 'complete', job: { auto_cleared: 'true' } } });
    t.like(await must(t, api.post(`/jobs/${kept.id}/end`, '<action><succeeded>true</succeeded></action>')), { action: { job: { status: 'finished' } } });

    const vmId = await api.createVm('internal', 256);
    const removedVmId = await api.createVm('removed', 256);
    await must(t, api.delete(`/vms/${removedVmId}`, { headers: { 'Correlation-Id': 'remove-internal' } }));
    const internal = await jobWithStatus(api, 'remove-internal', 'finished');
    assertFault(t, await api.post(`/jobs/${internal.id}/end`, '<action><status>finished</status></action>'), 409, /not external/);
    assertFault(t, await api.post(`/jobs/${internal.id}/clear`, '<action/>'), 409, /not external/);
    assertFault(t, await api.post(`/jobs/${internal.id}/steps`, '<step><description>mine</description></step>'), 409, /not external/);

    assertFault(t, await api.post('/jobs', '<job><auto_cleared>true</auto_cleared></job>'), 400, /description is required/);
    assertFault(t, await api.post('/jobs', '<job><description>x</description><status>finished</status></job>'), 400, /status other than started/);
    assertFault(t, await api.post('/jobs', { description: 'x', auto_cleared: 'maybe' }, { accept: 'json' }), 400, /true or false/, 'json');
    assertFault(t, await api.post(`/jobs/${kept.id}/end`, '<action><status>paused</status></action>'), 400, /finished, failed, aborted/);
    assertFault(t, await api.post(`/jobs/${job.id}/steps`, `<step><description>x</description><job id="${kept.id}"/></step>`), 400, /not the job of this URL/);
    assertFault(t, await api.get('/jobs/00000000-0000-0000-0000-000000000001'), 404);
    assertFault(t, await api.get(`/jobs/${job.id}/steps/00000000-0000-0000-0000-000000000001`), 404);
    assertFault(t, await api.get('/jobs?search=colour%3Dred'), 400, /colour/);

    const user = await must(t, api.post('/users', { user_name: 'ops@internal', password: 'ops-secret-password' }, { accept: 'json' }), 201);
    await must(t, api.post(`/vms/${vmId}/permissions`, { role: { name: 'UserRole' }, user: { id: user.id } }, { accept: 'json' }), 201);
    const ops = api.as(basicAuthorization('ops@internal', 'ops-secret-password'));
    assertFault(t, await ops.post('/jobs', '<job><description>mine</description></job>'), 403, /inject_external_tasks/);
    const seen = await ops.get('/jobs', { accept: 'json' });
    t.is(seen.status, 200, seen.text);
    t.is(seen.headers.get('X-Total-Count'), '0', 'a user whose only role is on a VM sees no job');

    await must(t, api.post('/jobs', '<job><description>still running</description><auto_cleared>false</auto_cleared></job>'), 201);
    const { jobs } = system.controller.services;
    t.is(await jobs.prune(Date.now() + 2 * 3600_000, 10 * 60_000, 60 * 60_000), 3, 'ended external jobs marked to be cleared are removed, and the internal one');
    const left = (await must(t, api.get('/jobs', { accept: 'json' }))).job.map((one: any) => one.description);
    t.deepEqual(left, ['still running'], 'a started job stays');
  });

  test(`[${database}] jobs: jobs and their steps are rows of the database, and survive a controller killed and started again`, async (t) => {
    const system = await ProcessSystem.start(database);
    t.teardown(() => system.close());
    const api = system.api;
    const external = (await must(t, api.post('/jobs', '<job><description>nightly backup</description></job>'), 201)).job;
    const step = (await must(t, api.post(`/jobs/${external.id}/steps`, '<step><description>copy</description><type>executing</type></step>'), 201)).step;
    const vmId = await api.createVm('short-lived', 256);
    await must(t, api.delete(`/vms/${vmId}`, { headers: { 'Correlation-Id': 'remove-short-lived' } }));
    const removal = await jobWithStatus(api, 'remove-short-lived', 'finished');

    await system.killController('SIGKILL');
    await system.startController();

    t.like((await must(t, api.get(`/jobs/${removal.id}`, { accept: 'json' }))), { status: 'finished', description: 'Removing VM short-lived from system', correlation_id: 'remove-short-lived' });
    const [removalStep] = (await must(t, api.get(`/jobs/${removal.id}/steps`, { accept: 'json' }))).step;
    t.like(removalStep, { status: 'finished', description: 'Removing VM short-lived from system', number: '1' });
    t.like((await must(t, api.get(`/jobs/${external.id}/steps/${step.id}`, { accept: 'json' }))), { status: 'started', description: 'copy' });
    t.like(await must(t, api.post(`/jobs/${external.id}/end`, '<action><succeeded>true</succeeded><force>true</force></action>')), { action: { job: { status: 'finished' } } });
    t.is((await must(t, api.get(`/jobs/${external.id}/steps/${step.id}`, { accept: 'json' }))).status, 'aborted');
  });

  test(`[${database}] jobs: a job's status in a search (its SQL twin) is the status it shows, for every combination of its tasks' states`, async (t) => {
    const system = await InProcessSystem.start(database, { label: 'it-jobs' });
    t.teardown(() => system.close());
    const connection = system.controller.orm.em.getConnection();
    const expected = new Map<string, string>();
    let seq = 1_000_000;
    for (let combination = 0; combination < 1 << taskStates.length; combination++) {
      const states = taskStates.filter((_, index) => combination & (1 << index));
      const jobId = `00000000-0000-4000-8000-${String(combination).padStart(12, '0')}`;
      await connection.execute('insert into jobs (id, correlation_id, description, external, auto_cleared, start_time, last_updated) values (?, ?, ?, ?, ?, ?, ?)', [jobId, `combination-${combination}`, states.join(' ') || 'no task', false, true, combination, combination]);
      for (const state of states) {
        const taskId = `00000000-0000-4000-9000-${String(seq).padStart(12, '0')}`;
        await connection.execute('insert into tasks (id, seq, object_type, object_id, action, state, created_at, job_id) values (?, ?, ?, ?, ?, ?, ?, ?)', [taskId, seq++, 'vm', taskId, 'start', state, 1, jobId]);
      }
      expected.set(jobId, jobStatusOfTasks({ open: states.filter((state) => state === 'queued' || state === 'running').length, failed: states.includes('failed') ? 1 : 0, cancelled: states.includes('cancelled') ? 1 : 0 }));
    }
    const shown = (await must(t, system.api.get('/jobs', { accept: 'json' }))).job as any[];
    t.deepEqual(Object.fromEntries(shown.map((job) => [job.id, job.status])), Object.fromEntries(expected), 'each job shows the status the rule gives');
    for (const status of jobStatuses) {
      const found = ((await must(t, system.api.get(`/jobs?search=status%3D${status}`, { accept: 'json' }))).job as any[]).map((job) => job.id).sort();
      t.deepEqual(found, [...expected].filter(([, wanted]) => wanted === status).map(([id]) => id).sort(), `search status=${status}`);
    }
  });
}
