import type { ApiRouter } from '../routing.js';
import type { Services } from '../services.js';
import { invalid } from '../../rules/errors.js';
import type { NewDisk } from '../../services/disks.js';
import type { DeviceOwner } from '../../services/vm-device-requests.js';
import { respond, type ApiContext } from '../context.js';
import { documentOf } from '../input/request.js';
import { nameHint, namePattern, type Fields } from '../input/fields.js';
import { diskInput } from './storage.js';
import { settled } from './tasks.js';
import { ifMatch } from './steps.js';

const diskInterfaces = ['virtio', 'virtio_scsi', 'sata', 'ide'] as const;
const nicInterfaces = ['virtio', 'e1000', 'rtl8139'] as const;

function attachmentInput(fields: Fields) {
  return {
    diskInterface: fields.oneOf('interface', diskInterfaces),
    bootable: fields.boolean('bootable'),
    active: fields.boolean('active'),
    readOnly: fields.boolean('read_only'),
  };
}

function nicInput(fields: Fields, creating: boolean) {
  const profile = fields.nested('vnic_profile');
  const profileId = profile?.text('id', { max: 64 });
  const profileName = profile?.text('name', { max: 255 });
  return {
    fields: {
      name: fields.text('name', { required: creating, pattern: namePattern, patternHint: nameHint }),
      nicInterface: fields.oneOf('interface', nicInterfaces),
      linked: fields.boolean('linked'),
      plugged: fields.boolean('plugged'),
      vnicProfile: profile === undefined ? undefined : profileId ? { id: profileId } : profileName ? { name: profileName } : null,
    },
    mac: fields.nested('mac')?.text('address', { max: 17 }),
  };
}

const without = <T extends object>(value: T): Partial<T> => Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined)) as Partial<T>;

function deviceRoutes(router: ApiRouter, services: Services, collection: 'vms' | 'templates'): void {
  const { vmDevices } = services;
  const owner = (ctx: ApiContext): DeviceOwner => (collection === 'vms' ? { vmId: ctx.params.id! } : { templateId: ctx.params.id! });
  router.get(`/${collection}/:id/diskattachments/:disk`, async (ctx) => {
    respond(ctx, 200, 'disk_attachment', ctx.state.present.diskAttachment(await vmDevices.attachment(owner(ctx), ctx.params.disk!)));
  });
  router.get(`/${collection}/:id/nics/:nic`, async (ctx) => {
    respond(ctx, 200, 'nic', ctx.state.present.nic(await vmDevices.nic(owner(ctx), ctx.params.nic!)));
  });
}

export function vmDeviceRoutes(router: ApiRouter, services: Services): void {
  const { vmDevices, tasks } = services;
  deviceRoutes(router, services, 'vms');
  deviceRoutes(router, services, 'templates');

  router.post('/vms/:id/diskattachments', async (ctx) => {
    const fields = await documentOf(ctx, 'disk_attachment');
    const attachment = attachmentInput(fields);
    const diskFields = fields.nested('disk', { required: true })!;
    const diskId = diskFields.text('id', { max: 64 });
    const request = {
      fields: { diskInterface: attachment.diskInterface ?? 'virtio', bootable: attachment.bootable ?? false, active: attachment.active ?? true, readOnly: attachment.readOnly ?? false },
      ...(diskId ? { disk: { id: diskId } } : {}),
    };
    let result;
    if (diskId) {
      result = await vmDevices.attachDisk(ctx.params.id!, request, ctx.state.correlationId);
    } else if (diskFields.text('provisioned_size') !== undefined) {
      const input = diskInput(diskFields, true);
      result = await vmDevices.attachDisk(ctx.params.id!, { ...request, newDisk: input as NewDisk }, ctx.state.correlationId);
    } else {
      const name = diskFields.text('name', { max: 255 }) ?? diskFields.text('alias', { max: 255 });
      if (!name) throw invalid('disk_attachment.disk needs the id of a disk to attach, or a provisioned_size and a storage domain to create one');
      result = await vmDevices.attachDisk(ctx.params.id!, { ...request, disk: { name } }, ctx.state.correlationId);
    }
    if (!(await settled(ctx, tasks, result.task))) return;
    ctx.set('Location', ctx.state.present.href('vms', ctx.params.id!, 'diskattachments', result.diskId));
    respond(ctx, 201, 'disk_attachment', ctx.state.present.diskAttachment(await vmDevices.attachment({ vmId: ctx.params.id! }, result.diskId)));
  });
  router.put('/vms/:id/diskattachments/:disk', ifMatch(services, 'disk_attachment', 'disk'), async (ctx) => {
    const fields = await documentOf(ctx, 'disk_attachment');
    const task = await vmDevices.updateAttachment(ctx.params.id!, ctx.params.disk!, without(attachmentInput(fields)), ctx.state.correlationId);
    if (!(await settled(ctx, tasks, task))) return;
    respond(ctx, 200, 'disk_attachment', ctx.state.present.diskAttachment(await vmDevices.attachment({ vmId: ctx.params.id! }, ctx.params.disk!)));
  });
  router.delete('/vms/:id/diskattachments/:disk', ifMatch(services, 'disk_attachment', 'disk'), async (ctx) => {
    const task = await vmDevices.detachDisk(ctx.params.id!, ctx.params.disk!, ctx.state.correlationId);
    if (!(await settled(ctx, tasks, task))) return;
    respond(ctx, 200, 'action', ctx.state.present.action(task, 'complete'));
  });

  router.post('/vms/:id/nics', async (ctx) => {
    const input = nicInput(await documentOf(ctx, 'nic'), true);
    const { name, nicInterface, linked, plugged, vnicProfile } = input.fields;
    const { task, nicId } = await vmDevices.addNic(
      ctx.params.id!,
      { fields: { name: name!, nicInterface: nicInterface ?? 'virtio', linked: linked ?? true, plugged: plugged ?? true, vnicProfile }, mac: input.mac },
      ctx.state.correlationId,
    );
    if (!(await settled(ctx, tasks, task))) return;
    ctx.set('Location', ctx.state.present.href('vms', ctx.params.id!, 'nics', nicId));
    respond(ctx, 201, 'nic', ctx.state.present.nic(await vmDevices.nic({ vmId: ctx.params.id! }, nicId)));
  });
  router.put('/vms/:id/nics/:nic', ifMatch(services, 'nic', 'nic'), async (ctx) => {
    const input = nicInput(await documentOf(ctx, 'nic'), false);
    const task = await vmDevices.updateNic(ctx.params.id!, ctx.params.nic!, { fields: without(input.fields), mac: input.mac }, ctx.state.correlationId);
    if (!(await settled(ctx, tasks, task))) return;
    respond(ctx, 200, 'nic', ctx.state.present.nic(await vmDevices.nic({ vmId: ctx.params.id! }, ctx.params.nic!)));
  });
  router.delete('/vms/:id/nics/:nic', ifMatch(services, 'nic', 'nic'), async (ctx) => {
    const task = await vmDevices.removeNic(ctx.params.id!, ctx.params.nic!, ctx.state.correlationId);
    if (!(await settled(ctx, tasks, task))) return;
    respond(ctx, 200, 'action', ctx.state.present.action(task, 'complete'));
  });
}
