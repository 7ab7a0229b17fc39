import { agentTrustTests } from './agent-trust.js';

agentTrustTests('sqlite');
