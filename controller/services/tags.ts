import { randomUUID } from 'node:crypto';
import { ForeignKeyConstraintViolationException, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { Orm } from '../db/orm.js';
import { Tag, Template } from '../db/entities.js';
import { inTransaction, reader, runStatement, selectRows, type Reference } from '../db/store.js';
import type { Records } from '../state/records.js';
import { conflict, invalid, notFound } from '../rules/errors.js';
import { KeyedLock } from '../rules/keyed-lock.js';
import { rootTag, type TaggableKind } from '../rules/tags.js';

/** Where each kind of object's tag assignments are: a table of (owner, tag) pairs. */
const assignments: Record<TaggableKind, { table: string; owner: string }> = {
  vm: { table: 'vm_tags', owner: 'vm_id' },
  host: { table: 'host_tags', owner: 'host_id' },
  template: { table: 'template_tags', owner: 'template_id' },
};

export interface TagChange {
  name?: string;
  description?: string;
  parent?: Reference;
}

const byName = (a: Tag, b: Tag) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * oVirt's tags and their assignments to VMs, hosts and templates. The database keeps the
 * tree whole (a tag's subtree and assignments go with it; see migration
 * tags); changes of the tree run one at a time, so that two moves cannot
 * together make a tag its own ancestor.
 */
export class TagService {
  private readonly tree = new KeyedLock();

  constructor(
    private readonly orm: Orm,
    private readonly records: Records,
  ) {}

  /** Every tag, the root included, by name. */
  async list(): Promise<Tag[]> {
    return (await reader(this.orm).find(Tag, {})).sort(byName);
  }

  async get(id: string): Promise<Tag> {
    const tag = await reader(this.orm).findOne(Tag, { id });
    if (!tag) throw notFound('tag', id);
    return tag;
  }

  /** The tag a reference names, by id or else by name. */
  async find(reference: Reference): Promise<Tag> {
    const tag = await reader(this.orm).findOne(Tag, reference.id !== undefined ? { id: reference.id } : { name: reference.name ?? '' });
    if (!tag) throw notFound('tag', reference.id ?? reference.name ?? '');
    return tag;
  }

  /** Adds a tag below its parent (the root when none is named); the name must be free. */
  add(change: TagChange & { name: string }): Promise<Tag> {
    return this.tree.run('tree', async () => {
      const parent = change.parent ? await this.find(change.parent) : undefined;
      await this.refuseTakenName(change.name);
      return inTransaction(this.orm, async (em) =>
        em.create(Tag, { id: randomUUID(), name: change.name, description: change.description ?? '', parentId: parent?.id ?? rootTag.id, createdAt: Date.now() }),
      );
    });
  }

  /** Renames a tag, changes its description, or moves it below another tag, which must not be the tag itself or one of its descendants. */
  update(id: string, change: TagChange): Promise<Tag> {
    return this.tree.run('tree', async () => {
      const tag = await this.get(id);
      if (tag.id === rootTag.id) throw conflict('the root tag cannot be changed');
      const parent = change.parent ? await this.find(change.parent) : undefined;
      if (change.name !== undefined && change.name !== tag.name) await this.refuseTakenName(change.name);
      if (parent && parent.id !== tag.parentId && (await this.isWithin(parent.id, tag.id))) {
        throw conflict(`tag ${tag.name} cannot be moved below ${parent.id === tag.id ? 'itself' : `its descendant ${parent.name}`}`);
      }
      return inTransaction(this.orm, async (em) => {
        const current = await em.findOneOrFail(Tag, { id });
        if (change.name !== undefined) current.name = change.name;
        if (change.description !== undefined) current.description = change.description;
        if (parent) current.parentId = parent.id;
        return current;
      });
    });
  }

  /** Removes a tag with the tags below it and every assignment of them (the database's cascades). */
  remove(id: string): Promise<void> {
    return this.tree.run('tree', async () => {
      const tag = await this.get(id);
      if (tag.id === rootTag.id) throw conflict('the root tag cannot be removed');
      await runStatement(this.orm, 'delete from tags where id = ?', [id]);
    });
  }

  /** The tags assigned to an object, by name. */
  async assigned(kind: TaggableKind, ownerId: string): Promise<Tag[]> {
    await this.requireOwner(kind, ownerId);
    await this.records.settled();
    const { table, owner } = assignments[kind];
    const rows = await selectRows<{ tag_id: string }>(this.orm, `select m.tag_id from ${table} m where m.${owner} = ?`, [ownerId]);
    if (rows.length === 0) return [];
    return (await reader(this.orm).find(Tag, { id: { $in: rows.map((row) => row.tag_id) } })).sort(byName);
  }

  /** One tag assigned to an object. */
  async assignedTag(kind: TaggableKind, ownerId: string, tagId: string): Promise<Tag> {
    const found = (await this.assigned(kind, ownerId)).find((tag) => tag.id === tagId);
    if (!found) throw notFound(`tag of ${kind}`, tagId);
    return found;
  }

  /** Assigns a tag (by id or name; a name no tag has is a 404) to an object; assigning it again changes nothing, as in oVirt. */
  async assign(kind: TaggableKind, ownerId: string, reference: Reference): Promise<Tag> {
    await this.requireOwner(kind, ownerId);
    const tag = await this.find(reference);
    if (tag.id === rootTag.id) throw invalid('the root tag cannot be assigned; assign a tag below it');
    await this.records.settled();
    const { table, owner } = assignments[kind];
    try {
      await runStatement(this.orm, `insert into ${table} (${owner}, tag_id) values (?, ?)`, [ownerId, tag.id]);
    } catch (error) {
      if (error instanceof ForeignKeyConstraintViolationException) {
        await this.requireOwner(kind, ownerId);
        throw notFound('tag', tag.id);
      }
      if (!(error instanceof UniqueConstraintViolationException)) throw error;
    }
    return tag;
  }

  /** Takes a tag off an object. */
  async unassign(kind: TaggableKind, ownerId: string, tagId: string): Promise<void> {
    await this.assignedTag(kind, ownerId, tagId);
    const { table, owner } = assignments[kind];
    await runStatement(this.orm, `delete from ${table} where ${owner} = ? and tag_id = ?`, [ownerId, tagId]);
  }

  private async requireOwner(kind: TaggableKind, ownerId: string): Promise<void> {
    const exists = {
      vm: () => this.records.vm(ownerId) !== undefined,
      host: () => this.records.host(ownerId) !== undefined,
      template: async () => (await reader(this.orm).count(Template, { id: ownerId })) > 0,
    } satisfies Record<TaggableKind, () => boolean | Promise<boolean>>;
    if (!(await exists[kind]())) throw notFound(kind, ownerId);
  }

  private async refuseTakenName(name: string): Promise<void> {
    if (await reader(this.orm).count(Tag, { name })) throw conflict(`a tag named ${name} exists already; tag names are unique`);
  }

  /** Whether `tagId` is `ancestorId` or below it. */
  private async isWithin(tagId: string, ancestorId: string): Promise<boolean> {
    const rows = await selectRows<{ found: number }>(this.orm, 'select 1 as found from tag_lineage where tag_id = ? and ancestor_id = ?', [tagId, ancestorId]);
    return rows.length > 0;
  }
}
