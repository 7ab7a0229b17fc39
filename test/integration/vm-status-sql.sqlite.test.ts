import test from 'ava';
import { vmStatusSqlSuite } from './vm-status-sql.js';

vmStatusSqlSuite(test, 'sqlite');
