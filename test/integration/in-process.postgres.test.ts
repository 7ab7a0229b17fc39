import test from 'ava';
import { inProcessSuite } from './in-process.js';

inProcessSuite(test, 'postgres');
