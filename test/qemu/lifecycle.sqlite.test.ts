import test from 'ava';
import { qemuLifecycleSuite } from './lifecycle.js';

qemuLifecycleSuite(test, 'sqlite');
