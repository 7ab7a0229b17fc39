import type { ApiRouter } from '../routing.js';
import type { Services } from '../services.js';
import { invalid } from '../../rules/errors.js';
import { apiVmActions, vmActions } from '../../rules/vm-actions.js';
import { respond, respondEntity, respondList, type ApiContext } from '../context.js';
import { documentOf, optionalDocumentOf, queryFlag } from '../input/request.js';
import { nameHint, namePattern, type Fields } from '../input/fields.js';
import { checkBootDevices } from '../../rules/cdrom.js';
import { migrateActionFields, startActionFields, vmFields } from '../input/vm-fields.js';
import { initializationInput } from '../input/initialization.js';
import { cpuModelPattern, machinePattern } from '../../rules/guest-hardware.js';
import type { StartVmParams } from '../../rules/initialization.js';
import { biosTypes, bootDevices, cpuModes } from '../../../shared/model.js';
import { migrationAffinities } from '../../rules/states.js';
import { answerWithTask } from './tasks.js';
import { followable, ifMatch } from './steps.js';

const mebibyte = 1024 * 1024;
const maxMemoryBytes = 16 * 1024 * 1024 * mebibyte;

/** The settings VMs and templates share: description, memory, CPU topology, OS type and display. */
export function vmSettingsInput(fields: Fields) {
  const topology = fields.nested('cpu')?.nested('topology');
  const count = (name: string) => topology?.integer(name, { min: 1, max: 256 });
  const cpu = topology ? { sockets: count('sockets'), cores: count('cores'), threads: count('threads') } : undefined;
  if (cpu && (cpu.sockets ?? 1) * (cpu.cores ?? 1) * (cpu.threads ?? 1) > 512) throw invalid(`${fields.where}.cpu.topology allows at most 512 virtual CPUs in all`);
  return {
    description: fields.text('description', { max: 4000 }),
    memoryBytes: fields.integer('memory', { min: 16 * mebibyte, max: maxMemoryBytes, multipleOf: mebibyte }),
    cpu,
    osType: fields.nested('os')?.text('type', { max: 64, pattern: /^[A-Za-z0-9_]+$/, patternHint: 'must be an oVirt operating system name such as other or rhel_9x64' }),
    displayType: fields.nested('display')?.oneOf('type', ['vnc', 'spice'] as const),
    ...hardwareInput(fields),
  };
}

/** A text field that an empty value clears (null). */
function clearable(fields: Fields, name: string, pattern: RegExp, hint: string): string | null | undefined {
  const value = fields.text(name);
  if (value === undefined || value === '') return value === '' ? null : undefined;
  if (!pattern.test(value)) throw invalid(`${fields.where}.${name} ${hint}, not "${value}"`);
  return value;
}

/** CPU mode and model, machine type and firmware; oVirt's cluster_default (or an empty value) leaves a setting to the host. */
function hardwareInput(fields: Fields) {
  const biosType = fields.nested('bios')?.oneOf('type', [...biosTypes, 'cluster_default'] as const);
  return {
    cpuMode: fields.nested('cpu')?.oneOf('mode', cpuModes),
    customCpuModel: clearable(fields, 'custom_cpu_model', cpuModelPattern, 'must be a QEMU CPU model name such as Nehalem'),
    customEmulatedMachine: clearable(fields, 'custom_emulated_machine', machinePattern, 'must be q35, pc, i440fx or a versioned pc-q35-… or pc-i440fx-… machine'),
    biosType: biosType === 'cluster_default' ? null : biosType,
  };
}

/** What a start action asks about cloud-init: `use_cloud_init`, and `vm.initialization` for this start only. */
function startInput(body: Fields): StartVmParams {
  const initialization = initializationInput(body.nested('vm')?.nested('initialization'));
  return {
    useCloudInit: body.boolean('use_cloud_init'),
    initialization: initialization ? { ...initialization, rootPassword: initialization.rootPassword ?? '' } : undefined,
  };
}

/** oVirt's boot order, `os.boot.devices.device` repeated: hd, cdrom, network, each at most once. */
function bootInput(fields: Fields) {
  const devices = fields.nested('os')?.nested('boot')?.nested('devices');
  return devices ? checkBootDevices(devices.oneOfEach('device', bootDevices, { max: bootDevices.length }), `${devices.where}.device`) : undefined;
}

function vmInput(fields: Fields, creating: boolean) {
  return {
    ...vmSettingsInput(fields),
    bootDevices: bootInput(fields),
    name: fields.text('name', { required: creating, pattern: namePattern, patternHint: nameHint }),
    cluster: fields.reference('cluster', { required: creating }),
    initialization: initializationInput(fields.nested('initialization')),
    ...availabilityInput(fields),
  };
}

