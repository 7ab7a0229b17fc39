import type { ApiRouter } from '../routing.js';
import type { HostService } from '../../services/hosts.js';
import type { VmService } from '../../services/vms.js';
import { respond } from '../context.js';

export function rootRoutes(router: ApiRouter, hosts: HostService, vms: VmService): void {
  router.get('/', async (ctx) => {
    const summary = async () => {
      const [allHosts, vmCounts] = await Promise.all([hosts.list(), vms.count()]);
      return { hosts: { active: allHosts.filter((host) => host.status === 'up').length, total: allHosts.length }, vms: vmCounts };
    };
    // The summary counts every host and VM, so only an unfiltered read (an administrator's) has it, as in oVirt.
    respond(ctx, 200, 'api', ctx.state.present.api(ctx.state.filtered ? undefined : await summary(), ctx.state.principal!.userId));
  });
}
