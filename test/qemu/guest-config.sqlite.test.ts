import test from 'ava';
import { qemuGuestConfigSuite } from './guest-config.js';

qemuGuestConfigSuite(test, 'sqlite');
