import { stat } from 'node:fs/promises';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { ErrorCode, isLibvirtError, type LibvirtConnection } from './native/index.js';

/** What a disk of a domain (or a file in a disk's backing chain) refers to: a file or block device by path, or a volume of a storage pool. */
export type DiskSource = { path: string } | { pool: string; volume: string };

type XmlNode = Record<string, unknown>;

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', parseAttributeValue: false, parseTagValue: false });

function sourcesIn(node: unknown, found: DiskSource[]): void {
  if (Array.isArray(node)) {
    for (const item of node) sourcesIn(item, found);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  for (const [name, child] of Object.entries(node as XmlNode)) {
    if (name === 'source') {
      for (const source of Array.isArray(child) ? child : [child]) {
        if (typeof source !== 'object' || source === null) continue;
        const attributes = source as XmlNode;
        const file = attributes['@_file'] ?? attributes['@_dev'];
        if (typeof file === 'string') found.push({ path: file });
        if (typeof attributes['@_pool'] === 'string' && typeof attributes['@_volume'] === 'string') found.push({ pool: attributes['@_pool'], volume: attributes['@_volume'] });
      }
    }
    sourcesIn(child, found);
  }
}

/**
 * The sources of a domain's disks as its XML describes them, with the files
 * of their backing chains and of block jobs' mirrors where the XML has them
 * (the XML of a running domain does).
 */
export function diskSources(domainXml: string): DiskSource[] {
  const domain = (parser.parse(domainXml) as XmlNode).domain as XmlNode | undefined;
  const disks = (domain?.devices as XmlNode | undefined)?.disk;
  const found: DiskSource[] = [];
  sourcesIn(disks, found);
  return found;
}

/** The volume a deletion is about: its file, and its name in its storage pool. */
export interface VolumeIdentity {
  file: string;
  pool: string;
  volume: string;
}

/**
 * Whether a disk source is the volume: the pool's volume by name, or a path
 * that is the volume's file, by name or as the same file on the same device
 * (a symbolic link to it, or another mount of its directory).
 */
export async function refersTo(source: DiskSource, target: VolumeIdentity): Promise<boolean> {
  if ('pool' in source) return source.pool === target.pool && source.volume === target.volume;
  if (path.resolve(source.path) === path.resolve(target.file)) return true;
  const [mine, theirs] = await Promise.all([stat(target.file).catch(() => undefined), stat(source.path).catch(() => undefined)]);
  return mine !== undefined && theirs !== undefined && mine.dev === theirs.dev && mine.ino === theirs.ino;
}

/**
 * Keeps the deletion of volumes apart from what makes domains use volumes on
 * this host: any number of `using` operations (defining, starting, restoring,
 * plugging a device) run together, and a `deleting` operation (a check that
 * nothing uses the volume, then its deletion) runs alone. Waiting operations
 * run in the order they came, so neither kind starves the other.
 */
export class VolumeUseGuard {
  private users = 0;
  private deleting = false;
  private readonly waiting: { exclusive: boolean; admit: () => void }[] = [];

  using<T>(work: () => Promise<T>): Promise<T> {
    return this.run(false, work);
  }

  deletion<T>(work: () => Promise<T>): Promise<T> {
    return this.run(true, work);
  }

  private async run<T>(exclusive: boolean, work: () => Promise<T>): Promise<T> {
    if (this.waiting.length > 0 || !this.admissible(exclusive)) await new Promise<void>((admit) => this.waiting.push({ exclusive, admit }));
    else this.enter(exclusive);
    try {
      return await work();
    } finally {
      if (exclusive) this.deleting = false;
      else this.users--;
      this.admitWaiting();
    }
  }

  private admissible(exclusive: boolean): boolean {
    return !this.deleting && (!exclusive || this.users === 0);
  }

  private enter(exclusive: boolean): void {
    if (exclusive) this.deleting = true;
    else this.users++;
  }

  private admitWaiting(): void {
    while (this.waiting.length > 0 && this.admissible(this.waiting[0]!.exclusive)) {
      const next = this.waiting.shift()!;
      this.enter(next.exclusive);
      next.admit();
    }
  }
}

/** A domain that refers to a volume. */
export interface VolumeUser {
  name: string;
  running: boolean;
}

/**
 * The domains of the connection's host that refer to the volume: in their
 * persistent definition, or, for a running domain, in its live XML (which
 * also shows the backing chains). A domain that vanishes while it is looked
 * at is no user; any other failed read rejects, since it tells nothing.
 */
export async function volumeUsers(connection: LibvirtConnection, target: VolumeIdentity): Promise<VolumeUser[]> {
  const users: VolumeUser[] = [];
  for (const domain of await connection.listDomains()) {
    const running = domain.id !== -1;
    let descriptions: string[];
    try {
      descriptions = await Promise.all([connection.domainXml(domain.uuid, { inactive: true }), ...(running ? [connection.domainXml(domain.uuid)] : [])]);
    } catch (error) {
      if (isLibvirtError(error) && error.code === ErrorCode.NO_DOMAIN) continue;
      throw error;
    }
    const sources = descriptions.flatMap(diskSources);
    const matches = await Promise.all(sources.map((source) => refersTo(source, target)));
    if (matches.includes(true)) users.push({ name: domain.name, running });
  }
  return users;
}
