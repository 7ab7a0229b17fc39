import test from 'ava';
import { compatSuite } from './api-compat.js';

compatSuite(test, 'sqlite');
