// CoROM english tiny shape in the ModelScope layout (pytorch_model.bin + vocab.txt + configuration.json): raw,
// unnormalized CLS vectors, so the norm is checked too (issue 5 bars).
import { parityTest } from './parity.mjs';

parityTest('corom-tiny-synth', 'f32', { normRatio: 1e-4 });
