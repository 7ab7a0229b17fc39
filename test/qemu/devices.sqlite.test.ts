import test from 'ava';
import { qemuDevicesSuite } from './devices.js';

qemuDevicesSuite(test, 'sqlite');
