import { parityTest } from './parity.mjs';

parityTest('gte-small-zh-synth', 'f32');
