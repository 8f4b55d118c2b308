// Help texts of the wembed CLI: `wembed --help` and `wembed <command> --help` (stdout, exit 0). A usage
// error prints the command's synopsis (stderr, exit 2).

const EMBED_OPTS = `  --pooling cls|mean        pooling (default: the model's)
  --normalize, --no-normalize
                            L2-normalize the vectors or not (default: the model's)
  --max-tokens N            truncate each text to N tokens, special tokens included (default: the model's limit)`;

const INPUT = `Input (--in / --docs): a .txt file (one text per line, "\\r\\n" accepted), a .jsonl file (one
{"text": "..."} object per line; other fields are ignored; a line without a string "text" is an error naming
the line; blank lines are skipped), or "-" for stdin. Stdin, and names ending in neither .txt nor .jsonl, are
read as JSON lines when the first line starts with "{", as plain lines otherwise; --in-format txt|jsonl decides.`;

const COMMON = `  -q, --quiet               no progress or summary on stderr
  -h, --help                this help`;

export const HELP = {
  convert: {
    synopsis: 'wembed convert <model-dir> -o model.wemb [--dtype int8|f16|f32] [--emb-dtype int8|q4|f16|f32] [--act-bits 8|12]\n                 [--pooling cls|mean] [--normalize|--no-normalize] [--max-tokens N] [--name NAME] [--metric cosine|dot]\n                 [--query-prefix TEXT] [--passage-prefix TEXT]\n                 [--vocab-from CORPUS [--vocab-chars all|corpus] [--vocab-drop-pruned]]',
    text: `Converts a Hugging Face / sentence-transformers BERT folder (config.json, tokenizer.json, model.safetensors,
and the sentence-transformers files that set pooling, normalization and the token limit) into one .wemb file.

Options:
  -o, --out FILE            the .wemb to write (required; written whole or not at all)
  --dtype int8|f16|f32      weights: int8 (default; scales per channel and group of 128 inputs, the fast path),
                            f16 or f32 (reference path)
  --emb-dtype int8|q4|f16|f32
                            the word-embedding table (default: as --dtype); q4 = 4 bits per value with a scale and
                            minimum per 32 values: a smaller file, measurably less exact (docs/architecture.md)
  --act-bits 8|12           int8: bits of the activations, quantized at run time per token and group (default 12,
                            the closest to the float model; 8: about twice as fast where relaxed SIMD takes 8-bit
                            operands, e.g. Chromium on x86 with AVX-VNNI, slightly less exact: docs/architecture.md)
  --pooling cls|mean        override the folder's pooling
  --normalize, --no-normalize
                            override the folder's normalization
  --max-tokens N            override the folder's token limit (at most the model's max_position_embeddings)
  --name NAME               the model's name in its metadata (default: the folder's name)
  --metric cosine|dot       the model's default score metric (default: cosine)
  --query-prefix TEXT, --passage-prefix TEXT
                            text the model expects before queries / passages, e.g. "query: " and "passage: "
                            for multilingual-e5 (default: config_sentence_transformers.json "prompts")
  --vocab-from CORPUS       a smaller file: keep only the vocabulary pieces the model's tokenizer produces on CORPUS
                            (UTF-8, one text per line, or JSON lines with "text"; tokenized as is and behind the
                            query / passage prefixes), plus specials, byte pieces and one-character pieces; the
                            embedding table then stores only their rows. Token ids stay the model's; a word that
                            needs a dropped piece is split into kept ones, and "embed" reports how many texts did
  --vocab-chars all|corpus  one-character pieces: all kept (default, as SentencePiece's SetVocabulary) or only those
                            CORPUS produces
  --vocab-drop-pruned       leave the dropped pieces out of the tokenizer too (XLM-R: ~6 MB less); "embed" can then
                            no longer tell which texts needed them
${COMMON}

Examples:
  wembed convert ./gte-small -o gte-small.wemb
  wembed convert ./multilingual-e5-small -o e5.wemb --query-prefix "query: " --passage-prefix "passage: " \\
    --emb-dtype q4 --vocab-from my-texts.txt`,
  },
  embed: {
    synopsis: 'wembed embed --model M.wemb --in (texts.txt|texts.jsonl|-) --out (out.f32|out.jsonl|out.npy|-)\n               [--batch N] [--threads N] [--kind query|passage] [--pooling cls|mean] [--normalize|--no-normalize]\n               [--max-tokens N]',
    text: `Embeds texts, one vector per text in input order, streamed in batches (memory does not grow with the input).

Output (--out), by its extension or --out-format:
  .f32     little-endian float32 rows [n, dim], row i = text i, no header
  .jsonl   one {"embedding": [...]} per line (each number reads back as the exact float32)
  .npy     NumPy v1.0 array, '<f4', shape (n, dim), C order (a file only, not "-")
  -        stdout, JSON lines unless --out-format says otherwise

${INPUT}

Options:
  -m, --model FILE          the .wemb model (required)
  --in FILE|-               texts (required)
  -o, --out FILE|-          vectors (required)
  --in-format txt|jsonl     how to read --in (default: from its name or first line)
  --out-format f32|jsonl|npy
                            how to write --out (default: from its extension)
  --batch N                 texts per batch (default 32 per thread)
  --threads N               embed on N threads (this one + N-1 worker threads sharing the model's memory; every
                            layer is split across them, so single long texts speed up too); default 1
  --kind query|passage      put the model's query or passage prefix before each text (see "wembed info")
${EMBED_OPTS}
${COMMON}

Example:
  wembed embed --model gte-small.wemb --in docs.jsonl --out docs.npy`,
  },
  tokenize: {
    synopsis: 'wembed tokenize --model M.wemb --in (texts.txt|texts.jsonl|-) --out (ids.jsonl|-) [--max-tokens N]',
    text: `Writes one {"ids": [...]} line per text: token ids with the special tokens ([CLS] ... [SEP]), truncated to
the model's token limit or --max-tokens.

${INPUT}

Options:
  -m, --model FILE          the .wemb model (required)
  --in FILE|-               texts (required)
  -o, --out FILE|-          ids as JSON lines (required)
  --in-format txt|jsonl     how to read --in (default: from its name or first line)
  --max-tokens N            truncate to N tokens, special tokens included
${COMMON}`,
  },
  score: {
    synopsis: 'wembed score --model M.wemb [--metric cosine|dot] [--sort] [--json] QUERY CANDIDATE...',
    text: `Scores each candidate against the query. Prints one line per candidate, "score<TAB>text", in input order
(--sort: best first); tabs and line breaks in texts are printed as spaces. Put "--" before texts that start with "-".

Options:
  -m, --model FILE          the .wemb model (required)
  --metric cosine|dot       the score (default: the model's metric)
  --sort                    best first (ties keep input order)
  --json                    print a JSON array of {index, score, text} instead
${EMBED_OPTS}
${COMMON}

Example:
  wembed score --model gte-small.wemb "Someone plays an instrument." "A man plays a guitar." "Stocks fell."`,
  },
  search: {
    synopsis: 'wembed search --model M.wemb --docs (docs.jsonl|docs.txt|-) [--top K] [--metric cosine|dot] [--json] QUERY',
    text: `Embeds the documents (streamed, keeping only the best K) and prints the top K for the query, best first:
"rank<TAB>score<TAB>id<TAB>text", where id is the document's "id" field (JSON lines) or its line number, and
text is shortened to about 100 characters (tabs and line breaks as spaces). Ties keep input order.

${INPUT}
A JSON-lines document may carry an "id" (string or number).

Options:
  -m, --model FILE          the .wemb model (required)
  --docs FILE|-             the documents (required)
  -k, --top K               how many results (default 10)
  --metric cosine|dot       the score (default: the model's metric)
  --json                    print a JSON array of {rank, score, id, line, text} (full text) instead
  --in-format txt|jsonl     how to read --docs (default: from its name or first line)
  --batch N                 documents per batch (default 32)
${EMBED_OPTS}
${COMMON}

Example:
  wembed search --model gte-small.wemb --docs corpus.jsonl --top 5 "how do vaccines work"`,
  },
  bench: {
    synopsis: 'wembed bench --model M.wemb [--threads N] [--lengths 16,32,128,512] [--runs 20] [--batch-runs 5]\n               [--texts FILE] [--onnx MODEL.onnx] [--json]',
    text: `Measures the model on this machine: load to ready, one text at each length (median, min and max of --runs
runs after 3 warm-ups), and a batch of texts per second (median of --batch-runs). With --onnx, onnxruntime-web (its
wasm backend, the same thread count) runs the same token ids from that ONNX file in the same process, runs
interleaved, pooled and normalized as the model is, and the table gets the ratio of the two (> 1: wembed faster).
Both "load to ready" figures are the first load in the process, wasm compilation included.

The texts of each length are built-in English sentences run together and cut at that many tokens (special tokens
included) by the model's tokenizer; the batch is --texts, or 256 of those sentences. The repository's "make bench"
is the full comparison (both thread counts, Node and Chromium, sizes, fidelity).

Options:
  -m, --model FILE          the .wemb model (required)
  --threads N               embed on N threads (default 1); onnxruntime-web gets the same count
  --lengths LIST            token counts of the one-text cases (default 16,32,128,512; longer than the model
                            takes are skipped)
  --runs N                  timed runs per length (default 20)
  --batch-runs N            timed runs of the batch (default 5)
  --texts FILE              the batch: a .txt or .jsonl file (as embed --in); default: 256 built-in sentences
  --in-format txt|jsonl     how to read --texts (default: from its name or first line)
  --onnx FILE               compare with onnxruntime-web on this ONNX export of the same model (inputs input_ids,
                            attention_mask and, if it has one, token_type_ids; output last_hidden_state). Needs the
                            onnxruntime-web package installed where you run this; it is not a wembed dependency
  --json                    the figures as JSON instead of the table
${COMMON}

Example:
  wembed bench --model gte-small.wemb --onnx gte-small/onnx/model_quantized.onnx --threads 2`,
  },
  info: {
    synopsis: 'wembed info MODEL.wemb',
    text: `Prints the model's facts as JSON: dim, layers, heads, hidden, intermediate, vocab (size, kept and the corpus of a
pruned vocabulary), max_positions, max_tokens, pooling, normalize, metric, dtype, size, ... The file is read and
verified in full (every section's CRC-32), so this also checks a download.

Options:
  -m, --model FILE          the model (or give it as the argument)
${COMMON}`,
  },
};

