import { parityTest } from './parity.mjs';

parityTest('gte-small-synth', 'f32');
