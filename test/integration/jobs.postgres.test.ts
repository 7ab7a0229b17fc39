import test from 'ava';
import { jobsSuite } from './jobs.js';

jobsSuite(test, 'postgres');
