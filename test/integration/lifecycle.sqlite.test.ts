import test from 'ava';
import { lifecycleSuite } from './lifecycle.js';

lifecycleSuite(test, 'sqlite');
