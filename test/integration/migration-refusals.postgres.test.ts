import test from 'ava';
import { migrationRefusalSuite } from './migration-refusals.js';

migrationRefusalSuite(test, 'postgres');
