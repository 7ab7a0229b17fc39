import { mkdir } from 'node:fs/promises';
import type { ExecutionContext } from 'ava';
import { XMLParser } from 'fast-xml-parser';
import { Agent } from 'undici';

export const adminUser = 'admin@internal';
/** The admin password of every system the test support starts. */
export const adminPassword = 'drover-test-secret';

export function basicAuthorization(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

const xmlParser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false, isArray: (name, jpath) => name === 'link' || /^(vms\.vm|hosts\.host|tasks\.task|clusters\.cluster|data_centers\.data_center)$/.test(String(jpath)) });

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed: JSON as is; XML as an object keyed by the document element. */
  body: any;
}

export interface RequestOptions {
  body?: string | object;
  type?: 'xml' | 'json';
  accept?: 'xml' | 'json' | 'none';
  headers?: Record<string, string>;
  auth?: string | null;
}

/**
 * A thin HTTP client for the Drover API, with Basic credentials by default.
 * With `localAddress` (any of 127.0.0.0/8 reaches a controller on 127.0.0.1)
 * its requests come from that client address; `close()` then ends its connections.
 */
export class Api {
  private readonly dispatcher?: Agent;

  constructor(
    readonly origin: string,
    readonly authorization = basicAuthorization(adminUser, adminPassword),
    localAddress?: string,
  ) {
    if (localAddress) this.dispatcher = new Agent({ localAddress });
  }

  async close(): Promise<void> {
    await this.dispatcher?.close();
  }

  get root(): string {
    return `${this.origin}/ovirt-engine/api`;
  }

  async request(method: string, pathOrUrl: string, options: RequestOptions = {}): Promise<ApiResponse> {
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : pathOrUrl.startsWith('/ovirt-engine') || pathOrUrl.startsWith('/api') ? `${this.origin}${pathOrUrl}` : `${this.root}${pathOrUrl}`;
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    const auth = options.auth === undefined ? this.authorization : options.auth;
    if (auth) headers.Authorization = auth;
    if (options.accept === 'json') headers.Accept = 'application/json';
    if (options.accept === 'xml') headers.Accept = 'application/xml';
    let body: string | undefined;
    if (options.body !== undefined) {
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      headers['Content-Type'] ??= options.type === 'json' || typeof options.body === 'object' ? 'application/json' : 'application/xml';
    }
    const response = await fetch(url, { method, headers, body, ...(this.dispatcher ? ({ dispatcher: this.dispatcher } as object) : {}) });
    const text = await response.text();
    const isJson = (response.headers.get('content-type') ?? '').includes('json');
    let parsed: unknown;
    try {
      parsed = text ? (isJson ? JSON.parse(text) : xmlParser.parse(text)) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, text, body: parsed };
  }

  get(path: string, options?: RequestOptions) {
    return this.request('GET', path, options);
  }
  post(path: string, body?: string | object, options?: RequestOptions) {
    return this.request('POST', path, { ...options, body });
  }
  put(path: string, body: string | object, options?: RequestOptions) {
    return this.request('PUT', path, { ...options, body });
  }
  delete(path: string, options?: RequestOptions) {
    return this.request('DELETE', path, options);
  }

  /**
   * Adds a localfs storage domain of `hostName` in `directory` (made first)
   * and answers the API's response (201 with the domain, or a fault).
   */
  async addLocalStorage(name: string, hostName: string, directory: string): Promise<ApiResponse> {
    await mkdir(directory, { recursive: true });
    return this.post(
      '/storagedomains',
      `<storage_domain><name>${name}</name><type>data</type><host><name>${hostName}</name></host><storage><type>localfs</type><path>${directory}</path></storage></storage_domain>`,
    );
  }

  /** A disk's status (`ok`, `locked`, `illegal`). */
  async diskStatus(id: string): Promise<string> {
    return (await this.get(`/disks/${id}`, { accept: 'json' })).body.status;
  }

  /** Creates a VM through the XML API and returns its id. */
  async createVm(name: string, memoryMiB = 256, extra = ''): Promise<string> {
    const response = await this.post('/vms', `<vm><name>${name}</name><memory>${memoryMiB * 1024 * 1024}</memory><cluster><name>Default</name></cluster>${extra}</vm>`);
    if (response.status !== 201) throw new Error(`creating VM ${name} answered ${response.status}: ${response.text}`);
    return response.body.vm.id as string;
  }

  async vm(id: string): Promise<any> {
    const response = await this.get(`/vms/${id}`, { accept: 'json' });
    if (response.status !== 200) throw new Error(`GET vm ${id} answered ${response.status}: ${response.text}`);
    return response.body;
  }

  async vmStatus(id: string): Promise<string> {
    return (await this.vm(id)).status;
  }

  async hosts(): Promise<any[]> {
    return (await this.get('/hosts', { accept: 'json' })).body.host ?? [];
  }

  /** Waits for a task to end (up to 30 s) and returns it as JSON. */
  async task(id: string): Promise<any> {
    const response = await this.get(`/tasks/${id}?wait=30`, { accept: 'json' });
    if (response.status !== 200) throw new Error(`GET task ${id} answered ${response.status}: ${response.text}`);
    return response.body;
  }

  async action(id: string, action: string, options: { async?: boolean } = {}): Promise<ApiResponse> {
    return this.post(`/vms/${id}/${action}`, options.async ? '<action><async>true</async></action>' : '<action/>');
  }
}

/** Asserts an oVirt fault document (XML by default, JSON when asked) with a non-empty reason and detail. */
export function assertFault(t: ExecutionContext, response: ApiResponse, status: number, detail?: RegExp, media: 'xml' | 'json' = 'xml'): void {
  t.is(response.status, status, response.text);
  if (media === 'json') {
    t.regex(response.headers.get('content-type') ?? '', /^application\/json/);
    const body = JSON.parse(response.text);
    t.true(typeof body.reason === 'string' && body.reason.length > 0, `JSON fault has a reason: ${response.text}`);
    t.true(typeof body.detail === 'string' && body.detail.length > 0, `JSON fault has a detail: ${response.text}`);
    if (detail) t.regex(body.detail, detail);
    return;
  }
  t.regex(response.headers.get('content-type') ?? '', /^application\/xml/);
  t.regex(response.text, /^<\?xml[^>]*\?>\s*<fault><reason>[^<]+<\/reason><detail>[^<]+<\/detail><\/fault>$/, 'a <fault> with a reason and a detail');
  if (detail) t.regex(response.body.fault.detail, detail);
}
