import test from 'ava';
import { migrationSuite } from './migration.js';

migrationSuite(test, 'sqlite');
