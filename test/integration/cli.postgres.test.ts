import test from 'ava';
import { cliSuite } from './cli.js';

cliSuite(test, 'postgres');
