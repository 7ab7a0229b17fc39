import path from 'node:path';
import type { ExecutionContext, TestFn } from 'ava';
import { assertFault, basicAuthorization, type Api } from '../support/api.js';
import { EventStreamClient, CurlEventStream } from '../support/event-stream-client.js';
import { eventually } from '../support/eventually.js';
import { ProcessSystem } from '../support/process-system.js';
import { openScratchDatabase, type DatabaseKind } from '../support/scratch-database.js';
import { selectRows } from '../../controller/db/store.js';
import { subjectQueries } from '../../controller/services/events.js';

type Test = TestFn<unknown>;

interface EventDoc {
  id: string;
  code: number;
  severity: string;
  description: string;
  correlation_id?: string;
  origin: string;
  custom_id?: number;
  time: unknown;
  change?: string;
  status?: string;
  object_type?: string;
  vm?: { id: string };
  host?: { id: string };
  user?: { id: string };
}

/** Every event after `afterId`, oldest first, as GET /events lists them (newest first) in JSON. */
async function eventsAfter(api: Api, afterId: number): Promise<EventDoc[]> {
  const response = await api.get(`/events?from=${afterId}&max=-1`, { accept: 'json' });
  if (response.status !== 200) throw new Error(`GET /events answered ${response.status}: ${response.text}`);
  return ([...(response.body.event ?? [])] as EventDoc[]).reverse();
}

async function newestId(api: Api): Promise<number> {
  const response = await api.get('/events?max=1', { accept: 'json' });
  if (response.status !== 200) throw new Error(`GET /events answered ${response.status}: ${response.text}`);
  return Number(response.body.event[0].id);
}

async function postExternal(api: Api, customId: number, description = `external event ${customId}`): Promise<number> {
  const response = await api.post('/events', `<event><description>${description}</description><severity>normal</severity><origin>tests</origin><custom_id>${customId}</custom_id></event>`);
  if (response.status !== 201) throw new Error(`POST /events answered ${response.status}: ${response.text}`);
  return Number(response.body.event.id);
}

function assertExactly(t: ExecutionContext, got: number[], expected: number[], who: string): void {
  t.is(new Set(got).size, got.length, `${who} heard no event twice`);
  t.deepEqual(got, expected, `${who} heard every event, in order`);
}

