import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';

const suffix = '.save';

export class SaveImages {
  private readonly recordedAt = new Map<string, number>();
  private clock = 0;

  constructor(readonly directory: string) {}

  async load(): Promise<void> {
    await mkdir(this.directory, { recursive: true });
    for (const file of await readdir(this.directory)) {
      if (file.endsWith(suffix)) this.recordedAt.set(file.slice(0, -suffix.length), this.tick());
    }
  }

  pathFor(uuid: string): string {
    return path.join(this.directory, `${uuid}${suffix}`);
  }

  has(uuid: string): boolean {
    return this.recordedAt.has(uuid);
  }

  tick(): number {
    return ++this.clock;
  }

  recordedBefore(uuid: string, moment: number): boolean {
    const recorded = this.recordedAt.get(uuid);
    return recorded !== undefined && recorded < moment;
  }

  record(uuid: string): void {
    this.recordedAt.set(uuid, this.tick());
  }

  async discard(uuid: string): Promise<void> {
    this.recordedAt.delete(uuid);
    await rm(this.pathFor(uuid), { force: true });
  }
}
