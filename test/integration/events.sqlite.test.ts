import test from 'ava';
import { eventSuite } from './events.js';

eventSuite(test, 'sqlite');
