import type { ApiRouter } from '../routing.js';
import type { Services } from '../services.js';
import { ServiceError, invalid } from '../../rules/errors.js';
import { maxDiskBytes, minDiskBytes, type NewDisk } from '../../services/disks.js';
import type { StorageDomainView } from '../../services/storage-domains.js';
import { respond, respondList, type ApiContext } from '../context.js';
import { documentOf, optionalDocumentOf, queryFlag } from '../input/request.js';
import { nameHint, namePattern, type Fields } from '../input/fields.js';
import { answerWithTask } from './tasks.js';
import { followable, ifMatch, ifMatchDocument } from './steps.js';
import { visibleToOf } from './collections.js';
import { resources } from '../../query/catalog.js';

const pathPattern = /^\/(?!.*(?:^|\/)\.\.(?:\/|$))[^\0]{0,4095}$/;
const addressPattern = /^[A-Za-z0-9.:[\]-]{1,255}$/;

function storageDomainInput(fields: Fields, creating: boolean) {
  const type = fields.text('type');
  if (type !== undefined && type !== 'data') throw invalid(`storage_domain.type ${type} is not supported; Drover keeps data domains only`);
  const storage = fields.nested('storage', { required: creating });
  if (!creating && storage) throw invalid('the storage of a storage domain cannot change');
  return {
    name: fields.text('name', { required: creating, pattern: namePattern, patternHint: nameHint }),
    description: fields.text('description', { max: 4000 }),
    host: fields.reference('host'),
    storageType: storage?.oneOf('type', ['localfs', 'nfs', 'posixfs'] as const, { required: true }),
    address: storage?.text('address', { pattern: addressPattern, patternHint: 'must be a host name or an IP address' }),
    path: storage?.text('path', { required: true, pattern: pathPattern, patternHint: 'must be an absolute path without ".." (at most 4096 characters)' }),
  };
}

/** Reads a disk document (also the inline disk of an attachment); a size is bytes, `provisioned_size` in oVirt's words. */
export function diskInput(fields: Fields, creating: boolean) {
  const domains = fields.nested('storage_domains')?.items('storage_domain', { max: 1 }) ?? [];
  const storageDomain = domains[0] ? domainReference(domains[0]) : undefined;
  if (creating && !storageDomain) throw invalid(`${'disk.storage_domains.storage_domain'} is required: the storage domain to create the disk on`);
  const name = fields.text('alias', { pattern: namePattern, patternHint: nameHint }) ?? fields.text('name', { required: creating, pattern: namePattern, patternHint: nameHint });
  return {
    name,
    description: fields.text('description', { max: 4000 }),
    provisionedSize: fields.integer('provisioned_size', { required: creating, min: minDiskBytes, max: maxDiskBytes }),
    format: fields.oneOf('format', ['cow', 'raw'] as const),
    sparse: fields.boolean('sparse'),
    storageDomain,
  };
}

function domainReference(fields: Fields) {
  const id = fields.text('id', { max: 64 });
  const name = fields.text('name', { max: 255 });
  if (!id && !name) throw invalid('a storage domain reference needs an id or a name');
  return id ? { id } : { name };
}

/** A data center's storage domains are those attached to it: another domain is not found under it, as an unknown one is not. */
const notAttached = (ctx: ApiContext) => new ServiceError('not_found', 'Not Found', `storage domain ${ctx.params.id} is not attached to data center ${ctx.params.dc}`);

function present(ctx: ApiContext, services: Services, view: StorageDomainView, inDataCenter?: string) {
  return ctx.state.present.storageDomain(view, services.storageDomains.statusOf(view.domain), inDataCenter);
}

