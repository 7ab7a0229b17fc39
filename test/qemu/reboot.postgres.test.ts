import test from 'ava';
import { qemuRebootSuite } from './reboot.js';

qemuRebootSuite(test, 'postgres');
