// Type declarations of wembed's public API (js/index.js).

export type ModelSource =
  | string            // a path (Node) or a URL
  | URL
  | Uint8Array
  | ArrayBuffer
  | Response
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array>;

export interface LoadOptions {
  /** Called after each chunk is copied into the model's memory. total is the file size from its header. */
  onProgress?: (progress: { loaded: number; total: number }) => void;
  /** Cancels the load; the promise rejects with an AbortError. */
  signal?: AbortSignal;
  /**
   * The wasm module to use (a URL, its bytes or a compiled module: bundlers, extensions), used as given. By default
   * the package's own: dist/wembed-relaxed.wasm where the engine runs relaxed SIMD and computes a known relaxed
   * dot product right (Chromium >= 114), else dist/wembed.wasm (SIMD128); for threads on a shared memory, their
   * shared-memory builds dist/wembed-relaxed-mt.wasm / dist/wembed-mt.wasm. All embed bit-identically.
   */
  wasm?: string | URL | Uint8Array | ArrayBuffer | WebAssembly.Module;
  /**
   * Embed on this many threads (1..64, default 1): the calling thread plus threads - 1 workers (worker_threads in
   * Node, module Web Workers in browsers). Where SharedArrayBuffer works (Node; cross-origin isolated pages: COOP
   * same-origin + COEP require-corp) the workers share the one model in memory and every op is split, so a single
   * text gets faster too (info.thread_mode 'shared'); elsewhere each worker holds its own copy of the model and
   * only batches are split ('copies'). Vectors are the same, bit for bit, either way.
   */
  threads?: number;
}

export interface ModelInfo {
  /** The model's name (from the converted folder), '' if unknown. */
  readonly name: string;
  readonly source?: string;
  readonly converter?: string;
  readonly dim: number;
  readonly hidden: number;
  readonly layers: number;
  readonly heads: number;
  readonly intermediate: number;
  /** Token ids. */
  readonly vocab: number;
  /** Token ids with their own embedding row: vocab unless the vocabulary was pruned (convert --vocab-from). */
  readonly vocab_kept: number;
  /** The corpus file a pruned vocabulary was taken from; null if not pruned. */
  readonly vocab_corpus: string | null;
  readonly max_positions: number;
  /** Default token limit, special tokens included; longer texts are truncated. */
  readonly max_tokens: number;
  readonly pooling: 'cls' | 'mean';
  readonly normalize: boolean;
  readonly metric: 'cosine' | 'dot';
  readonly dtype: 'int8' | 'f16' | 'f32';
  readonly embedding_dtype: 'int8' | 'q4' | 'f16' | 'f32';
  readonly activation_bits: number;
  /** int8 weights: inputs per scale group along K (0: one scale per output channel). */
  readonly quant_group: number;
  /** Size of the .wemb file in bytes. */
  readonly size: number;
  readonly special_tokens: number;
  /** Text the model expects before queries and passages (e5: "query: " / "passage: "); '' if none. */
  readonly prefixes: { readonly query: string; readonly passage: string };
  /** Threads that embed (load's threads option). */
  readonly threads: number;
  /** How they share the work: 'shared' (one model, every op split), 'copies' (a model per thread, batches split), 'single'. */
  readonly thread_mode: 'shared' | 'copies' | 'single';
  /** The module's instruction set: 'relaxed' (dist/wembed-relaxed.wasm) or 'simd128' (dist/wembed.wasm). */
  readonly simd: 'relaxed' | 'simd128';
  /**
   * The kernel the int8 linears run on (null for f32 / f16 files): 'u8i8' (relaxed SIMD, 8-bit activations, where
   * the engine's dot takes unsigned bytes: x86 with AVX-VNNI), 'u6x2i8' (relaxed SIMD, activations as two 6-bit
   * digits), 'i16i8' (SIMD128). The vectors are the same whichever runs.
   */
  readonly int8_gemm: 'u8i8' | 'u6x2i8' | 'i16i8' | null;
}

export interface EmbedOptions {
  /** Puts the model's query or passage prefix before each text (see ModelInfo.prefixes). */
  kind?: 'query' | 'passage';
  pooling?: 'cls' | 'mean';
  normalize?: boolean;
  /** Token limit for this call, special tokens included (2 .. max_positions). */
  maxTokens?: number;
  signal?: AbortSignal;
  onProgress?: (progress: { done: number; total: number }) => void;
}

export interface PipelineInput {
  source_sentence: string[];
  sentences_to_compare?: string[];
}

export interface PipelineOutput {
  /** Vectors of source_sentence then sentences_to_compare, as the model defines them. */
  text_embedding: Float32Array[];
  /** Dot products of the first source sentence's vector with each compared sentence's vector. */
  scores: number[];
}

export interface ModelStats {
  /** Texts tokenized so far (embed, score, pipeline, tokenize). */
  readonly texts: number;
  /**
   * Of those, texts a pruned vocabulary tokenized differently from the full model (0 unless info.vocab_corpus; null
   * when the model was converted with --vocab-drop-pruned and cannot tell).
   */
  readonly prunedTexts: number | null;
}

export declare class Model {
  private constructor();
  readonly dim: number;
  readonly info: ModelInfo;
  /** Counters since load (a fresh object on each read). */
  readonly stats: ModelStats;
  /** One Float32Array(dim) per text, in order. */
  embed(texts: string[], options?: EmbedOptions): Promise<Float32Array[]>;
  /** The vector of one text. */
  embed(text: string, options?: EmbedOptions): Promise<Float32Array>;
  /** Similarity of the query to each candidate: cosine or dot product (default: the model's metric). */
  score(query: string, candidates: string[], options?: { metric?: 'cosine' | 'dot'; signal?: AbortSignal }): Promise<number[]>;
  /** The ModelScope sentence-embedding pipeline form. */
  pipeline(input: PipelineInput): Promise<PipelineOutput>;
  /** Token ids with the special tokens, truncated to the model's limit (or maxTokens). */
  tokenize(text: string, options?: { maxTokens?: number }): number[];
  /** Frees the model's memory; later calls throw. */
  dispose(): void;
}

/** Loads a .wemb model, streaming it straight into wasm memory and verifying each section as it arrives. */
export declare function load(source: ModelSource, options?: LoadOptions): Promise<Model>;