export const EXIT_CODES = `Exit status:
  0    success
  1    runtime error: unreadable or malformed input, missing or corrupt model, conversion failure, write failure
  2    usage error: unknown command or option, missing or invalid argument (the usage is printed)
  130  interrupted by Ctrl-C (143: SIGTERM, 129: SIGHUP); a file being written is removed`;

export function mainHelp(version) {
  return `wembed ${version} — BERT sentence embeddings in WebAssembly, on your machine

Usage: wembed <command> [options]

Commands:
  convert   convert a Hugging Face / sentence-transformers BERT folder into a .wemb model
  embed     embed texts (txt, JSON lines or stdin) into .f32, .jsonl or .npy vectors
  tokenize  token ids of texts, as JSON lines
  score     score candidate texts against a query
  search    rank documents against a query, top K
  info      a model's facts as JSON
  bench     time the model here: load, one text per length, a batch; with --onnx, against onnxruntime-web

Run "wembed <command> --help" for a command's options (or "wembed help <command>").

Global options:
  -q, --quiet   no progress or summaries on stderr (errors and warnings still go there)
  -h, --help    this help
  --version     the version

Progress goes to stderr: a bar with count, rate and ETA redrawn in place when stderr is a terminal, plain lines
otherwise (every 10% or 5 s, no escape codes). Errors are one line on stderr: "wembed <command>: <message>".

${EXIT_CODES}
`;
}

export function commandHelp(cmd) {
  const h = HELP[cmd];
  return `Usage: ${h.synopsis}\n\n${h.text}\n\n${EXIT_CODES}\n`;
}
