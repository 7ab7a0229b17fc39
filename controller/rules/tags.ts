/**
 * oVirt's tags: a tree whose root is oVirt's `root` tag (its id all zeros),
 * which is always there and cannot be changed, removed or assigned. Tags are
 * assigned to the kinds of object below.
 */
export const rootTag = { id: '00000000-0000-0000-0000-000000000000', name: 'root', description: 'root' } as const;

/** The kinds of object a tag can be assigned to. */
export const taggableKinds = ['vm', 'host', 'template'] as const;
export type TaggableKind = (typeof taggableKinds)[number];
