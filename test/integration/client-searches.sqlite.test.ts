import test from 'ava';
import { clientSearchesSuite } from './client-searches.js';

clientSearchesSuite(test, 'sqlite');
