import type { ApiRouter } from '../routing.js';
import type { Services } from '../services.js';
import type { Tag } from '../../db/entities.js';
import { invalid } from '../../rules/errors.js';
import { taggableKinds } from '../../rules/tags.js';
import type { TagChange } from '../../services/tags.js';
import { respond, respondList, type ApiContext } from '../context.js';
import { documentOf, querySingle } from '../input/request.js';
import { nameHint, namePattern, type Fields } from '../input/fields.js';
import { taggedCollections, tagRep } from '../present/tags.js';
import { ifMatchDocument } from './steps.js';
import { searched } from './access.js';

const tagFields = ['name', 'description'];

/** A tag document's changes: name, description, and the parent by id or name (`<parent id="…"/>`, `<parent><name>…</name></parent>`). */
function tagChange(fields: Fields, options: { nameRequired: boolean }): TagChange {
  return {
    name: fields.text('name', { required: options.nameRequired, pattern: namePattern, patternHint: nameHint }),
    description: fields.text('description', { max: 4000 }),
    parent: fields.reference('parent'),
  };
}

/** The `max` of a list (-1 or none for all). */
function firstOf<T>(ctx: ApiContext, items: T[]): T[] {
  const text = querySingle(ctx, 'max');
  if (text === undefined) return items;
  if (!/^-?\d+$/.test(text) || Number(text) < -1) throw invalid(`query parameter max must be a whole number, -1 for no limit, not "${text}"`);
  return Number(text) === -1 ? items : items.slice(0, Number(text));
}

/**
 * Registers oVirt's tags (`/tags`, `/tags/{id}`) and the tags assigned to VMs
 * hosts and templates (`/vms/{id}/tags`, `/hosts/{id}/tags`, `/templates/{id}/tags`, each with `/{tag}`).
 */
export function tagRoutes(router: ApiRouter, services: Services): void {
  const { tags } = services;
  const tagsRep = (ctx: ApiContext, list: Tag[]) => list.map((tag) => tagRep(ctx.state.present, tag));

  router.get('/tags', async (ctx) => {
    const listed = searched(ctx, await tags.list(), tagFields, (tag) => [{ name: tag.name, description: tag.description }]);
    respondList(ctx, 'tags', 'tag', tagsRep(ctx, firstOf(ctx, listed)));
  });
  router.get('/tags/:id', async (ctx) => {
    respond(ctx, 200, 'tag', tagRep(ctx.state.present, await tags.get(ctx.params.id!)));
  });
  router.post('/tags', async (ctx) => {
    const change = tagChange(await documentOf(ctx, 'tag'), { nameRequired: true });
    const tag = await tags.add({ ...change, name: change.name! });
    ctx.set('Location', ctx.state.present.href('tags', tag.id));
    respond(ctx, 201, 'tag', tagRep(ctx.state.present, tag));
  });
  const currentTag = ifMatchDocument('tag', async (ctx) => {
    const tag = await tags.get(ctx.params.id!);
    return () => tagRep(ctx.state.present, tag);
  });
  router.put('/tags/:id', currentTag, async (ctx) => {
    const change = tagChange(await documentOf(ctx, 'tag'), { nameRequired: false });
    respond(ctx, 200, 'tag', tagRep(ctx.state.present, await tags.update(ctx.params.id!, change)));
  });
  router.delete('/tags/:id', currentTag, async (ctx) => {
    await tags.remove(ctx.params.id!);
    respond(ctx, 200, 'action', ctx.state.present.action(undefined, 'complete'));
  });

  for (const kind of taggableKinds) {
    const base = `/${taggedCollections[kind]}/:id/tags`;
    const ownerOf = (ctx: ApiContext) => ({ kind, id: ctx.params.id! });
    router.get(base, async (ctx) => {
      const assigned = await tags.assigned(kind, ctx.params.id!);
      respondList(ctx, 'tags', 'tag', firstOf(ctx, assigned).map((tag) => tagRep(ctx.state.present, tag, ownerOf(ctx))));
    });
    router.get(`${base}/:tag`, async (ctx) => {
      respond(ctx, 200, 'tag', tagRep(ctx.state.present, await tags.assignedTag(kind, ctx.params.id!, ctx.params.tag!), ownerOf(ctx)));
    });
    router.post(base, async (ctx) => {
      const fields = await documentOf(ctx, 'tag');
      const id = fields.text('id', { max: 64 });
      const name = fields.text('name', { max: 255 });
      if (!id && !name) throw invalid('tag needs an id or a name: <tag id="…"/> or <tag><name>…</name></tag>');
      const tag = await tags.assign(kind, ctx.params.id!, id ? { id } : { name });
      const rep = tagRep(ctx.state.present, tag, ownerOf(ctx));
      ctx.set('Location', (rep.$ as Record<string, string>).href!);
      respond(ctx, 201, 'tag', rep);
    });
    const currentAssigned = ifMatchDocument('tag', async (ctx) => {
      const tag = await tags.assignedTag(kind, ctx.params.id!, ctx.params.tag!);
      return () => tagRep(ctx.state.present, tag, ownerOf(ctx));
    });
    router.delete(`${base}/:tag`, currentAssigned, async (ctx) => {
      await tags.unassign(kind, ctx.params.id!, ctx.params.tag!);
      respond(ctx, 200, 'action', ctx.state.present.action(undefined, 'complete'));
    });
  }
}
