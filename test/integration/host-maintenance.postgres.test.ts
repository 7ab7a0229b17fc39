import test from 'ava';
import { hostMaintenanceSuite } from './host-maintenance.js';

hostMaintenanceSuite(test, 'postgres');
