import test from 'ava';
import { taskSchedulerSuite } from './task-scheduler.js';

taskSchedulerSuite(test, 'postgres');
