import test from 'ava';
import { libvirtdRestartSuite } from './libvirtd-restart.js';

libvirtdRestartSuite(test, 'postgres');
