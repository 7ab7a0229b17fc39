import test from 'ava';
import { resilienceSuite } from './resilience.js';

resilienceSuite(test, 'postgres');
