import { constants, createCipheriv, createPublicKey, publicEncrypt } from 'node:crypto';
import net from 'node:net';

/** RFB's security types (RFC 6143, 7.1.2) that tests look for. */
export const RfbSecurity = { none: 1, vncAuthentication: 2 } as const;

/** Reads exact byte counts from a socket, in order. */
class SocketReader {
  private buffered = Buffer.alloc(0);
  private waiting?: () => void;
  private failure?: Error;

  constructor(socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.waiting?.();
    });
    const fail = (error: Error) => {
      this.failure = error;
      this.waiting?.();
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('the RFB server closed the connection')));
  }

  async read(length: number): Promise<Buffer> {
    while (this.buffered.length < length) {
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => (this.waiting = resolve));
      this.waiting = undefined;
    }
    const bytes = this.buffered.subarray(0, length);
    this.buffered = this.buffered.subarray(length);
    return bytes;
  }
}

/**
 * Encrypts a VNC Authentication challenge with a password as RFB does: DES
 * in ECB mode, keyed by the password's first 8 bytes (zero-padded) with each
 * byte's bits reversed. OpenSSL 3 has single DES only in its legacy provider,
 * so this uses two-key triple DES with both keys equal, which is single DES.
 */
export function vncResponse(challenge: Buffer, password: string): Buffer {
  const key = Buffer.alloc(8);
  Buffer.from(password, 'latin1').copy(key, 0, 0, 8);
  for (let index = 0; index < 8; index++) {
    let byte = key[index]!;
    let reversed = 0;
    for (let bit = 0; bit < 8; bit++, byte >>= 1) reversed = (reversed << 1) | (byte & 1);
    key[index] = reversed;
  }
  const cipher = createCipheriv('des-ede-ecb', Buffer.concat([key, key]), null);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(challenge), cipher.final()]);
}

async function connect(host: string, port: number): Promise<{ socket: net.Socket; reader: SocketReader }> {
  const socket = net.connect({ host, port });
  const reader = new SocketReader(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, reader };
}

/** Opens an RFB 3.8 session up to the security handshake: the security types the server offers. */
async function handshake(host: string, port: number): Promise<{ socket: net.Socket; reader: SocketReader; securityTypes: number[] }> {
  const { socket, reader } = await connect(host, port);
  try {
    const version = (await reader.read(12)).toString('latin1');
    if (!/^RFB \d{3}\.\d{3}\n$/.test(version)) throw new Error(`not an RFB server: ${JSON.stringify(version)}`);
    socket.write('RFB 003.008\n');
    const count = (await reader.read(1))[0]!;
    if (count === 0) {
      const length = (await reader.read(4)).readUInt32BE(0);
      throw new Error(`the RFB server refused the connection: ${(await reader.read(length)).toString('utf8')}`);
    }
    return { socket, reader, securityTypes: [...(await reader.read(count))] };
  } catch (error) {
    socket.destroy();
    throw error;
  }
}

/** The security types an RFB server offers a new connection. */
export async function rfbSecurityTypes(host: string, port: number): Promise<number[]> {
  const { socket, securityTypes } = await handshake(host, port);
  socket.destroy();
  return securityTypes;
}

/** Authenticates to an RFB server with VNC Authentication and the password: whether the server accepted it, and its reason when not. */
export async function rfbAuthenticate(host: string, port: number, password: string): Promise<{ accepted: boolean; reason?: string }> {
  const { socket, reader, securityTypes } = await handshake(host, port);
  try {
    if (!securityTypes.includes(RfbSecurity.vncAuthentication)) throw new Error(`the RFB server does not offer VNC Authentication, only ${securityTypes.join(', ')}`);
    socket.write(Buffer.from([RfbSecurity.vncAuthentication]));
    socket.write(vncResponse(await reader.read(16), password));
    const result = (await reader.read(4)).readUInt32BE(0);
    if (result === 0) return { accepted: true };
    const length = (await reader.read(4)).readUInt32BE(0);
    return { accepted: false, reason: (await reader.read(length)).toString('utf8') };
  } finally {
    socket.destroy();
  }
}

/** Whether a TCP connection to the address and port is refused (nothing listens there). */
export async function connectionRefused(host: string, port: number): Promise<boolean> {
  try {
    const { socket } = await connect(host, port);
    socket.destroy();
    return false;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ECONNREFUSED') return true;
    throw error;
  }
}

const spiceMagic = 0x51444552; // "REDQ"
const spiceMainChannel = 1;

/**
 * Authenticates to a SPICE server's main channel with a ticket's password, as
 * a SPICE client does without capabilities: the link message, the server's
 * RSA key, the password (NUL-terminated) encrypted with RSA-OAEP, and the
 * server's link result. Whether the server accepted it, with its error code
 * (SpiceLinkErr) when not.
 */
export async function spiceAuthenticate(host: string, port: number, password: string): Promise<{ accepted: boolean; error?: number }> {
  const { socket, reader } = await connect(host, port);
  try {
    const message = Buffer.alloc(18);
    message.writeUInt32LE(0, 0);
    message.writeUInt8(spiceMainChannel, 4);
    message.writeUInt8(0, 5);
    message.writeUInt32LE(0, 6);
    message.writeUInt32LE(0, 10);
    message.writeUInt32LE(18, 14);
    const header = Buffer.alloc(16);
    header.writeUInt32LE(spiceMagic, 0);
    header.writeUInt32LE(2, 4);
    header.writeUInt32LE(2, 8);
    header.writeUInt32LE(message.length, 12);
    socket.write(Buffer.concat([header, message]));
    const replyHeader = await reader.read(16);
    if (replyHeader.readUInt32LE(0) !== spiceMagic) throw new Error('not a SPICE server');
    const reply = await reader.read(replyHeader.readUInt32LE(12));
    const linkError = reply.readUInt32LE(0);
    if (linkError !== 0) return { accepted: false, error: linkError };
    const key = createPublicKey({ key: reply.subarray(4, 4 + 162), format: 'der', type: 'spki' });
    socket.write(publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING }, Buffer.from(`${password}\0`, 'latin1')));
    const result = (await reader.read(4)).readUInt32LE(0);
    return result === 0 ? { accepted: true } : { accepted: false, error: result };
  } finally {
    socket.destroy();
  }
}
