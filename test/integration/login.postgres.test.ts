import test from 'ava';
import { loginSuite } from './login.js';

loginSuite(test, 'postgres');
