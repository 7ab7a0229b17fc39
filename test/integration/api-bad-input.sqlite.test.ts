import test from 'ava';
import { badInputSuite } from './api-bad-input.js';

badInputSuite(test, 'sqlite');
