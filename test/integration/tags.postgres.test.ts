import test from 'ava';
import { tagsSuite } from './tags.js';

tagsSuite(test, 'postgres');
