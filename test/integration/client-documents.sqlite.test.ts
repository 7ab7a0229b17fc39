import test from 'ava';
import { clientDocumentsSuite } from './client-documents.js';

clientDocumentsSuite(test, 'sqlite');
