import test from 'ava';
import { qemuConsoleSuite } from './consoles.js';

qemuConsoleSuite(test, 'sqlite');
