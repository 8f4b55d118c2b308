import { parityTest } from './parity.mjs';

parityTest('multilingual-e5-small-synth', 'int8');
