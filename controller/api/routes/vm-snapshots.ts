import type { ApiRouter } from '../routing.js';
import type { Services } from '../services.js';
import { notFound } from '../../rules/errors.js';
import { respond, respondList } from '../context.js';
import { activeSnapshotId } from '../present/snapshots.js';

/**
 * What oVirt shows of a VM's snapshots, which Drover does not take: the
 * active snapshot (`/vms/{id}/snapshots`), the one every VM has. Only reads:
 * creating a snapshot is a 405 fault, as every method a URL does not take.
 */
export function vmSnapshotRoutes(router: ApiRouter, services: Services): void {
  const { vms } = services;
  router.get('/vms/:id/snapshots', (ctx) => {
    const { vm } = vms.get(ctx.params.id!);
    respondList(ctx, 'snapshots', 'snapshot', [ctx.state.present.activeSnapshot(vm)]);
  });
  router.get('/vms/:id/snapshots/:snapshot', (ctx) => {
    const { vm } = vms.get(ctx.params.id!);
    if (ctx.params.snapshot !== activeSnapshotId(vm.id)) throw notFound('snapshot', ctx.params.snapshot!);
    respond(ctx, 200, 'snapshot', ctx.state.present.activeSnapshot(vm));
  });
}
