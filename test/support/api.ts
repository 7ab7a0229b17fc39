import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import tls from 'node:tls';
import type { ExecutionContext } from 'ava';
import { XMLParser } from 'fast-xml-parser';
import { Agent, fetch, type RequestInit, type Response } from 'undici';

export const adminUser = 'admin@internal';
/** The admin password of every system the test support starts. */
export const adminPassword = 'drover-test-secret';

export function basicAuthorization(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

const xmlParser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false, isArray: (name, jpath) => name === 'link' || /^(vms\.vm|hosts\.host|tasks\.task|clusters\.cluster|data_centers\.data_center)$/.test(String(jpath)) });

export interface ApiResponse {
  status: number;
  headers: Response['headers'];
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

/** How an `Api` client connects. */
export interface ApiConnection {
  /** The CA certificate (PEM) the client trusts over HTTPS, and nothing else. */
  ca?: string;
  /** The client address its requests come from. */
  localAddress?: string;
}

/**
 * A thin HTTP client for the Drover API, with Basic credentials by default.
 * Over HTTPS it trusts only the CA certificate it is given (PEM), as a client
 * that was handed Drover's CA file does. With `localAddress` (any of
 * 127.0.0.0/8 reaches a controller on 127.0.0.1) its requests come from that
 * client address.
 */
export class Api {
  constructor(
    readonly origin: string,
    readonly authorization = basicAuthorization(adminUser, adminPassword),
    readonly connection: ApiConnection = {},
    private readonly dispatcher = new Agent({ localAddress: connection.localAddress, connect: connection.ca ? { ca: connection.ca } : {} }),
  ) {}

  /** The CA certificate this client trusts over HTTPS. */
  get ca(): string | undefined {
    return this.connection.ca;
  }

  /** The Fetch API on this client's connections: `url` is absolute, or a path on the origin. */
  fetch(url: string, init: RequestInit = {}): Promise<Response> {
    return fetch(url.startsWith('/') ? `${this.origin}${url}` : url, { ...init, dispatcher: this.dispatcher });
  }

  /** The same client, on the same connections, with other credentials (an `Authorization` header value). */
  as(authorization: string): Api {
    return new Api(this.origin, authorization, this.connection, this.dispatcher);
  }

  /** A raw connection to the API, TLS over HTTPS (trusting only this client's CA), for writing HTTP by hand. */
  connect(): net.Socket {
    const url = new URL(this.origin);
    const port = Number(url.port);
    return url.protocol === 'https:' ? tls.connect({ host: url.hostname, port, ca: this.ca }) : net.connect(port, url.hostname);
  }

  /** Ends this client's connections. */
  close(): Promise<void> {
    return this.dispatcher.close();
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
    const response = await this.fetch(url, { method, headers, body });
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
