import test from 'ava';
import { storageSuite } from './storage.js';

storageSuite(test, 'postgres');
