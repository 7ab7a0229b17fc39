import { Migration } from '@mikro-orm/migrations';

/**
 * Enrollment tokens (stored as SHA-256 hashes of their secret) and the
 * certificates the CA issued to hosts. Deleting a host revokes its
 * certificates, by a trigger, so that no path that deletes a host can leave
 * its key able to open a session.
 */
export class Migration20261206200000_trust extends Migration {
  override async up(): Promise<void> {
    const postgres = this.driver.getPlatform().getConfig().get('clientUrl')?.startsWith('postgres') ?? false;
    this.addSql(`create table host_enrollment_tokens (
      id varchar(36) not null primary key,
      token_hash varchar(64) not null unique,
      description text not null default '',
      created_by varchar(36) null,
      created_at bigint not null,
      expires_at bigint not null,
      used_at bigint null,
      host_id varchar(36) null
    )`);
    this.addSql(`create table host_certificates (
      serial varchar(40) not null primary key,
      host_id varchar(36) not null,
      issued_at bigint not null,
      not_after bigint not null,
      revoked_at bigint null
    )`);
    this.addSql('create index host_certificates_host_id_index on host_certificates (host_id)');
    if (postgres) {
      this.addSql(`create function drover_revoke_host_certificates() returns trigger language plpgsql as $$
        begin
          update host_certificates set revoked_at = (extract(epoch from clock_timestamp()) * 1000)::bigint where host_id = old.id and revoked_at is null;
          return old;
        end
      $$`);
      this.addSql('create trigger hosts_revoke_certificates after delete on hosts for each row execute function drover_revoke_host_certificates()');
    } else {
      this.addSql(`create trigger hosts_revoke_certificates after delete on hosts for each row
        begin update host_certificates set revoked_at = cast((julianday('now') - 2440587.5) * 86400000 as integer) where host_id = old.id and revoked_at is null; end`);
    }
  }
}
