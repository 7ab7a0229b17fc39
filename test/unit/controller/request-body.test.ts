import test from 'ava';
import { parseDocument } from '../../../controller/api/input/body.js';
import { ServiceError } from '../../../controller/rules/errors.js';

const xml = (text: string) => Buffer.from(text, 'utf8');

function refusal(text: string, root: string): ServiceError {
  try {
    parseDocument(xml(text), 'application/xml', root);
  } catch (error) {
    if (error instanceof ServiceError) return error;
    throw error;
  }
  throw new Error(`expected ${text} to be refused`);
}

test('an empty document element reads as an empty document, with or without a declaration and spaces', (t) => {
  for (const text of ['<action/>', '<action />', '  <action/>\n', '<?xml version="1.0" encoding="UTF-8"?>\n<action/>', '<action></action>']) {
    t.deepEqual({ ...parseDocument(xml(text), 'application/xml', 'action') }, {}, text);
  }
});

test('an empty element of another name, more than one document element, or a DOCTYPE is refused', (t) => {
  const wrongRoot = refusal('<vm/>', 'action');
  t.is(wrongRoot.kind, 'invalid');
  t.regex(wrongRoot.detail, /must be <action>, not <vm>/);
  t.regex(refusal('<action/><action/>', 'action').detail, /2 <action> elements/);
  t.is(refusal('<vm><name>a</name></vm><vm><name>b</name></vm>', 'vm').kind, 'invalid');
  t.is(refusal('<?xml version="1.0"?><!DOCTYPE action [<!ENTITY x "y">]><action/>', 'action').kind, 'invalid');
});

test('a document with content is parsed in full', (t) => {
  t.deepEqual({ ...parseDocument(xml('<action><async>true</async></action>'), 'application/xml', 'action') }, { async: 'true' });
});
