import type { ApiRouter } from '../routing.js';
import type { Services } from '../services.js';
import { cdromId } from '../../rules/cdrom.js';
import { respond, respondList, type ApiContext } from '../context.js';
import { documentOf, queryFlag } from '../input/request.js';
import { settled } from './tasks.js';
import { ifMatchDocument } from './steps.js';

const isCurrent = (ctx: ApiContext) => queryFlag(ctx, 'current') ?? false;

/** A VM's CD-ROM drive (`/vms/{id}/cdroms`) and the ISO files of storage domains (`/storagedomains/{id}/files`), in oVirt's shapes. */
export function cdromRoutes(router: ApiRouter, services: Services): void {
  const { cdroms, tasks } = services;
  const presentCdrom = async (ctx: ApiContext) => ctx.state.present.cdrom(await cdroms.get(ctx.params.id!, ctx.params.cdrom!, isCurrent(ctx)), ctx.params.cdrom!);

  router.get('/vms/:id/cdroms', async (ctx) => {
    const view = await cdroms.get(ctx.params.id!, cdromId, isCurrent(ctx));
    respondList(ctx, 'cdroms', 'cdrom', [ctx.state.present.cdrom(view, cdromId)]);
  });
  router.get('/vms/:id/cdroms/:cdrom', async (ctx) => {
    respond(ctx, 200, 'cdrom', await presentCdrom(ctx));
  });
  router.put(
    '/vms/:id/cdroms/:cdrom',
    ifMatchDocument('cdrom', async (ctx) => {
      const document = await presentCdrom(ctx);
      return () => document;
    }),
    async (ctx) => {
      const file = (await documentOf(ctx, 'cdrom')).nested('file', { required: true })!;
      const fileName = file.text('id', { required: true, max: 255 })!;
      const storageDomainId = file.nested('storage_domain')?.text('id', { required: true, max: 64 });
      const task = await cdroms.change(ctx.params.id!, ctx.params.cdrom!, { fileName, storageDomainId, current: isCurrent(ctx) }, ctx.state.correlationId);
      if (!(await settled(ctx, tasks, task))) return;
      respond(ctx, 200, 'cdrom', await presentCdrom(ctx));
    },
  );

  router.get('/storagedomains/:id/files', async (ctx) => {
    respondList(ctx, 'files', 'file', (await cdroms.isoFiles(ctx.params.id!)).map((view) => ctx.state.present.isoFile(view)));
  });
  router.get('/storagedomains/:id/files/:file', async (ctx) => {
    respond(ctx, 200, 'file', ctx.state.present.isoFile(await cdroms.isoFile(ctx.params.id!, ctx.params.file!)));
  });
}
