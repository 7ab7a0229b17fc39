import test from 'ava';
import { consoleFaultSuite } from './consoles.js';

consoleFaultSuite(test, 'sqlite');
