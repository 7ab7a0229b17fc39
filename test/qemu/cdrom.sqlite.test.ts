import test from 'ava';
import { qemuCdromSuite } from './cdrom.js';

qemuCdromSuite(test, 'sqlite');
