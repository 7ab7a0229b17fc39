import { Migration } from '@mikro-orm/migrations';

/**
 * oVirt's tags: a tree under the root tag (oVirt's `root`, id all zeros), and
 * their assignments to VMs, hosts and templates. The database keeps the tree and the
 * assignments whole: removing a tag removes its subtree (a foreign key to the
 * parent, with cascade), and removing a tag, a VM, a host or a template removes their
 * assignments, whatever removes them. `tag_lineage` pairs every tag with
 * itself and each of its ancestors, so a search for a tag also finds what is
 * tagged with a tag below it.
 */
export class Migration20261208000000_tags extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table tags (
      id varchar(36) not null primary key,
      name varchar(255) not null unique,
      description text not null default '',
      parent_id varchar(36) null references tags (id) on delete cascade,
      created_at bigint not null)`);
    this.addSql('create index tags_parent_id_index on tags (parent_id)');
    this.addSql(`insert into tags (id, name, description, parent_id, created_at) values ('00000000-0000-0000-0000-000000000000', 'root', 'root', null, ${Date.now()})`);
    for (const [table, owner, owners] of [
      ['vm_tags', 'vm_id', 'vms'],
      ['host_tags', 'host_id', 'hosts'],
      ['template_tags', 'template_id', 'templates'],
    ] as const) {
      this.addSql(`create table ${table} (
        ${owner} varchar(36) not null references ${owners} (id) on delete cascade,
        tag_id varchar(36) not null references tags (id) on delete cascade,
        primary key (${owner}, tag_id))`);
      this.addSql(`create index ${table}_tag_id_index on ${table} (tag_id)`);
    }
    // "union" rather than "union all": a cycle, which the service never writes, would still end the recursion.
    this.addSql(`create view tag_lineage (tag_id, ancestor_id) as
      with recursive lineage (tag_id, ancestor_id) as (
        select id, id from tags
        union
        select l.tag_id, p.parent_id from lineage l join tags p on p.id = l.ancestor_id where p.parent_id is not null
      )
      select tag_id, ancestor_id from lineage`);
  }
}
