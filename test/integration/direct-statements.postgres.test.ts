import test from 'ava';
import { directStatementsSuite } from './direct-statements.js';

directStatementsSuite(test, 'postgres');
