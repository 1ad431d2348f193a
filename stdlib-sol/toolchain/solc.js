#!/usr/bin/env node
// A native-`solc`-compatible front end for solc-js (the emscripten build from npm), covering
// what forge / foundry-compilers invoke:
//
//   solc --version
//   solc --standard-json [--base-path P] [--include-path P]... [--allow-paths P,P...] [FILE]
//
// `--version` prints exactly native solc's two lines, with the platform part of the long
// version rewritten from solc-js's `Emscripten.clang` to native Linux's `Linux.g++` (the
// compiler itself is the same source at the same commit). `--standard-json` reads the input
// JSON from stdin (or FILE), compiles it with solc-js, and writes the output JSON to stdout;
// imports that the input does not already carry are read from disk relative to the base path
// and then the include paths, like native solc's default import callback. As with native
// solc, compile errors go into the output JSON and the exit status stays 0.
//
// Flags that this wrapper does not know are ignored (with a note on stderr), never fatal.
// Installed by scripts/foundry-env.sh; see README.md next to this file.
"use strict";

const fs = require("fs");
const path = require("path");

const USAGE = `solc (solc-js wrapper, SolidML toolchain)
Usage:
  solc --version
  solc --standard-json [--base-path P] [--include-path P]... [--allow-paths P,...] [FILE]
Standard JSON input is read from FILE, or from stdin when FILE is absent or "-".
`;

// Options that take a value (so the value is not taken for a positional FILE argument),
// beyond the ones handled explicitly below. Taken from native solc's --help.
const VALUE_FLAGS = new Set([
  "--output-dir", "-o", "--evm-version", "--eof-version", "--optimize-runs", "--libraries",
  "--error-codes", "--error-recovery", "--revert-strings", "--debug-info", "--stop-after",
  "--model-checker-contracts", "--model-checker-engine", "--model-checker-ext-calls",
  "--model-checker-invariants", "--model-checker-solvers", "--model-checker-targets",
  "--model-checker-timeout", "--yul-optimizations", "--combined-json", "--machine",
  "--yul-dialect", "--import-asm-json", "--ignore-missing", "--lsp",
]);

function parseArgs(argv) {
  const opts = { version: false, help: false, standardJson: false, basePath: "",
                 includePaths: [], allowPaths: [], files: [], unknown: [] };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let inlineValue;
    if (arg.startsWith("--") && arg.includes("=")) {
      inlineValue = arg.slice(arg.indexOf("=") + 1);
      arg = arg.slice(0, arg.indexOf("="));
    }
    const value = () => {
      if (inlineValue !== undefined) return inlineValue;
      if (i + 1 < argv.length) return argv[++i];
      return "";
    };
    switch (arg) {
      case "--version": opts.version = true; break;
      case "--help": case "-h": opts.help = true; break;
      case "--standard-json": opts.standardJson = true; break;
      case "--base-path": opts.basePath = value(); break;
      case "--include-path": opts.includePaths.push(value()); break;
      case "--allow-paths":
        opts.allowPaths.push(...value().split(",").filter((p) => p.length > 0));
        break;
      default:
        if (arg === "-" || !arg.startsWith("-")) {
          opts.files.push(arg);
        } else {
          opts.unknown.push(arg);
          if (VALUE_FLAGS.has(arg) && inlineValue === undefined && i + 1 < argv.length) {
            opts.unknown.push(argv[++i]);
          }
        }
    }
  }
  return opts;
}

function nativeVersion(solcjsVersion) {
  // "0.8.30+commit.73712a01.Emscripten.clang" -> "0.8.30+commit.73712a01.Linux.g++"
  const m = /^(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?\+commit\.[0-9a-f]+)/.exec(solcjsVersion);
  return m ? `${m[1]}.Linux.g++` : solcjsVersion;
}

function isWithin(file, dir) {
  const rel = path.relative(dir, file);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

function makeImportCallback(opts) {
  const cwd = process.cwd();
  const base = opts.basePath ? path.resolve(cwd, opts.basePath) : cwd;
  const includes = opts.includePaths.filter((p) => p).map((p) => path.resolve(cwd, p));
  // Native solc allows the base path, the include paths, --allow-paths and the directories
  // of files named on the command line.
  const allowed = [base, ...includes, ...opts.allowPaths.map((p) => path.resolve(cwd, p)),
                   ...opts.files.filter((f) => f !== "-").map((f) => path.dirname(path.resolve(cwd, f)))];
  return function findImports(sourceUnitName) {
    const candidates = path.isAbsolute(sourceUnitName)
      ? [sourceUnitName]
      : [base, ...includes].map((root) => path.join(root, sourceUnitName));
    for (const candidate of candidates) {
      const file = path.resolve(candidate);
      if (!allowed.some((dir) => isWithin(file, dir))) continue;
      try {
        if (fs.statSync(file).isFile()) return { contents: fs.readFileSync(file, "utf8") };
      } catch (_) { /* try the next candidate */ }
    }
    const outside = candidates.some((c) => fs.existsSync(c) && !allowed.some((d) => isWithin(path.resolve(c), d)));
    return { error: outside ? "File outside of allowed directories." : "File not found." };
  };
}

function readInput(opts) {
  const file = opts.files.length > 0 ? opts.files[0] : "-";
  return fs.readFileSync(file === "-" ? 0 : file, "utf8");
}

function errorOutput(message) {
  return JSON.stringify({ errors: [{ component: "general", formattedMessage: message,
    message, severity: "error", type: "JSONError" }] });
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.unknown.length > 0) {
    process.stderr.write(`solc (solc-js wrapper): ignoring unsupported arguments: ${opts.unknown.join(" ")}\n`);
  }
  if (opts.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  // Loading solc-js (the ~9 MB emscripten module) is the slow part; do it only when needed.
  const solc = require("solc");
  if (opts.version) {
    process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${nativeVersion(solc.version())}\n`);
    return 0;
  }
  if (!opts.standardJson) {
    process.stderr.write("solc (solc-js wrapper): only --version and --standard-json are supported\n" + USAGE);
    return 1;
  }
  let input;
  try {
    input = readInput(opts);
  } catch (e) {
    process.stdout.write(errorOutput(`Could not read the standard JSON input: ${e.message}`) + "\n");
    return 0;
  }
  let output;
  try {
    output = solc.compile(input, { import: makeImportCallback(opts) });
  } catch (e) {
    output = errorOutput(`solc-js failed: ${e && e.message ? e.message : String(e)}`);
  }
  process.stdout.write(output + "\n");
  return 0;
}

process.exitCode = main();
