import type { ApiRouter } from '../routing.js';
import type { Services } from '../services.js';
import { respond } from '../context.js';
import { documentOf } from '../input/request.js';
import { nameHint, namePattern, type Fields } from '../input/fields.js';
import { followable, ifMatch } from './steps.js';

function networkInput(fields: Fields, creating: boolean) {
  const vlan = fields.nested('vlan');
  return {
    name: fields.text('name', { required: creating, pattern: namePattern, patternHint: nameHint }),
    description: fields.text('description', { max: 4000 }),
    dataCenter: fields.reference('data_center', { required: creating }),
    vlanId: vlan ? (vlan.integer('id', { min: 0, max: 4094 }) ?? null) : undefined,
    mtu: fields.integer('mtu', { min: 0, max: 65_535 }),
  };
}

function profileInput(fields: Fields, creating: boolean) {
  return {
    name: fields.text('name', { required: creating, pattern: namePattern, patternHint: nameHint }),
    description: fields.text('description', { max: 4000 }),
    network: fields.reference('network', { required: creating }),
    portMirroring: fields.boolean('port_mirroring'),
  };
}

function macPoolInput(fields: Fields, creating: boolean) {
  const ranges = fields.nested('ranges', { required: creating })?.items('range', { max: 64 });
  return {
    name: fields.text('name', { required: creating, pattern: namePattern, patternHint: nameHint }),
    description: fields.text('description', { max: 4000 }),
    allowDuplicates: fields.boolean('allow_duplicates'),
    ranges: ranges?.map((range) => ({ from: range.text('from', { required: true, max: 17 })!, to: range.text('to', { required: true, max: 17 })! })),
  };
}

export function networkRoutes(router: ApiRouter, services: Services): void {
  const { networks, macPools } = services;

  router.post('/networks', async (ctx) => {
    const input = networkInput(await documentOf(ctx, 'network'), true);
    const network = await networks.create({ ...input, name: input.name!, dataCenter: input.dataCenter! });
    ctx.set('Location', ctx.state.present.href('networks', network.id));
    respond(ctx, 201, 'network', ctx.state.present.network(network));
  });
  router.get('/networks/:id', followable(services, 'network'), async (ctx) => {
    respond(ctx, 200, 'network', ctx.state.present.network(await networks.get(ctx.params.id!)));
  });
  router.put('/networks/:id', ifMatch(services, 'network'), async (ctx) => {
    const input = networkInput(await documentOf(ctx, 'network'), false);
    respond(ctx, 200, 'network', ctx.state.present.network(await networks.update(ctx.params.id!, input)));
  });
  router.delete('/networks/:id', ifMatch(services, 'network'), async (ctx) => {
    await networks.remove(ctx.params.id!);
    respond(ctx, 200, 'action', ctx.state.present.action(undefined, 'complete'));
  });
  router.post('/networks/:id/vnicprofiles', async (ctx) => {
    const input = profileInput(await documentOf(ctx, 'vnic_profile'), false);
    const profile = await networks.createProfile({ ...input, name: input.name ?? '', network: { id: ctx.params.id! } });
    ctx.set('Location', ctx.state.present.href('vnicprofiles', profile.id));
    respond(ctx, 201, 'vnic_profile', ctx.state.present.vnicProfile(profile));
  });

  router.post('/vnicprofiles', async (ctx) => {
    const input = profileInput(await documentOf(ctx, 'vnic_profile'), true);
    const profile = await networks.createProfile({ ...input, name: input.name!, network: input.network! });
    ctx.set('Location', ctx.state.present.href('vnicprofiles', profile.id));
    respond(ctx, 201, 'vnic_profile', ctx.state.present.vnicProfile(profile));
  });
  router.get('/vnicprofiles/:id', followable(services, 'vnic_profile'), async (ctx) => {
    respond(ctx, 200, 'vnic_profile', ctx.state.present.vnicProfile(await networks.getProfile(ctx.params.id!)));
  });
  router.put('/vnicprofiles/:id', ifMatch(services, 'vnic_profile'), async (ctx) => {
    const input = profileInput(await documentOf(ctx, 'vnic_profile'), false);
    respond(ctx, 200, 'vnic_profile', ctx.state.present.vnicProfile(await networks.updateProfile(ctx.params.id!, input)));
  });
  router.delete('/vnicprofiles/:id', ifMatch(services, 'vnic_profile'), async (ctx) => {
    await networks.removeProfile(ctx.params.id!);
    respond(ctx, 200, 'action', ctx.state.present.action(undefined, 'complete'));
  });

  router.post('/macpools', async (ctx) => {
    const input = macPoolInput(await documentOf(ctx, 'mac_pool'), true);
    const pool = await macPools.create({ ...input, name: input.name!, ranges: input.ranges! });
    ctx.set('Location', ctx.state.present.href('macpools', pool.id));
    respond(ctx, 201, 'mac_pool', ctx.state.present.macPool(pool));
  });
  router.get('/macpools/:id', followable(services, 'mac_pool'), async (ctx) => {
    respond(ctx, 200, 'mac_pool', ctx.state.present.macPool(await macPools.get(ctx.params.id!)));
  });
  router.put('/macpools/:id', ifMatch(services, 'mac_pool'), async (ctx) => {
    const input = macPoolInput(await documentOf(ctx, 'mac_pool'), false);
    respond(ctx, 200, 'mac_pool', ctx.state.present.macPool(await macPools.update(ctx.params.id!, input)));
  });
  router.delete('/macpools/:id', ifMatch(services, 'mac_pool'), async (ctx) => {
    await macPools.remove(ctx.params.id!);
    respond(ctx, 200, 'action', ctx.state.present.action(undefined, 'complete'));
  });
}