/** The audit log and its stream, through a real controller and agent process. */
export function eventSuite(test: Test, database: DatabaseKind): void {
  test(`[${database}] every query that names an event's object runs on the schema (a failing one would only leave the object unnamed)`, async (t) => {
    const orm = await openScratchDatabase(t, database, 'event-subjects');
    const kinds = Object.entries(subjectQueries);
    t.true(kinds.length >= 15, `${kinds.length} kinds`);
    for (const [kind, query] of kinds) t.deepEqual(await selectRows(orm, query!.sql, ['00000000-0000-4000-8000-000000000000']), [], kind);
  });

  test.serial(`[${database}] a day of operations is logged with oVirt's codes, in order, newest first; from, max and search select; the stream tells the same`, async (t) => {
    const system = await ProcessSystem.start(database, { alpha: { memoryMiB: 4096 } });
    t.teardown(() => system.close());
    const { api } = system;
    const start = await newestId(api);
    t.true(start > 0, 'the log is never empty: the controller logged its start');
    const stream = EventStreamClient.open(api);
    t.teardown(() => stream.close());
    await stream.ready;
    t.is(stream.status, 200);

    const vmId = await api.createVm('diary', 256);
    t.is((await api.action(vmId, 'start')).status, 200);
    await system.waitForVmStatus(vmId, 'up');
    t.is((await api.action(vmId, 'suspend')).status, 200);
    await system.waitForVmStatus(vmId, 'suspended');
    t.is((await api.action(vmId, 'start')).status, 200);
    await system.waitForVmStatus(vmId, 'up');
    t.is((await api.action(vmId, 'stop')).status, 200);
    await system.waitForVmStatus(vmId, 'down');
    t.is((await api.put(`/vms/${vmId}`, '<vm><description>kept a diary</description></vm>')).status, 200);
    t.is((await api.delete(`/vms/${vmId}`)).status, 200);
    t.is((await api.as(basicAuthorization('admin@internal', 'wrong-password')).get('/vms')).status, 401);
    const hostId = await system.hostId('alpha');
    t.is((await api.post(`/hosts/${hostId}/deactivate`, '<action/>')).status, 200);
    await system.waitForHostStatus('alpha', 'maintenance');
    t.is((await api.post(`/hosts/${hostId}/activate`, '<action/>')).status, 200);
    await system.waitForHostStatus('alpha', 'up');

    const expected = [34, 150, 32, 501, 512, 150, 32, 33, 61, 35, 113, 113, 114, 600, 13, 15, 16, 13];
    const logged = await eventually(async () => {
      const events = await eventsAfter(api, start);
      return events.length >= expected.length ? events : undefined;
    }, 'the day logged');
    t.deepEqual(logged.map((event) => Number(event.code)), expected, logged.map((event) => `${event.code} ${event.description}`).join('\n'));
    t.regex(logged[0]!.description, /VM diary was created by admin@internal/);
    t.regex(logged[2]!.description, /VM diary started on Host alpha/);
    t.is(logged[2]!.change, 'status');
    t.is(logged[2]!.status, 'up');
    t.is(logged[8]!.status, 'down');
    t.is(logged[11]!.change, 'deleted');
    t.is(logged[12]!.severity, 'warning');
    for (const event of logged.slice(0, 12)) t.is(event.vm?.id, vmId, `${event.code} links its VM`);
    for (const event of logged.slice(13)) t.is(event.host?.id, hostId, `${event.code} links its host`);
    t.deepEqual(logged.slice(13).map((event) => event.status ?? '-'), ['-', 'preparing_for_maintenance', 'maintenance', '-', 'up']);
    t.truthy(logged[2]!.host?.id, 'the start links its host');
    t.truthy(logged[0]!.user?.id, 'a user action links its user');
    const ids = logged.map((event) => Number(event.id));
    t.deepEqual([...ids].sort((a, b) => a - b), ids, 'ids increase in the order events happened');

    const xml = await api.get(`/events?from=${start}`, { accept: 'xml' });
    t.is(xml.status, 200);
    const xmlEvents = [xml.body.events.event].flat() as { id: string; code: string; time: string }[];
    t.deepEqual(xmlEvents.map((event) => Number(event.code)), [...expected].reverse(), 'XML lists them newest first too');
    const firstOfDay = logged[0]!;
    t.regex(String(xmlEvents[0]!.time), /^\d{4}-\d\d-\d\dT/);

    const newestTwo = await api.get(`/events?from=${start}&max=2`, { accept: 'json' });
    t.deepEqual(newestTwo.body.event.map((event: EventDoc) => Number(event.code)), [13, 16]);
    t.is(firstOfDay.id, String(Number(start) + 1), 'from=N starts right after N');
    const byVm = await api.get(`/events?search=${encodeURIComponent('vm.name=diary and type=32')}`, { accept: 'json' });
    t.deepEqual(byVm.body.event.map((event: EventDoc) => Number(event.code)), [32, 32]);
    const warnings = await api.get(`/events?from=${start}&search=${encodeURIComponent('severity=warning')}`, { accept: 'json' });
    t.deepEqual(warnings.body.event.map((event: EventDoc) => Number(event.code)), [114]);
    const single = await api.get(`/events/${logged[0]!.id}`, { accept: 'json' });
    t.is(single.status, 200);
    t.is(Number(single.body.code), 34);

    await stream.waitForId(ids.at(-1)!);
    t.deepEqual(stream.events.map((event) => event.id), ids, 'the stream told the same events, in the same order');
    t.is(Number(stream.events[2]!.data.code), 32);
  });

  test.serial(`[${database}] external events are added and removed as in oVirt; bad requests are faults that change nothing`, async (t) => {
    const system = await ProcessSystem.start(database);
    t.teardown(() => system.close());
    const { api } = system;
    const added = await api.post('/events', { description: 'backup finished', severity: 'warning', origin: 'backup-tool', custom_id: 7 }, { accept: 'json' });
    t.is(added.status, 201, added.text);
    t.is(added.body.origin, 'backup-tool');
    t.is(Number(added.body.custom_id), 7);
    t.is(added.body.severity, 'warning');
    const id = added.body.id as string;
    assertFault(t, await api.post('/events', '<event><description>again</description><severity>normal</severity><origin>backup-tool</origin><custom_id>7</custom_id></event>'), 409, /custom_id 7 already exists/);
    assertFault(t, await api.post('/events', '<event><description>x</description><severity>loud</severity><origin>o</origin><custom_id>8</custom_id></event>'), 400, /severity/);
    assertFault(t, await api.post('/events', '<event><severity>normal</severity><origin>o</origin><custom_id>8</custom_id></event>'), 400, /description/);
    assertFault(t, await api.post('/events', '<event><description>x</description><severity>normal</severity><origin>o</origin><custom_id>x</custom_id></event>'), 400);
    assertFault(t, await api.get('/events/not-a-number'), 404);
    assertFault(t, await api.get('/events?from=soon'), 400, /from/);
    assertFault(t, await api.get('/events?search=nofield%3D1'), 400);
    const badResume = await api.get('/events', { headers: { Accept: 'text/event-stream', 'Last-Event-ID': 'yesterday' } });
    t.is(badResume.status, 400, badResume.text);
    const badType = await api.get('/events?object_type=planet', { headers: { Accept: 'text/event-stream' } });
    t.is(badType.status, 400, badType.text);
    t.is((await api.delete(`/events/${id}`)).status, 200);
    assertFault(t, await api.get(`/events/${id}`), 404);
    assertFault(t, await api.delete(`/events/${id}`), 404);
    const listed = (await api.get('/events?search=origin%3Dbackup-tool', { accept: 'json' })).body.event ?? [];
    t.deepEqual(listed, [], 'the removed event is gone, and no refused one was added');
  });

  test.serial(`[${database}] creating, changing and removing objects of every kind is logged with their names and links`, async (t) => {
    const system = await ProcessSystem.start(database);
    t.teardown(() => system.close());
    const { api } = system;
    const start = await newestId(api);
    const created = async (path: string, body: object) => {
      const response = await api.post(path, body, { accept: 'json' });
      t.is(response.status, 201, `${path}: ${response.text}`);
      return response.body.id as string;
    };
    const dc = await created('/datacenters', { name: 'ev-dc' });
    const cluster = await created('/clusters', { name: 'ev-cluster', data_center: { id: dc } });
    const network = await created('/networks', { name: 'ev-net', data_center: { id: dc } });
    const group = await created('/groups', { name: 'ev-group' });
    const user = await created('/users', { user_name: 'ev-user@internal', password: 'a long secret 1' });
    const tag = await created('/tags', { name: 'ev-tag' });
    t.is((await api.put(`/clusters/${cluster}`, { description: 'renamed' }, { accept: 'json' })).status, 200);
    for (const path of [`/tags/${tag}`, `/users/${user}`, `/groups/${group}`, `/networks/${network}`, `/clusters/${cluster}`, `/datacenters/${dc}`]) t.is((await api.delete(path)).status, 200, path);

    const logged = await eventsAfter(api, start);
    const described = logged.map((event) => `${event.code} ${event.change ?? '-'} ${event.description}`);
    const expected = [
      '950 created Data Center ev-dc was created by admin@internal.',
      '809 created Cluster ev-cluster was created by admin@internal.',
      '942 created Network ev-net was created by admin@internal.',
      '100005 created Group ev-group was created by admin@internal.',
      '149 created User ev-user@internal was created by admin@internal.',
      '432 created Tag ev-tag was created by admin@internal.',
      '811 updated Cluster ev-cluster was updated by admin@internal.',
      '434 deleted Tag ev-tag was removed by admin@internal.',
      '325 deleted User ev-user@internal was removed by admin@internal.',
      '408 deleted Group ev-group was removed by admin@internal.',
      '944 deleted Network ev-net was removed by admin@internal.',
      '813 deleted Cluster ev-cluster was removed by admin@internal.',
      '954 deleted Data Center ev-dc was removed by admin@internal.',
    ];
    t.deepEqual(described.filter((line) => !line.startsWith('30 ')), expected);
    const clusterEvent = logged.find((event) => Number(event.code) === 809) as EventDoc & { data_center?: { id: string }; cluster?: { id: string } };
    t.is(clusterEvent.cluster?.id, cluster, 'a cluster event links its cluster');
    t.is(clusterEvent.data_center?.id, dc, 'and its data center');
  });

  test.serial(`[${database}] storage and disks: created, their status when their task finished, and a failed task with its fault`, async (t) => {
    const migrationUri = (host: string) => ({ agentEnvironment: { DROVER_MIGRATION_URI: `qemu+tcp://${host}.example.org/system` } });
    const system = await ProcessSystem.start(database, { alpha: { memoryMiB: 4096, ...migrationUri('alpha') }, beta: { memoryMiB: 2048, ...migrationUri('beta') } });
    t.teardown(() => system.close());
    const { api } = system;
    const start = await newestId(api);
    const domain = await api.addLocalStorage('ev-local', 'alpha', path.join(system.directory, 'ev-local'));
    t.is(domain.status, 201, domain.text);
    const domainId = domain.body.storage_domain.id as string;
    const dcId = ((await api.get('/datacenters', { accept: 'json' })).body.data_center as { id: string }[])[0]!.id;
    const attached = await api.post(`/datacenters/${dcId}/storagedomains`, `<storage_domain id="${domainId}"/>`);
    t.is(attached.status, 201, attached.text);
    await eventually(async () => (await api.get(`/storagedomains/${domainId}`, { accept: 'json' })).body.status === 'active' || (await api.get(`/datacenters/${dcId}/storagedomains/${domainId}`, { accept: 'json' })).body.status === 'active' || undefined, 'the domain active');
    const disk = await api.post('/disks', `<disk><name>ev-disk</name><provisioned_size>1048576</provisioned_size><format>cow</format><storage_domains><storage_domain id="${domainId}"/></storage_domains></disk>`);
    t.is(disk.status, 201, disk.text);
    const diskId = disk.body.disk.id as string;
    await eventually(async () => (await api.diskStatus(diskId)) === 'ok' || undefined, 'the disk created');
    t.is((await api.post(`/storagedomains/${domainId}/deactivate`, '<action/>')).status, 200);
    const logged = await eventually(async () => {
      const events = await eventsAfter(api, start);
      return events.some((event) => Number(event.code) === 968) ? events : undefined;
    }, 'the domain deactivated');
    const lines = logged.filter((event) => !['30', '13'].includes(String(event.code))).map((event) => `${event.code} ${event.change ?? '-'} ${event.status ?? '-'}`);
    t.deepEqual(lines, ['956 created -', '966 status active', '962 created -', '2020 created -', '2021 status ok', '100100 - -', '968 status maintenance'], logged.map((event) => `${event.code} ${event.description}`).join('\n'));
    t.true(logged.filter((event) => ['2020', '2021'].includes(String(event.code))).every((event) => (event as { storage_domain?: { id: string } }).storage_domain?.id === domainId), 'disk events link their storage domain');

    const vmId = await api.createVm('ev-moved', 128);
    t.is((await api.action(vmId, 'start')).status, 200);
    const refused = await api.post(`/vms/${vmId}/migrate`, '<action/>');
    t.true(refused.status >= 400, `the test driver cannot migrate: ${refused.text}`);
    const failures = await eventually(async () => {
      const events = (await api.get(`/events?from=${start}&search=${encodeURIComponent('severity=error')}`, { accept: 'json' })).body.event as EventDoc[] | undefined;
      return events?.length ? events : undefined;
    }, 'the failed start logged');
    t.is(Number(failures[0]!.code), 65, failures[0]!.description);
    t.regex(failures[0]!.description, /Migrate of VM ev-moved failed: /);
    t.is(failures[0]!.vm?.id, vmId);
  });

  test.serial(`[${database}] a user who is not an administrator lists and hears only the events of what they may see`, async (t) => {
    const system = await ProcessSystem.start(database);
    t.teardown(() => system.close());
    const { api } = system;
    const start = await newestId(api);
    const user = await api.post('/users', { user_name: 'watcher@internal', password: 'a long secret 2' }, { accept: 'json' });
    t.is(user.status, 201, user.text);
    const mine = await api.createVm('watched', 128);
    const theirs = await api.createVm('unwatched', 128);
    const granted = await api.post(`/vms/${mine}/permissions`, { role: { name: 'UserRole' }, user: { id: user.body.id } }, { accept: 'json' });
    t.is(granted.status, 201, granted.text);
    const watcher = api.as(basicAuthorization('watcher@internal', 'a long secret 2'));
    const stream = EventStreamClient.open(watcher, { lastEventId: start });
    t.teardown(() => stream.close());
    await stream.ready;
    t.is(stream.status, 200);
    t.is((await api.put(`/vms/${mine}`, { description: 'seen' }, { accept: 'json' })).status, 200);
    t.is((await api.put(`/vms/${theirs}`, { description: 'unseen' }, { accept: 'json' })).status, 200);
    const last = await newestId(api);
    const listed = ((await watcher.get(`/events?from=${start}`, { accept: 'json' })).body.event ?? []) as EventDoc[];
    t.true(listed.length >= 2, `the user lists the events of the VM granted to them (${listed.length})`);
    t.true(listed.every((event) => event.vm?.id === mine), `and only those: ${listed.map((event) => `${event.code} ${event.description} ${event.vm?.id}`).join('; ')}`);
    const theirsEvents = ((await api.get(`/events?from=${start}&search=${encodeURIComponent('vm.name=unwatched')}`, { accept: 'json' })).body.event ?? []) as EventDoc[];
    t.true(theirsEvents.length >= 2, 'the administrator sees the other VM\'s events');
    const updated = await eventually(() => stream.events.find((event) => event.data.description?.includes('watched was updated')), 'the update of the watched VM on the stream');
    t.true(Number(updated.id) <= last);
    await eventually(async () => (await newestId(api)) >= last || undefined, 'the log written');
    t.true(stream.events.every((event) => event.data.vm?.id === mine), 'the stream tells only the events of the VM granted to the user');
    t.deepEqual(stream.events.map((event) => event.id), [...listed].reverse().map((event) => Number(event.id)).filter((id) => id <= stream.lastId!));
  });

  test.serial(`[${database}] the stream resumes without loss or repetition: several subscribers, one dropped, and across a controller restart`, async (t) => {
    const system = await ProcessSystem.start(database);
    t.teardown(() => system.close());
    const { api } = system;
    const start = await newestId(api);
    const steady = EventStreamClient.open(api, { lastEventId: start });
    const dropped = EventStreamClient.open(api, { lastEventId: start });
    const onlyVms = EventStreamClient.open(api, { lastEventId: start, query: 'object_type=vm' });
    t.teardown(() => Promise.all([steady, dropped, onlyVms].map((client) => client.close())).then(() => undefined));
    await Promise.all([steady.ready, dropped.ready, onlyVms.ready]);

    const posted: number[] = [];
    let customId = 0;
    const post = async (batches: number) => {
      for (let batch = 0; batch < batches; batch++) posted.push(...(await Promise.all(Array.from({ length: 25 }, () => postExternal(api, customId++)))));
    };
    await post(10);
    await dropped.waitForId(posted[100]!);
    await dropped.close();
    await post(10);
    t.true(dropped.lastId! < posted.at(-1)!, 'the dropped subscriber missed events');
    const resumed = EventStreamClient.open(api, { lastEventId: dropped.lastId! });
    t.teardown(() => resumed.close());
    const late = EventStreamClient.open(api, { query: `from=${start}` });
    t.teardown(() => late.close());

    const all = (await eventsAfter(api, start)).map((event) => Number(event.id));
    t.true(all.length >= posted.length);
    await steady.waitForId(all.at(-1)!);
    assertExactly(t, steady.events.map((event) => event.id), all, 'a steady subscriber');
    await resumed.waitForId(all.at(-1)!).catch((error) => {
      t.log(`dropped at ${dropped.lastId}, resumed heard ${resumed.events.length} (${resumed.events[0]?.id}..${resumed.lastId}), status ${resumed.status}, ended ${resumed.ended}, comments ${resumed.comments.join(' | ')}`);
      throw error;
    });
    assertExactly(t, [...dropped.events, ...resumed.events].map((event) => event.id), all, 'a subscriber that dropped and reconnected with Last-Event-ID');
    await late.waitForId(all.at(-1)!);
    assertExactly(t, late.events.map((event) => event.id), all, 'a subscriber that came late and asked from=');
    t.deepEqual(onlyVms.events, [], 'a subscriber of VM events heard none of the external ones');

    await system.killController('SIGKILL');
    await system.startController();
    const afterRestart = await eventsAfter(api, start);
    t.deepEqual(afterRestart.slice(0, all.length).map((event) => Number(event.id)), all, 'the events survived the controller restart');
    const acrossRestart = EventStreamClient.open(api, { lastEventId: all.at(-1)! });
    t.teardown(() => acrossRestart.close());
    await acrossRestart.ready;
    const next = await postExternal(api, 5000);
    await acrossRestart.waitForId(next);
    t.true(acrossRestart.events.every((event) => event.id > all.at(-1)!), 'resuming after a restart repeats nothing');
    t.true(acrossRestart.events.some((event) => Number(event.data.code) === 1), 'and tells the restart');
  });

  test.serial(`[${database}] a subscriber that stops reading is cut off once it falls the buffer behind, and catches up from the log when it reconnects`, async (t) => {
    const system = await ProcessSystem.start(database, {}, { controllerEnvironment: { DROVER_EVENT_STREAM_BUFFER_BYTES: '65536' } });
    t.teardown(() => system.close());
    const { api } = system;
    const start = await newestId(api);
    const slow = new CurlEventStream(api, system.caFile, start);
    t.teardown(() => slow.close());
    const steady = new CurlEventStream(api, system.caFile, start);
    t.teardown(() => steady.close());
    await Promise.all([slow.started(), steady.started()]);
    slow.stop();
    const description = 'x'.repeat(3900);
    for (let batch = 0; batch < 40; batch++) await Promise.all(Array.from({ length: 50 }, (_, index) => postExternal(api, batch * 50 + index, description)));
    const all = (await eventsAfter(api, start)).map((event) => Number(event.id));
    await eventually(() => steady.ids().at(-1) === all.at(-1) || undefined, 'the reading subscriber to hear every event').catch((error) => {
      t.log(`steady heard ${steady.ids().length} of ${all.length}, cut off ${steady.cutOff}, ended ${steady.ended}; slow cut off ${slow.cutOff}`);
      throw error;
    });
    assertExactly(t, steady.ids(), all, 'the subscriber that kept reading');
    slow.resume();
    await eventually(() => slow.ended || undefined, 'the slow subscriber reads to the end of its cut-off stream');
    t.true(slow.cutOff, 'the subscriber that stopped reading was cut off, not buffered for');
    const heard = slow.ids();
    t.true(heard.length < all.length, `it heard ${heard.length} of ${all.length} events before it was cut off`);
    const caughtUp = EventStreamClient.open(api, { lastEventId: heard.at(-1) ?? start });
    t.teardown(() => caughtUp.close());
    await caughtUp.waitForId(all.at(-1)!);
    assertExactly(t, [...heard, ...caughtUp.events.map((event) => event.id)], all, 'the slow subscriber, after reconnecting');
  });

  test.serial(`[${database}] the log is pruned by age and size, never to empty; a stream that asks for pruned events is told they are gone`, async (t) => {
    const system = await ProcessSystem.start(database, {}, { controllerEnvironment: { DROVER_EVENTS_MAX_COUNT: '10', DROVER_EVENTS_PRUNE_INTERVAL_SECONDS: '0.2' } });
    t.teardown(() => system.close());
    const { api } = system;
    const first = await newestId(api);
    const posted: number[] = [];
    for (let index = 0; index < 30; index++) posted.push(await postExternal(api, index));
    const kept = await eventually(async () => {
      const response = await api.get('/events?max=-1', { accept: 'json' });
      return response.body.event?.length <= 10 ? (response.body.event as EventDoc[]) : undefined;
    }, 'the log pruned to 10 events');
    t.is(Number(kept[0]!.id), posted.at(-1)!, 'the newest event is kept');
    const gone = await api.get('/events', { headers: { Accept: 'text/event-stream', 'Last-Event-ID': String(first) } });
    assertFault(t, gone, 410, /pruned/);

    system.controllerEnvironment.DROVER_EVENTS_MAX_AGE_DAYS = '0.00001';
    await system.killController('SIGTERM');
    await system.startController();
    const last = await eventually(async () => {
      const response = await api.get('/events?max=-1', { accept: 'json' });
      return response.body.event?.length === 1 ? (response.body.event as EventDoc[]) : undefined;
    }, 'the log pruned by age down to its newest event');
    t.is(last.length, 1, 'the log is never empty');
  });
}
