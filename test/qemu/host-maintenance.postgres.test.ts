import test from 'ava';
import { qemuHostMaintenanceSuite } from './host-maintenance.js';

qemuHostMaintenanceSuite(test, 'postgres');
