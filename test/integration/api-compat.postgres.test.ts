import test from 'ava';
import { compatSmoke } from './api-compat.js';

compatSmoke(test, 'postgres');
