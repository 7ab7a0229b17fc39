import { Migration } from '@mikro-orm/migrations';

/**
 * Indexes for what searches, sorting and reverse collections use: names as
 * searched without regard to case, the columns VM status is derived from,
 * and the foreign keys reverse collections follow that had none.
 */
export class Migration20261125000000_search_indexes extends Migration {
  override async up(): Promise<void> {
    for (const table of ['vms', 'hosts', 'clusters', 'data_centers', 'storage_domains', 'disks', 'networks', 'vnic_profiles', 'templates', 'vm_pools']) {
      this.addSql(`create index ${table}_lower_name_index on ${table} (lower(name))`);
    }
    this.addSql('create index vms_power_state_index on vms (power_state)');
    this.addSql('create index vms_memory_bytes_index on vms (memory_bytes)');
    this.addSql('create index clusters_mac_pool_id_index on clusters (mac_pool_id)');
    this.addSql('create index disk_attachments_disk_id_index on disk_attachments (disk_id)');
    this.addSql('create index vnic_profiles_network_id_index on vnic_profiles (network_id)');
    this.addSql('create index tasks_host_id_seq_index on tasks (host_id, seq)');
  }
}
