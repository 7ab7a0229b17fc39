import test from 'ava';
import { queriesSuite } from './queries.js';

queriesSuite(test, 'postgres');
