import test from 'ava';
import { handMigrationSuite } from './hand-migration.js';

handMigrationSuite(test, 'sqlite');
