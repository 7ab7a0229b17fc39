import type { ApiRouter } from '../routing.js';
import type { HostService } from '../../services/hosts.js';
import type { VmService } from '../../services/vms.js';
import { respond } from '../context.js';

export function rootRoutes(router: ApiRouter, hosts: HostService, vms: VmService): void {
  router.get('/', async (ctx) => {
    const [allHosts, vmCounts] = await Promise.all([hosts.list(), vms.count()]);
    const summary = {
      hosts: { active: allHosts.filter((host) => host.status === 'up').length, total: allHosts.length },
      vms: vmCounts,
    };
    respond(ctx, 200, 'api', ctx.state.present.api(summary));
  });
}
