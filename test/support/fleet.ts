import { randomUUID } from 'node:crypto';
import { openDatabase, type Orm } from '../../controller/db/orm.js';
import type { DatabaseLocation } from './scratch-database.js';

/** Rows for a fleet of VMs written straight into the database, for tests and benchmarks of reads at scale. */
export interface Fleet {
  storageDomainId: string;
  vnicProfileId: string;
  clusterIds: string[];
  vmIds: string[];
}

async function insertRows(orm: Orm, table: string, rows: Record<string, unknown>[]): Promise<void> {
  const connection = orm.em.getConnection();
  for (let start = 0; start < rows.length; start += 200) {
    const batch = rows.slice(start, start + 200);
    const columns = Object.keys(batch[0]!);
    const values = batch.map(() => `(${columns.map(() => '?').join(', ')})`).join(', ');
    await connection.execute(`insert into ${table} (${columns.join(', ')}) values ${values}`, batch.flatMap((row) => columns.map((column) => row[column])) as never[]);
  }
}

/**
 * Writes `count` VMs, each with two disks (attached) on one storage domain and
 * two NICs on the management network, spread over `clusters` new clusters of
 * the Default data center, while the controller is stopped (it reads VMs at
 * start). Returns the ids, VMs in name order.
 */
export async function writeFleet(database: DatabaseLocation, count: number, options: { clusters?: number; prefix?: string } = {}): Promise<Fleet> {
  const orm = await openDatabase({ url: database.url, dataDir: database.dataDir });
  try {
    const connection = orm.em.getConnection();
    const now = Date.now();
    const [dataCenter] = (await connection.execute(`select id from data_centers where name = 'Default'`)) as { id: string }[];
    const [macPool] = (await connection.execute(`select id from mac_pools where default_pool = ?`, [true])) as { id: string }[];
    const [profile] = (await connection.execute(`select p.id from vnic_profiles p join networks n on n.id = p.network_id where n.name = 'ovirtmgmt' and n.data_center_id = ?`, [dataCenter!.id])) as { id: string }[];
    const prefix = options.prefix ?? 'fleet';
    const storageDomainId = randomUUID();
    await insertRows(orm, 'storage_domains', [
      { id: storageDomainId, name: `${prefix}-sd-${storageDomainId.slice(0, 8)}`, description: '', storage_type: 'nfs', address: 'filer', path: `/exports/${prefix}`, host_id: null, data_center_id: dataCenter!.id, status: 'active', available_bytes: 2 ** 40, used_bytes: 2 ** 30, reported_at: now, created_at: now, updated_at: now },
    ]);
    const clusterIds = Array.from({ length: options.clusters ?? 4 }, () => randomUUID());
    await insertRows(
      orm,
      'clusters',
      clusterIds.map((id, index) => ({ id, name: `${prefix}-cluster-${index}-${id.slice(0, 4)}`, description: '', data_center_id: dataCenter!.id, cpu_architecture: 'x86_64', mac_pool_id: macPool!.id, created_at: now, updated_at: now })),
    );
    const vms: Record<string, unknown>[] = [];
    const disks: Record<string, unknown>[] = [];
    const attachments: Record<string, unknown>[] = [];
    const nics: Record<string, unknown>[] = [];
    const used = new Set(((await connection.execute('select mac from nics where mac_pool_id = ?', [macPool!.id])) as { mac: string }[]).map((row) => row.mac));
    let macCounter = 0x56_ff_00_00_00_00;
    const nextMac = () => {
      let mac: string;
      do mac = (macCounter++).toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:');
      while (used.has(mac));
      return mac;
    };
    const width = String(count).length;
    for (let index = 0; index < count; index++) {
      const vmId = randomUUID();
      vms.push({
        id: vmId,
        name: `${prefix}-${String(index).padStart(width, '0')}`,
        description: `fleet VM ${index}`,
        memory_bytes: (1 + (index % 8)) * 256 * 2 ** 20,
        cpu_sockets: 1,
        cpu_cores: 1 + (index % 4),
        cpu_threads: 1,
        os_type: index % 3 === 0 ? 'rhel_9x64' : 'other',
        display_type: index % 2 === 0 ? 'vnc' : 'spice',
        cluster_id: clusterIds[index % clusterIds.length],
        host_id: null,
        power_state: null,
        power_state_at: null,
        desired_state: 'down',
        template_id: '00000000-0000-0000-0000-000000000000',
        vm_pool_id: null,
        allocated_to: null,
        created_at: now + index,
        updated_at: now,
      });
      for (let disk = 0; disk < 2; disk++) {
        const diskId = randomUUID();
        disks.push({ id: diskId, name: `${prefix}-${index}-disk${disk}`, description: '', storage_domain_id: storageDomainId, provisioned_size: 2 ** 30, actual_size: 2 ** 20, format: 'cow', sparse: true, status: 'ok', parent_disk_id: null, template_id: null, created_at: now, updated_at: now });
        attachments.push({ id: diskId, disk_id: diskId, vm_id: vmId, template_id: null, disk_interface: 'virtio', bootable: disk === 0, active: true, read_only: false, created_at: now + disk });
      }
      for (let nic = 0; nic < 2; nic++) {
        nics.push({ id: randomUUID(), name: `nic${nic + 1}`, vm_id: vmId, template_id: null, nic_interface: 'virtio', mac: nextMac(), mac_pool_id: macPool!.id, vnic_profile_id: profile!.id, linked: true, plugged: true, created_at: now, updated_at: now });
      }
    }
    await insertRows(orm, 'vms', vms);
    await insertRows(orm, 'disks', disks);
    await insertRows(orm, 'disk_attachments', attachments);
    await insertRows(orm, 'nics', nics);
    return { storageDomainId, vnicProfileId: profile!.id, clusterIds, vmIds: vms.map((vm) => vm.id as string) };
  } finally {
    await orm.close();
  }
}
