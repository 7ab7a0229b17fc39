import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { diskSources, refersTo, VolumeUseGuard } from '../../../agent/hypervisor/libvirt/volume-users.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';

const runningXml = `<domain type='qemu' id='3'>
  <name>hand-made</name>
  <devices>
    <disk type='file' device='disk'>
      <source file='/images/overlay.qcow2' index='2'/>
      <backingStore type='file' index='3'>
        <format type='qcow2'/>
        <source file='/images/base&apos;s.qcow2'/>
        <backingStore/>
      </backingStore>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='block' device='disk'><source dev='/dev/vg/lv'/><target dev='vdb' bus='virtio'/></disk>
    <disk type='volume' device='disk'><source pool='drover-sd-1' volume='v1'/><target dev='vdc' bus='virtio'/></disk>
    <disk type='file' device='cdrom'><target dev='hdc' bus='ide'/></disk>
    <interface type='direct'><source dev='/images/not-a-disk'/></interface>
  </devices>
</domain>`;

test("diskSources finds every disk's source, the files of backing chains, block devices and pool volumes, and nothing outside disks", (t) => {
  t.deepEqual(diskSources(runningXml), [{ path: '/images/overlay.qcow2' }, { path: "/images/base's.qcow2" }, { path: '/dev/vg/lv' }, { pool: 'drover-sd-1', volume: 'v1' }]);
  t.deepEqual(diskSources("<domain><name>empty</name><devices><disk type='file' device='cdrom'/></devices></domain>"), []);
});

test('a source refers to a volume by its pool and name, by its path, or as the same file reached by another path', async (t) => {
  const directory = await temporaryDirectory('volume-users');
  t.teardown(() => directory.remove());
  const images = path.join(directory.path, 'images');
  await mkdir(images);
  const file = path.join(images, 'v1');
  await writeFile(file, 'volume');
  await writeFile(path.join(images, 'v2'), 'another');
  await symlink(file, path.join(directory.path, 'link'));
  const target = { file, pool: 'drover-sd-1', volume: 'v1' };
  t.true(await refersTo({ pool: 'drover-sd-1', volume: 'v1' }, target));
  t.false(await refersTo({ pool: 'drover-sd-1', volume: 'v2' }, target));
  t.true(await refersTo({ path: `${images}//./v1` }, target), 'the same path, spelled otherwise');
  t.true(await refersTo({ path: path.join(directory.path, 'link') }, target), 'a link to the file');
  t.false(await refersTo({ path: path.join(images, 'v2') }, target));
  t.false(await refersTo({ path: path.join(images, 'missing') }, target));
});

/** A promise and what settles it, for holding an operation in progress. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

test('the guard runs uses together and a deletion alone: a deletion waits for the uses in progress, and uses that come during a deletion wait for it, in the order they came', async (t) => {
  const guard = new VolumeUseGuard();
  const events: string[] = [];
  const firstUse = gate();
  const secondUse = gate();
  const uses = [guard.using(() => (events.push('use 1'), firstUse.promise)), guard.using(() => (events.push('use 2'), secondUse.promise))];
  const deletionRun = gate();
  const deletion = guard.deletion(async () => {
    events.push('deletion');
    await deletionRun.promise;
  });
  const later = guard.using(async () => void events.push('use 3'));
  await Promise.resolve();
  t.deepEqual(events, ['use 1', 'use 2'], 'uses run together; the deletion waits for them');
  firstUse.open();
  await uses[0];
  t.deepEqual(events, ['use 1', 'use 2'], 'the deletion waits for every use in progress');
  secondUse.open();
  await uses[1];
  await new Promise((resolve) => setImmediate(resolve));
  t.deepEqual(events, ['use 1', 'use 2', 'deletion'], 'a use that came after the deletion does not overtake it');
  deletionRun.open();
  await deletion;
  await later;
  t.deepEqual(events, ['use 1', 'use 2', 'deletion', 'use 3']);
});

test('a failed operation releases the guard', async (t) => {
  const guard = new VolumeUseGuard();
  await t.throwsAsync(guard.deletion(async () => Promise.reject(new Error('refused'))), { message: 'refused' });
  await t.throwsAsync(guard.using(async () => Promise.reject(new Error('failed'))), { message: 'failed' });
  t.is(await guard.deletion(async () => 'deleted'), 'deleted');
});