/** oVirt's high_availability (enabled, priority 0 to 100) and placement_policy.affinity. */
function availabilityInput(fields: Fields) {
  const availability = fields.nested('high_availability');
  return {
    highlyAvailable: availability?.boolean('enabled'),
    highAvailabilityPriority: availability?.integer('priority', { min: 0, max: 100 }),
    migrationAffinity: fields.nested('placement_policy')?.oneOf('affinity', migrationAffinities),
  };
}

function isAsync(ctx: ApiContext, body: Fields): boolean {
  return queryFlag(ctx, 'async') ?? body.boolean('async') ?? false;
}

export function vmRoutes(router: ApiRouter, services: Services): void {
  const { vms, tasks } = services;
  router.post('/vms', async (ctx) => {
    const fields = await documentOf(ctx, 'vm', vmFields);
    const input = vmInput(fields, true);
    const template = fields.reference('template');
    const view = await vms.create({ ...input, name: input.name!, cluster: input.cluster!, template, clone: queryFlag(ctx, 'clone') ?? false }, ctx.state.correlationId);
    ctx.set('Location', ctx.state.present.href('vms', view.vm.id));
    respond(ctx, 201, 'vm', ctx.state.present.vm(view));
  });
  router.get('/vms/:id', followable(services, 'vm'), async (ctx) => {
    const view = vms.get(ctx.params.id!);
    respondEntity(ctx, 'vm', view.vm.id, `${view.revision}:${view.status}`, () => ctx.state.present.vm(view));
  });
  router.put('/vms/:id', ifMatch(services, 'vm'), async (ctx) => {
    const input = vmInput(await documentOf(ctx, 'vm', vmFields), false);
    respond(ctx, 200, 'vm', ctx.state.present.vm(await vms.update(ctx.params.id!, input)));
  });
  router.delete('/vms/:id', ifMatch(services, 'vm'), async (ctx) => {
    const task = await vms.requestAction(ctx.params.id!, 'remove', ctx.state.correlationId, { detachOnly: queryFlag(ctx, 'detach_only') ?? false });
    await answerWithTask(ctx, tasks, task, queryFlag(ctx, 'async') ?? false);
  });
  router.post('/vms/:id/tasks', async (ctx) => {
    const action = (await documentOf(ctx, 'task')).oneOf('action', vmActions, { required: true })!;
    const task = await vms.requestAction(ctx.params.id!, action, ctx.state.correlationId);
    ctx.set('Location', ctx.state.present.href('tasks', task.id));
    respond(ctx, 201, 'task', ctx.state.present.task(task));
  });
  router.post('/vms/:id/migrate', async (ctx) => {
    const body = await optionalDocumentOf(ctx, 'action', migrateActionFields);
    const host = body.nested('host');
    const cluster = body.reference('cluster');
    if (cluster && cluster !== services.vms.get(ctx.params.id!).vm.clusterId) throw invalid('action.cluster: Drover migrates a VM within its cluster only');
    const task = await services.migrations.migrate(ctx.params.id!, { hostId: host?.text('id'), hostName: host?.text('name'), force: body.boolean('force') }, ctx.state.correlationId);
    await answerWithTask(ctx, tasks, task, isAsync(ctx, body));
  });
  router.post('/vms/:id/cancelmigration', async (ctx) => {
    await optionalDocumentOf(ctx, 'action');
    await services.migrations.cancel(ctx.params.id!);
    respond(ctx, 200, 'action', ctx.state.present.action(undefined, 'complete'));
  });
  router.get('/vms/:id/numanodes', async (ctx) => {
    vms.get(ctx.params.id!);
    respondList(ctx, 'vm_numa_nodes', 'vm_numa_node', []);
  });
  router.get('/vms/:id/statistics', async (ctx) => {
    const view = vms.get(ctx.params.id!);
    respond(ctx, 200, 'statistics', ctx.state.present.vmStatistics(view, services.migrations.progressOf(view.vm.id)));
  });
  for (const action of apiVmActions) {
    router.post(`/vms/:id/${action}`, async (ctx) => {
      const body = await optionalDocumentOf(ctx, 'action', action === 'start' ? startActionFields : undefined);
      const asynchronous = isAsync(ctx, body);
      const task = await vms.requestAction(ctx.params.id!, action, ctx.state.correlationId, action === 'start' ? startInput(body) : undefined);
      await answerWithTask(ctx, tasks, task, asynchronous);
    });
  }
}
