import type { ApiRouter } from '../routing.js';
import type { Services } from '../services.js';
import { notFound } from '../../rules/errors.js';
import { respond, respondList } from '../context.js';
import { activeSnapshotId } from '../present/snapshots.js';

/**
 * What oVirt shows of a VM's snapshots and virtual NUMA nodes, which Drover
 * does not have: the active snapshot (`/vms/{id}/snapshots`), the one every
 * VM has, and no NUMA nodes (`/vms/{id}/numanodes`). Only reads: creating a
 * snapshot or a NUMA node is a 405 fault, as every method a URL does not take.
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
  router.get('/vms/:id/numanodes', (ctx) => {
    vms.get(ctx.params.id!);
    respondList(ctx, 'vm_numa_nodes', 'vm_numa_node', []);
  });
}
