import test from 'ava';
import type { ResourceName } from '../../../controller/query/catalog.js';
import { embeddedDocuments, type FollowedLink, type Loaded } from '../../../controller/query/queries.js';

/** A Map that counts the lookups made in it, to tell how much work a count did. */
class CountingMap<K, V> extends Map<K, V> {
  static lookups = 0;
  override get(key: K): V | undefined {
    CountingMap.lookups++;
    return super.get(key);
  }
}

function level(resource: ResourceName, ids: string[], links: FollowedLink[] = []): Loaded {
  return { resource, ids, views: new Map(ids.map((id) => [id, { id }])), known: new Map(), versions: new Map(), links };
}

function link(name: string, loaded: Loaded, byOwner: [string, string[]][], single = false): FollowedLink {
  return { name, resource: loaded.resource, single, byOwner: new CountingMap(byOwner), loaded };
}

const vmIds = (count: number, prefix = 'vm') => Array.from({ length: count }, (_, index) => `${prefix}-${index}`);

/** `/vms?follow=cluster.vms` over `count` VMs of one cluster. */
function clusterOfEveryVm(count: number): Loaded {
  const ids = vmIds(count);
  const clusterVms = level('vm', ids);
  const cluster = level('cluster', ['c1'], [link('vms', clusterVms, [['c1', ids]])]);
  return level('vm', ids, [link('cluster', cluster, ids.map((id) => [id, ['c1']]), true)]);
}

test('every place an object is embedded counts, with what it embeds there', (t) => {
  const loaded = clusterOfEveryVm(30);
  t.is(embeddedDocuments(loaded, loaded.ids, 1_000_000), 30 * (1 + 30), 'each of 30 VMs embeds the cluster and its 30 VMs');
  t.is(embeddedDocuments(loaded, ['vm-3'], 1_000_000), 31, 'one VM: the cluster and its VMs');
  t.is(embeddedDocuments(level('vm', vmIds(5)), vmIds(5), 10), 0, 'a list without followed links embeds nothing');
});

test('a count at the limit passes, and one past it answers a number above the limit', (t) => {
  const loaded = clusterOfEveryVm(30);
  t.is(embeddedDocuments(loaded, loaded.ids, 930), 930);
  t.true(embeddedDocuments(loaded, loaded.ids, 929) > 929);
});

test('objects that were not loaded (vanished meanwhile) are not counted, as they are not presented', (t) => {
  const disks = level('disk', ['d1']);
  const attachments = level('disk_attachment', ['a1', 'a2'], [link('disk', disks, [['a1', ['d1']], ['a2', ['d-gone']]], true)]);
  const vms = level('vm', ['v1'], [link('disk_attachments', attachments, [['v1', ['a1', 'a2', 'a-gone']]])]);
  t.is(embeddedDocuments(vms, ['v1'], 100), 3, 'two attachments and one disk');
});

test('counting stops as soon as it passes the limit, so it costs no more than the limit however many documents the links make', (t) => {
  const loaded = clusterOfEveryVm(100_000);
  CountingMap.lookups = 0;
  t.true(embeddedDocuments(loaded, loaded.ids, 10_000) > 10_000);
  t.true(CountingMap.lookups < 20, `${CountingMap.lookups} lookups of owners' links for 10^10 embedded documents`);

  // Eight levels of ten objects, each embedding all ten of the next: 10^8 documents under each top object.
  let next = level('vm', vmIds(10, 'level-8'));
  for (let depth = 7; depth >= 0; depth--) {
    const targets = next.ids;
    const ids = vmIds(10, `level-${depth}`);
    next = level('vm', ids, [link('vms', next, ids.map((id) => [id, targets]))]);
  }
  CountingMap.lookups = 0;
  t.true(embeddedDocuments(next, next.ids, 100_000) > 100_000);
  t.true(CountingMap.lookups <= 9 * 10, `${CountingMap.lookups} lookups: at most one per level and object`);
});
