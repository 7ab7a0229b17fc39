import { createHash } from 'node:crypto';

/**
 * The id of a VM's active snapshot, the one snapshot every oVirt VM has (its
 * current configuration and disks). oVirt gives it a UUID of its own per VM;
 * Drover, which keeps no snapshots, derives one from the VM's id (a
 * name-based UUID, version 5 layout), so it is the same at every read and
 * differs from every VM's id.
 */
export function activeSnapshotId(vmId: string): string {
  const digest = createHash('sha1').update(`drover:active-snapshot:${vmId}`).digest();
  digest[6] = (digest[6]! & 0x0f) | 0x50;
  digest[8] = (digest[8]! & 0x3f) | 0x80;
  const hex = digest.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
