import test from 'ava';
import { qemuNetworksSuite } from './networks.js';

qemuNetworksSuite(test, 'sqlite');
