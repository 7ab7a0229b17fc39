import { randomBytes } from 'node:crypto';
import { XMLParser } from 'fast-xml-parser';
import type { ConsoleFacts, ConsoleTicket, DisplayType } from '../../../shared/model.js';
import { DriverError } from '../driver.js';
import type { GraphicsConfig } from './domain-xml.js';

/**
 * Where guests' graphics consoles listen unless the operator chose an address
 * (the agent's DROVER_DISPLAY_ADDRESS): the loopback address, so that a
 * console is never reachable from the network unasked.
 */
export const defaultDisplayAddress = '127.0.0.1';

/** How many random bytes a console's initial password is made of: libvirt allows VNC passwords of at most 8 characters, 6 bytes in base64. */
const lockPasswordBytes: Record<DisplayType, number> = { vnc: 6, spice: 24 };

/** A moment long past: a console password valid until then has expired before the guest starts. */
const expiredLongAgo = '1970-01-01T00:00:00';

/**
 * The graphics console of a domain as Drover defines it: listening on the
 * display address, with a random password that expired before the domain
 * ever ran, so that nobody can connect until a ticket sets a password.
 */
export function lockedGraphics(type: DisplayType, listen: string): GraphicsConfig {
  return { type, autoport: true, listen, passwd: randomBytes(lockPasswordBytes[type]).toString('base64url'), passwdValidTo: expiredLongAgo };
}

/** The graphics console of a running domain as its live XML describes it. */
export interface LiveGraphics {
  type: DisplayType;
  autoport: boolean;
  listen: string;
  port: number;
  tlsPort: number;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  isArray: (_name, jpath) => jpath === 'domain.devices.graphics' || jpath === 'domain.devices.graphics.listen',
});

type Node = Record<string, unknown>;

function port(value: unknown): number {
  const number = Number(value ?? 0);
  return Number.isSafeInteger(number) && number > 0 ? number : 0;
}

/** The domain's first VNC or SPICE console in its XML; `not_supported` when it has none. */
export function liveGraphics(domainXml: string): LiveGraphics {
  const domain = (parser.parse(domainXml) as Node).domain as Node | undefined;
  const graphics = (((domain?.devices as Node | undefined)?.graphics ?? []) as Node[]).find((node) => node['@_type'] === 'vnc' || node['@_type'] === 'spice');
  if (!graphics) throw new DriverError('not_supported', 'the domain has no VNC or SPICE console');
  const listen = ((graphics.listen ?? []) as Node[]).find((node) => node['@_type'] === 'address');
  return {
    type: graphics['@_type'] as DisplayType,
    autoport: graphics['@_autoport'] === 'yes',
    listen: String(listen?.['@_address'] ?? graphics['@_listen'] ?? ''),
    port: port(graphics['@_port']),
    tlsPort: port(graphics['@_tlsPort']),
  };
}

export function consoleFacts(graphics: LiveGraphics): ConsoleFacts {
  return { protocol: graphics.type, address: graphics.listen, port: graphics.port, tlsPort: graphics.tlsPort };
}

/** libvirt's form of a moment for passwdValidTo: UTC, to the second. */
function validTo(moment: Date): string {
  return moment.toISOString().slice(0, 19);
}

/**
 * The graphics device of a running domain with the ticket's password, valid
 * for the ticket's seconds from `now`; everything libvirt compares when it
 * updates a console (type, ports, listen address) is as the domain has it.
 */
export function ticketedGraphics(graphics: LiveGraphics, ticket: ConsoleTicket, now: Date): GraphicsConfig {
  return {
    type: graphics.type,
    autoport: graphics.autoport,
    port: graphics.autoport ? undefined : graphics.port,
    tlsPort: graphics.autoport || graphics.tlsPort === 0 ? undefined : graphics.tlsPort,
    listen: graphics.listen,
    passwd: ticket.password,
    passwdValidTo: validTo(new Date(now.getTime() + ticket.validSeconds * 1000)),
  };
}