export function storageRoutes(router: ApiRouter, services: Services): void {
  const { storageDomains, disks, tasks } = services;

  router.post('/storagedomains', async (ctx) => {
    const input = storageDomainInput(await documentOf(ctx, 'storage_domain'), true);
    const view = await storageDomains.create({ ...input, name: input.name!, storageType: input.storageType!, path: input.path! });
    ctx.set('Location', ctx.state.present.href('storagedomains', view.domain.id));
    respond(ctx, 201, 'storage_domain', present(ctx, services, view));
  });
  router.get('/storagedomains/:id', followable(services, 'storage_domain'), async (ctx) => {
    respond(ctx, 200, 'storage_domain', present(ctx, services, await storageDomains.get(ctx.params.id!)));
  });
  router.put('/storagedomains/:id', ifMatch(services, 'storage_domain'), async (ctx) => {
    const input = storageDomainInput(await documentOf(ctx, 'storage_domain'), false);
    if (input.host) throw invalid('the host of a storage domain cannot change');
    respond(ctx, 200, 'storage_domain', present(ctx, services, await storageDomains.update(ctx.params.id!, input)));
  });
  router.delete('/storagedomains/:id', ifMatch(services, 'storage_domain'), async (ctx) => {
    await storageDomains.remove(ctx.params.id!);
    respond(ctx, 200, 'action', ctx.state.present.action(undefined, 'complete'));
  });
  for (const prefix of ['/storagedomains/:id', '/datacenters/:dc/storagedomains/:id']) {
    for (const action of ['activate', 'deactivate'] as const) {
      router.post(`${prefix}/${action}`, async (ctx) => {
        const body = await optionalDocumentOf(ctx, 'action');
        if (ctx.params.dc && (await storageDomains.get(ctx.params.id!)).domain.dataCenterId !== ctx.params.dc) throw notAttached(ctx);
        const task = await storageDomains.requestAction(ctx.params.id!, action, ctx.state.correlationId);
        await answerWithTask(ctx, tasks, task, queryFlag(ctx, 'async') ?? body.boolean('async') ?? false);
      });
    }
  }

  router.get('/datacenters/:dc/storagedomains', async (ctx) => {
    await services.dataCenters.get(ctx.params.dc!);
    const domains = await storageDomains.list({ dataCenterId: ctx.params.dc! });
    const visibleTo = visibleToOf(ctx);
    const seen = visibleTo === undefined ? undefined : new Set((await services.queries.list(resources.storage_domain, { filters: new Map(), caseSensitive: false, visibleTo })).ids);
    respondList(ctx, 'storage_domains', 'storage_domain', domains.filter((view) => !seen || seen.has(view.domain.id)).map((view) => present(ctx, services, view, ctx.params.dc)));
  });
  router.post('/datacenters/:dc/storagedomains', async (ctx) => {
    const fields = await documentOf(ctx, 'storage_domain');
    const id = fields.text('id', { max: 64 });
    const name = fields.text('name', { max: 255 });
    if (!id && !name) throw invalid('storage_domain needs the id or the name of the storage domain to attach');
    const { domain, task } = await storageDomains.attach(ctx.params.dc!, id ? { id } : { name }, ctx.state.correlationId);
    const ended = await tasks.waitForEnd(task.id, 60_000);
    const view = await storageDomains.get(domain.id);
    ctx.set('Location', ctx.state.present.href('datacenters', ctx.params.dc!, 'storagedomains', domain.id));
    respond(ctx, ended?.state === 'failed' ? 200 : 201, 'storage_domain', present(ctx, services, view, ctx.params.dc));
  });
  const attached = async (ctx: ApiContext) => {
    const view = await storageDomains.get(ctx.params.id!);
    if (view.domain.dataCenterId !== ctx.params.dc) throw notAttached(ctx);
    return view;
  };
  const ifMatchAttached = ifMatchDocument('storage_domain', async (ctx) => {
    const view = await attached(ctx);
    return (allContent) => ctx.state.present.storageDomain(view, storageDomains.statusOf(view.domain), ctx.params.dc, allContent);
  });
  router.get('/datacenters/:dc/storagedomains/:id', async (ctx) => {
    respond(ctx, 200, 'storage_domain', present(ctx, services, await attached(ctx), ctx.params.dc));
  });
  router.delete('/datacenters/:dc/storagedomains/:id', ifMatchAttached, async (ctx) => {
    await storageDomains.detach(ctx.params.dc!, ctx.params.id!);
    respond(ctx, 200, 'action', ctx.state.present.action(undefined, 'complete'));
  });

  router.post('/disks', async (ctx) => {
    const input = diskInput(await documentOf(ctx, 'disk'), true);
    const { view } = await disks.create({ ...input, name: input.name!, provisionedSize: input.provisionedSize!, storageDomain: input.storageDomain! } as NewDisk, ctx.state.correlationId);
    ctx.set('Location', ctx.state.present.href('disks', view.disk.id));
    respond(ctx, 201, 'disk', ctx.state.present.disk(view));
  });
  router.get('/disks/:id', followable(services, 'disk'), async (ctx) => {
    respond(ctx, 200, 'disk', ctx.state.present.disk(await disks.get(ctx.params.id!)));
  });
  router.put('/disks/:id', ifMatch(services, 'disk'), async (ctx) => {
    const input = diskInput(await documentOf(ctx, 'disk'), false);
    if (input.format || input.sparse !== undefined || input.storageDomain) throw invalid('the format, sparseness and storage domain of a disk cannot change');
    respond(ctx, 200, 'disk', ctx.state.present.disk(await disks.update(ctx.params.id!, input)));
  });
  router.delete('/disks/:id', ifMatch(services, 'disk'), async (ctx) => {
    const task = await disks.remove(ctx.params.id!, ctx.state.correlationId);
    await answerWithTask(ctx, tasks, task, queryFlag(ctx, 'async') ?? false);
  });
}
