import type { ApiRouter } from '../routing.js';
import type { Services } from '../services.js';
import { invalid } from '../../rules/errors.js';
import { defaultTicketSeconds, maxTicketSeconds } from '../../rules/consoles.js';
import { respond, respondList, type ApiContext } from '../context.js';
import { optionalDocumentOf, queryFlag, queryValue } from '../input/request.js';

function current(ctx: ApiContext): boolean {
  if (queryValue(ctx, 'populate_remote_viewer_connection_file') !== undefined) {
    throw invalid('populate_remote_viewer_connection_file is not supported; POST to the console\'s remoteviewerconnectionfile action for a connection file');
  }
  return queryFlag(ctx, 'current') ?? false;
}

async function ticketSeconds(ctx: ApiContext): Promise<number> {
  const ticket = (await optionalDocumentOf(ctx, 'action')).nested('ticket');
  if (ticket?.text('value') !== undefined) throw invalid('action.ticket.value cannot be given: Drover makes every ticket\'s password itself');
  return ticket?.integer('expiry', { min: 1, max: maxTicketSeconds }) ?? defaultTicketSeconds;
}

export function consoleRoutes(router: ApiRouter, services: Services): void {
  const { consoles } = services;
  router.get('/vms/:id/graphicsconsoles', async (ctx) => {
    const list = await consoles.list(ctx.params.id!, current(ctx));
    respondList(ctx, 'graphics_consoles', 'graphics_console', list.map((console) => ctx.state.present.graphicsConsole(console)));
  });
  router.get('/vms/:id/graphicsconsoles/:console', async (ctx) => {
    respond(ctx, 200, 'graphics_console', ctx.state.present.graphicsConsole(await consoles.get(ctx.params.id!, ctx.params.console!, current(ctx))));
  });
  router.post('/vms/:id/graphicsconsoles/:console/ticket', async (ctx) => {
    const ticket = await consoles.ticket(ctx.params.id!, ctx.params.console!, await ticketSeconds(ctx));
    respond(ctx, 200, 'action', { status: 'complete', ticket: { value: ticket.password, expiry: ticket.validSeconds } });
  });
  router.post('/vms/:id/graphicsconsoles/:console/remoteviewerconnectionfile', async (ctx) => {
    await optionalDocumentOf(ctx, 'action');
    const file = await consoles.remoteViewerFile(ctx.params.id!, ctx.params.console!);
    respond(ctx, 200, 'action', { status: 'complete', remote_viewer_connection_file: file });
  });
}
