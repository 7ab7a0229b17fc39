import test from 'ava';
import { cdromPlacementSuite } from './cdrom-placement.js';

cdromPlacementSuite(test, 'postgres');
