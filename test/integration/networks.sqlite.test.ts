import test from 'ava';
import { networksSuite } from './networks.js';

networksSuite(test, 'sqlite');
