import test from 'ava';
import { vmFieldsSuite } from './vm-fields.js';

vmFieldsSuite(test, 'postgres');
