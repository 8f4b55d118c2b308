// Picks and opens the weights of a model folder: safetensors first, then PyTorch zip checkpoints.
// Both readers return a TensorStore (safetensors.js): names, resolve, info, get, similar, close.

import fs from 'node:fs';
import path from 'node:path';
import { openSafetensors } from './safetensors.js';
import { openTorchCheckpoint } from './torch.js';

/** The weight files looked for, in order of preference, and their readers. */
export const WEIGHT_FILES = Object.freeze([
  ['model.safetensors', openSafetensors],
  ['model.safetensors.index.json', openSafetensors],
  ['pytorch_model.bin', openTorchCheckpoint],
  ['pytorch_model.bin.index.json', openTorchCheckpoint],
]);

/**
 * Opens the checkpoint of folder dir (or a weight file given directly). Throws an Error listing the files it
 * looked for when the folder has none of them.
 */
export function openWeights(dir) {
  if (!fs.statSync(dir).isDirectory()) {
    const base = path.basename(dir);
    const isTorch = base.endsWith('.bin') || base.endsWith('.bin.index.json') || base.endsWith('.pt') || base.endsWith('.pth');
    return isTorch ? openTorchCheckpoint(dir) : openSafetensors(dir);
  }
  for (const [name, open] of WEIGHT_FILES) {
    const file = path.join(dir, name);
    if (fs.existsSync(file)) return open(file);
  }
  const others = fs.readdirSync(dir).filter((f) => /\.(bin|pt|pth|ckpt|h5|msgpack|onnx|safetensors)$/.test(f));
  // (worded so that it names all four files, in order)
  throw new Error(
    `no model weights in ${dir}: no model.safetensors or model.safetensors.index.json, no pytorch_model.bin or pytorch_model.bin.index.json` +
      (others.length ? ` (found ${others.join(', ')}, which wembed does not read)` : ''),
  );
}
