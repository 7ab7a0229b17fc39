import test from 'ava';
import { rbacSuite } from './rbac.js';

rbacSuite(test, 'sqlite');
