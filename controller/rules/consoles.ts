import type { ConsoleFacts, DisplayType } from '../../shared/model.js';

/** A graphics console's id, as oVirt makes it: the hex of its protocol's name. */
export const consoleIds: Record<DisplayType, string> = { vnc: '766e63', spice: '7370696365' };

/** How long a console ticket is valid unless the request says otherwise, in seconds (oVirt's default). */
export const defaultTicketSeconds = 120;
/** The longest a console ticket may be valid, in seconds: a day. */
export const maxTicketSeconds = 86_400;

/**
 * How many characters a ticket's password has: VNC's authentication uses only
 * the first 8, so a VNC ticket has exactly those; SPICE uses them all.
 */
export const ticketLength: Record<DisplayType, number> = { vnc: 8, spice: 16 };

/** The addresses that mean every interface of a host: a console listening there is reached at the host's own address. */
const wildcardAddresses: ReadonlySet<string> = new Set(['', '0.0.0.0', '::']);

/** The address a client connects to for a console: where it listens, or the host's address when it listens on every interface. */
export function connectAddress(console: ConsoleFacts, hostAddress: string): string {
  return wildcardAddresses.has(console.address) ? hostAddress : console.address;
}

/**
 * A remote-viewer connection file (virt-viewer's `.vv` format) for a console
 * (at the address a client connects to) with a ticket's password;
 * remote-viewer deletes the file once it has read it.
 */
export function remoteViewerFile(options: { vmName: string; console: ConsoleFacts; password: string; validSeconds: number }): string {
  const { vmName, console, password, validSeconds } = options;
  return [
    '[virt-viewer]',
    `type=${console.protocol}`,
    `host=${console.address}`,
    `port=${console.port > 0 ? console.port : -1}`,
    ...(console.tlsPort > 0 ? [`tls-port=${console.tlsPort}`] : []),
    `password=${password}`,
    `# Password is valid for ${validSeconds} seconds.`,
    'delete-this-file=1',
    'fullscreen=0',
    `title=${vmName}:%d - Press SHIFT+F12 to Release Cursor`,
    'toggle-fullscreen=shift+f11',
    'release-cursor=shift+f12',
    'secure-attention=ctrl+alt+end',
    '',
  ].join('\n');
}
