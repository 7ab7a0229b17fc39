import test from 'ava';
import { liveStateSuite } from './live-state.js';

liveStateSuite(test, 'sqlite');
