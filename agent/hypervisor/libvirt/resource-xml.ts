import { XMLBuilder } from 'fast-xml-parser';

/** A `dir` storage pool over a directory. */
export interface PoolConfig {
  name: string;
  path: string;
}

/** A file volume in a pool, optionally a qcow2 overlay on a backing file. */
export interface VolumeConfig {
  name: string;
  format: 'qcow2' | 'raw';
  capacityBytes: number;
  allocationBytes: number;
  backing?: { path: string; format: 'qcow2' | 'raw' };
}

/** A libvirt network: over a bridge the host already has (`forward mode='bridge'`), or an isolated one with a bridge of its own. */
export interface NetworkConfig {
  name: string;
  bridge: string;
  hostBridge: boolean;
  mtu: number;
}

/** The qcow2 version of new volumes: 1.1 (QEMU 1.1 and later), which has lazy refcounts, zero clusters and extended features; libvirt's default is 0.10. */
export const qcow2Compat = '1.1';

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', format: true, indentBy: '  ', suppressEmptyNode: true, processEntities: true });

export function serializePoolXml(pool: PoolConfig): string {
  return builder.build({ pool: { '@_type': 'dir', name: pool.name, target: { path: pool.path } } }) as string;
}

export function serializeVolumeXml(volume: VolumeConfig): string {
  const bytes = (value: number) => ({ '@_unit': 'bytes', '#text': String(value) });
  return builder.build({
    volume: {
      name: volume.name,
      capacity: bytes(volume.capacityBytes),
      allocation: bytes(volume.allocationBytes),
      target: { format: { '@_type': volume.format }, ...(volume.format === 'qcow2' ? { compat: qcow2Compat } : {}) },
      ...(volume.backing ? { backingStore: { path: volume.backing.path, format: { '@_type': volume.backing.format } } } : {}),
    },
  }) as string;
}

export function serializeNetworkXml(network: NetworkConfig): string {
  return builder.build({
    network: {
      name: network.name,
      ...(network.hostBridge ? { forward: { '@_mode': 'bridge' } } : {}),
      bridge: network.hostBridge ? { '@_name': network.bridge } : { '@_name': network.bridge, '@_stp': 'on', '@_delay': '0' },
      ...(network.mtu > 0 && !network.hostBridge ? { mtu: { '@_size': String(network.mtu) } } : {}),
    },
  }) as string;
}
