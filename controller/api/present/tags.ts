import type { Tag } from '../../db/entities.js';
import type { TaggableKind } from '../../rules/tags.js';
import type { Presenter } from './entities.js';
import { ref, type Rep } from './representation.js';

/** The collection of each kind of object tags are assigned to. */
export const taggedCollections: Record<TaggableKind, string> = { vm: 'vms', host: 'hosts', template: 'templates' };

/** The object whose assigned tags a tag is read as (`/vms/{id}/tags/{tag}`). */
export interface TagOwner {
  kind: TaggableKind;
  id: string;
}

/**
 * A tag as oVirt presents one: its parent as a link (none for the root), and,
 * read among an object's assigned tags, at its URL there with a link back to
 * the object. An empty description is left out, as oVirt leaves unset values out.
 */
export function tagRep(present: Presenter, tag: Tag, owner?: TagOwner): Rep {
  const href = owner ? present.href(taggedCollections[owner.kind], owner.id, 'tags', tag.id) : present.href('tags', tag.id);
  const rep: Rep = {
    $: { href, id: tag.id },
    name: tag.name,
    description: tag.description ? tag.description : undefined,
    parent: tag.parentId ? ref(present.href('tags', tag.parentId), tag.parentId) : undefined,
  };
  if (owner) rep[owner.kind] = ref(present.href(taggedCollections[owner.kind], owner.id), owner.id);
  return rep;
}
