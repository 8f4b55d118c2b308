// CoROM english tiny shape, int8 path. Issue 5's bars: mean cosine >= 0.999, min >= 0.998, |norm/ref - 1| <= 0.01
// for every text (its vectors are not normalized, so the norm carries information). Met by scales per group of
// 128 inputs and 12-bit activations (docs/architecture.md); per-channel scales with 8-bit activations reached 1.12%.
import { parityTest } from './parity.mjs';

parityTest('corom-tiny-synth', 'int8', { mean: 0.999, min: 0.998, normRatio: 0.01 });
