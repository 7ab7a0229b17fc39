import test from 'ava';
import { resourcesSuite } from './api-resources.js';

resourcesSuite(test, 'postgres');
