import { parityTest } from './parity.mjs';

parityTest('gte-small-synth', 'int8');
