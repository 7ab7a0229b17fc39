import test from 'ava';
import { Instant, render, renderPart, type Rep } from '../../../controller/api/present/representation.js';
import { Fields } from '../../../controller/api/input/fields.js';
import type { Doc } from '../../../controller/api/input/body.js';
import { ServiceError } from '../../../controller/rules/errors.js';

const body = (xml: string) => xml.replace(/^<\?xml[^>]*\?>\n/, '');

test('an empty string is written open and closed in XML (the Python SDK reads <x/> as None) and as "" in JSON', (t) => {
  const rep: Rep = { os: { custom_kernel_cmdline: '' }, name: 'alpha' };
  t.is(body(render('host', rep, 'xml')), '<host><os><custom_kernel_cmdline></custom_kernel_cmdline></os><name>alpha</name></host>');
  t.is(render('host', rep, 'json'), '{"os":{"custom_kernel_cmdline":""},"name":"alpha"}');
  t.is(renderPart('os', { custom_kernel_cmdline: '' }, 'xml').text, '<os><custom_kernel_cmdline></custom_kernel_cmdline></os>');
  t.is(body(render('vm', { description: '', tags: [''] }, 'xml')), '<vm><description></description><tags></tags></vm>', 'also in a list of strings');
});

test('a nested document with nothing in it is written as an empty element, and undefined members are left out', (t) => {
  t.is(body(render('vm', { sso: {}, io: { threads: undefined }, memory: 1 }, 'xml')), '<vm><sso/><io/><memory>1</memory></vm>');
  t.is(render('vm', { sso: {}, io: { threads: undefined }, memory: 1 }, 'json'), '{"sso":{},"io":{},"memory":"1"}');
  t.is(body(render('vm_numa_nodes', { vm_numa_node: [] }, 'xml')), '<vm_numa_nodes/>');
});

test('an instant is ISO 8601 with the offset in XML and milliseconds since the epoch, a number, in JSON', (t) => {
  const epochMs = Date.UTC(2026, 11, 6, 17, 31, 47, 123);
  const rep: Rep = { creation_time: new Instant(epochMs), dates: { date: [new Instant(0), new Instant(epochMs)] } };
  t.is(body(render('vm', rep, 'xml')), '<vm><creation_time>2026-12-06T17:31:47.123+00:00</creation_time><dates><date>1970-01-01T00:00:00.000+00:00</date><date>2026-12-06T17:31:47.123+00:00</date></dates></vm>');
  t.is(render('vm', rep, 'json'), `{"creation_time":${epochMs},"dates":{"date":[0,${epochMs}]}}`);
  t.deepEqual(JSON.parse(renderPart('vm', rep, 'json').text).creation_time, epochMs);
});

test('other scalars are escaped text in XML and strings in JSON, as before', (t) => {
  const rep: Rep = { $: { id: 'a"b' }, name: 'x<y&z', memory: 1024, stateless: false };
  t.is(body(render('vm', rep, 'xml')), '<vm id="a&quot;b"><name>x&lt;y&amp;z</name><memory>1024</memory><stateless>false</stateless></vm>');
  t.is(render('vm', rep, 'json'), '{"id":"a\\"b","name":"x<y&z","memory":"1024","stateless":"false"}');
});

function dateOf(doc: Doc, media: 'xml' | 'json'): number | undefined {
  return new Fields(doc, 'token', media).date('expiration_time');
}

function refusal(doc: Doc, media: 'xml' | 'json'): string {
  try {
    dateOf(doc, media);
  } catch (error) {
    if (error instanceof ServiceError && error.kind === 'invalid') return error.detail;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(doc)} to be refused in ${media}`);
}

test('a date in a request is ISO 8601 with a time zone in XML and JSON, and also milliseconds since the epoch in JSON', (t) => {
  const epochMs = Date.UTC(2026, 11, 7, 10, 0, 0, 500);
  for (const media of ['xml', 'json'] as const) {
    t.is(dateOf({ expiration_time: '2026-12-07T10:00:00.500Z' }, media), epochMs, media);
    t.is(dateOf({ expiration_time: '2026-12-07T11:00:00.5+01:00' }, media), epochMs, media);
    t.is(dateOf({ expiration_time: '2026-12-07T10:00:00.500+00:00' }, media), epochMs, media);
    t.is(dateOf({}, media), undefined, `${media}: absent`);
    t.regex(refusal({ expiration_time: '2026-12-07T10:00:00' }, media), /token\.expiration_time must be a date and time, as .*ISO 8601 with a time zone/, `${media}: no time zone`);
    t.regex(refusal({ expiration_time: 'tomorrow' }, media), /not "tomorrow"/);
    t.regex(refusal({ expiration_time: '2026-13-45T99:00:00Z' }, media), /must be a date and time/);
  }
  t.is(dateOf({ expiration_time: String(epochMs) }, 'json'), epochMs, 'JSON: a number of milliseconds (the JSON reader hands numbers over as their text)');
  t.regex(refusal({ expiration_time: String(epochMs) }, 'xml'), /as ISO 8601 with a time zone \(2026-12-07T10:00:00Z\), not "1796/, 'XML: only ISO 8601');
  t.is(new Fields({ token: { expiration_time: String(epochMs) } }, 'root', 'json').nested('token')!.date('expiration_time'), epochMs, 'nested fields keep the media type');
});
