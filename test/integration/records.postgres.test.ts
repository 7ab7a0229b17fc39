import test from 'ava';
import { recordsSuite } from './records.js';

recordsSuite(test, 'postgres');
