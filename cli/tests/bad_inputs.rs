//! Bad inputs (issue 15, "What was seen"), one table: each case runs the binary as a user
//! would, as a child process under a 2 GiB address-space limit (`ulimit -v`) and a 10 s
//! deadline. A bad input must exit non-zero (by an exit code, not a signal) with the expected
//! message printed once, no panic, and nothing left behind: the case's directory holds
//! exactly the files the case wrote. The rows that expect success are the findings whose fix
//! is a behaviour (distinct output files, `0x<id>.smodel` store files, precompile input from
//! standard input and `@FILE`, `run -o`, the printed paths being the files written); they
//! run under the same limits and may write only under their output directory.

mod common;

use std::{
    collections::BTreeMap,
    io::Read,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use common::{node, npy, npy_f32, one_node_model, onnx_bytes, value_info};

/// The address space each run gets, in KiB (`ulimit -v`): 2 GiB.
const MEMORY_KIB: u64 = 2 * 1024 * 1024;
/// The wall-clock time each run gets.
const DEADLINE: Duration = Duration::from_secs(10);
/// What the element cap's message says (`solidml_spec`'s 2^28).
const CAP: &str = "more than the 268435456 a tensor may hold";

/// What the cases share: the example models and the digits MLP compiled once (`shared`).
struct Ctx {
    models: PathBuf,
    shared: PathBuf,
    /// `0x…` of the shared artifact.
    model_id: String,
}

enum Expect {
    /// Exit non-zero with each of these in the (unwrapped) error, once; nothing written.
    Error(&'static [&'static str]),
    /// Exit 0 with each of these in stdout or stderr; these files (case-relative) written,
    /// nothing outside their directories, and `then` (when given) content with them.
    Writes { output: &'static [&'static str], files: &'static [&'static str], then: Option<Then> },
}

/// A check of what a [`Expect::Writes`] case wrote: `Err` says what is wrong.
type Then = fn(&Ctx, &Path) -> Result<(), String>;

struct Case {
    name: &'static str,
    /// Writes the case's input files into its fresh directory.
    setup: fn(&Ctx, &Path),
    /// `{M}`: the example models' directory; `{S}`: the shared compile's; `{CALL}`: a valid
    /// precompile call of the shared model in hex.
    args: &'static [&'static str],
    /// A file fed to standard input (relative to the case's directory; otherwise none).
    stdin: Option<&'static str>,
    expect: Expect,
}

fn cases() -> Vec<Case> {
    use Expect::{Error, Writes};
    let none: fn(&Ctx, &Path) = |_, _| {};
    vec![
        // ---- compile --freeze: the rewritten model (a hidden file beside the copy) must not stay
        Case {
            name: "--freeze without a file",
            setup: |c, d| {
                std::fs::copy(c.models.join("digits_mlp.onnx"), d.join("m.onnx")).unwrap();
            },
            args: &["compile", "m.onnx", "--freeze", "input", "-o", "o"],
            stdin: None,
            expect: Error(&["--freeze `input`: expected NAME=FILE.npy"]),
        },
        Case {
            name: "--freeze of an input the model does not have",
            setup: |c, d| {
                std::fs::copy(c.models.join("digits_mlp.onnx"), d.join("m.onnx")).unwrap();
                write(d, "v.npy", npy_f32(&[64], &[0.0; 64]));
            },
            args: &["compile", "m.onnx", "--freeze", "nope=v.npy", "-o", "o"],
            stdin: None,
            expect: Error(&["the graph has no input `nope` (its inputs: input)"]),
        },
        Case {
            name: "--freeze with a value of the wrong shape",
            setup: |c, d| {
                std::fs::copy(c.models.join("digits_mlp.onnx"), d.join("m.onnx")).unwrap();
                write(d, "v.npy", npy_f32(&[3], &[0.0; 3]));
            },
            args: &["compile", "m.onnx", "--freeze", "input=v.npy", "-o", "o"],
            stdin: None,
            expect: Error(&["input `input` is declared", "the value has shape [3]"]),
        },
        Case {
            name: "--freeze with a .npy whose header claims 1e9×64 over 256 bytes",
            setup: |c, d| {
                std::fs::copy(c.models.join("digits_mlp.onnx"), d.join("m.onnx")).unwrap();
                write(d, "lie.npy", lying_npy());
            },
            args: &["compile", "m.onnx", "--freeze", "input=lie.npy", "-o", "o"],
            stdin: None,
            expect: Error(&["declares shape [1000000000, 64]", "holds 256 bytes"]),
        },
        // ---- crashes and hangs
        Case {
            name: "run with 0 samples (a panic, and 0-byte .npy files left)",
            setup: |_, d| write(d, "empty.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 64), }", 0)),
            args: &["run", "{S}/digits_mlp.smodel", "--input", "empty.npy", "-o", "r"],
            stdin: None,
            expect: Error(&["`empty.npy` is not usable data", "holds 0 samples"]),
        },
        Case {
            name: "run --fixed with 0 samples",
            setup: |_, d| write(d, "empty.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 64), }", 0)),
            args: &["run", "{S}/digits_mlp.smodel", "--input", "empty.npy", "--fixed"],
            stdin: None,
            expect: Error(&["holds 0 samples"]),
        },
        Case {
            name: "run on a .npy whose header claims 1e9×64 over 256 bytes (a 256 GB allocation)",
            setup: |_, d| write(d, "lie.npy", lying_npy()),
            args: &["run", "{S}/digits_mlp.smodel", "--input", "lie.npy", "-o", "r"],
            stdin: None,
            expect: Error(&["declares shape [1000000000, 64]", "holds 256 bytes"]),
        },
        Case {
            name: "calibration .npy whose header claims 1e9×64 over 256 bytes",
            setup: |_, d| write(d, "lie.npy", lying_npy()),
            args: &["compile", "{M}/digits_mlp.onnx", "--calibration", "lie.npy", "-o", "o"],
            stdin: None,
            expect: Error(&["declares shape [1000000000, 64]", "holds 256 bytes"]),
        },
        Case {
            name: "labels .npy whose header claims 1e9 int64 over 256 bytes",
            setup: |_, d| write(d, "labels.npy", npy("{'descr': '<i8', 'fortran_order': False, 'shape': (1000000000,), }", 256)),
            args: &[
                "compile",
                "{M}/digits_mlp.onnx",
                "--calibration",
                "{M}/digits_calib.npy",
                "--eval",
                "{M}/digits_calib.npy",
                "--labels",
                "labels.npy",
                "-o",
                "o",
            ],
            stdin: None,
            expect: Error(&["declares shape [1000000000]", "holds 256 bytes"]),
        },
        Case {
            name: ".npy whose shape overflows 64 bits",
            setup: |_, d| {
                write(d, "huge.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }", 64))
            },
            args: &["run", "{S}/digits_mlp.smodel", "--input", "huge.npy", "-o", "r"],
            stdin: None,
            expect: Error(&["declares shape [1099511627776, 1099511627776]", "more than 2^64"]),
        },
        Case {
            name: "a file that is not .npy",
            setup: |_, d| write(d, "x.npy", b"hello, not numpy".to_vec()),
            args: &["run", "{S}/digits_mlp.smodel", "--input", "x.npy", "-o", "r"],
            stdin: None,
            expect: Error(&["`x.npy` is not usable data", "not a .npy file"]),
        },
        Case {
            name: ".npy of complex numbers",
            setup: |_, d| write(d, "c.npy", npy("{'descr': '<c8', 'fortran_order': False, 'shape': (1, 64), }", 512)),
            args: &["run", "{S}/digits_mlp.smodel", "--input", "c.npy", "-o", "r"],
            stdin: None,
            expect: Error(&["not a .npy array of a float or integer dtype"]),
        },
        Case {
            name: "calibration with 0 samples",
            setup: |_, d| write(d, "empty.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 64), }", 0)),
            args: &["compile", "{M}/digits_mlp.onnx", "--calibration", "empty.npy", "-o", "o"],
            stdin: None,
            expect: Error(&["holds no sample"]),
        },
        Case {
            name: "--eval with 0 samples",
            setup: |_, d| write(d, "empty.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 64), }", 0)),
            args: &["compile", "{M}/digits_mlp.onnx", "--calibration", "{M}/digits_calib.npy", "--eval", "empty.npy", "-o", "o"],
            stdin: None,
            expect: Error(&["holds 0 samples"]),
        },
        Case {
            name: "a model input of 1e9 elements (an abort on memory)",
            setup: |_, d| write(d, "m.onnx", one_node_model("Relu", &[1000, 1_000_000], "", &[])),
            args: &["compile", "m.onnx", "-o", "o"],
            stdin: None,
            expect: Error(&[CAP]),
        },
        Case {
            name: "an Expand to 1e5×1e5 (an abort on memory)",
            setup: |_, d| write(d, "m.onnx", one_node_model("Expand", &[1, 1], "shape", &[100_000, 100_000])),
            args: &["compile", "m.onnx", "-o", "o"],
            stdin: None,
            expect: Error(&[CAP]),
        },
        Case {
            name: "dims of 2^40 (an ndarray shape overflow panic)",
            setup: |_, d| write(d, "m.onnx", one_node_model("Relu", &[1, 1 << 40], "", &[])),
            args: &["compile", "m.onnx", "-o", "o"],
            stdin: None,
            expect: Error(&[CAP]),
        },
        Case {
            name: "dims of 2^40 × 2^40 (a product past 64 bits)",
            setup: |_, d| write(d, "m.onnx", one_node_model("Relu", &[1 << 40, 1 << 40], "", &[])),
            args: &["compile", "m.onnx", "-o", "o"],
            stdin: None,
            expect: Error(&[CAP]),
        },
        Case {
            name: "a Pad of 1e9 (a hang at 100% CPU)",
            setup: |_, d| write(d, "m.onnx", one_node_model("Pad", &[1, 4], "pads", &[0, 0, 0, 1_000_000_000])),
            args: &["compile", "m.onnx", "-o", "o"],
            stdin: None,
            expect: Error(&[CAP]),
        },
        Case {
            name: "a Tile of 1e9",
            setup: |_, d| write(d, "m.onnx", one_node_model("Tile", &[1, 4], "repeats", &[1_000_000_000, 1])),
            args: &["compile", "m.onnx", "-o", "o"],
            stdin: None,
            expect: Error(&[CAP]),
        },
        Case {
            name: "a ConstantOfShape of 2^20 × 2^20",
            setup: |_, d| write(d, "m.onnx", one_node_model("ConstantOfShape", &[1, 4], "shape", &[1 << 20, 1 << 20])),
            args: &["compile", "m.onnx", "-o", "o"],
            stdin: None,
            expect: Error(&[CAP]),
        },
        // ---- files
        Case {
            name: "--name ../x (wrote outside -o)",
            setup: none,
            args: &["compile", "{M}/digits_mlp.onnx", "--name", "../x", "-o", "o"],
            stdin: None,
            expect: Error(&["--name: `../x` is not a Solidity identifier"]),
        },
        Case {
            name: "--name SolidML (overwrote the library the precompile contract imports)",
            setup: none,
            args: &["compile", "{M}/digits_mlp.onnx", "--name", "SolidML", "-o", "o"],
            stdin: None,
            expect: Error(&["--name: `SolidML` is the name of a library the generated contracts import"]),
        },
        Case {
            name: "--name contract (invalid Solidity)",
            setup: none,
            args: &["compile", "{M}/digits_mlp.onnx", "--name", "contract", "-o", "o"],
            stdin: None,
            expect: Error(&["--name: `contract` is a Solidity keyword or type name"]),
        },
        Case {
            name: "--name 1model (invalid Solidity)",
            setup: none,
            args: &["compile", "{M}/digits_mlp.onnx", "--name", "1model", "-o", "o"],
            stdin: None,
            expect: Error(&["--name: `1model` is not a Solidity identifier"]),
        },
        Case {
            name: "a failed --eval (data of the wrong width) leaves no partial output",
            setup: |_, d| write(d, "bad_eval.npy", npy_f32(&[3, 5], &[1.0; 15])),
            args: &["compile", "{M}/digits_mlp.onnx", "--calibration", "{M}/digits_calib.npy", "--eval", "bad_eval.npy", "-o", "o"],
            stdin: None,
            expect: Error(&["[3, 5]"]),
        },
        // ---- the safety net
        Case {
            name: "--labels of the wrong length (a bogus accuracy)",
            setup: |_, d| write(d, "labels.npy", npy("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", 24)),
            args: &[
                "compile",
                "{M}/digits_mlp.onnx",
                "--calibration",
                "{M}/digits_calib.npy",
                "--eval",
                "{M}/digits_calib.npy",
                "--labels",
                "labels.npy",
                "-o",
                "o",
            ],
            stdin: None,
            expect: Error(&["holds 3 labels for 200 evaluation samples"]),
        },
        Case {
            name: "calibration with one 3e38 value (9.9% agreement, silently)",
            setup: |_, d| {
                let mut data: Vec<f32> = (0..16 * 64).map(|i| (i % 17) as f32).collect();
                data[3 * 64 + 10] = 3e38;
                write(d, "outlier.npy", npy_f32(&[16, 64], &data));
            },
            args: &["compile", "{M}/digits_mlp.onnx", "--calibration", "outlier.npy", "-o", "o"],
            stdin: None,
            expect: Error(&["calibration input `input`", "the value 3e38 (sample 3, element 10)"]),
        },
        Case {
            name: "an all-NaN calibration file (a junk model)",
            setup: |_, d| write(d, "all_nan.npy", npy_f32(&[2, 64], &[f32::NAN; 128])),
            args: &["compile", "{M}/digits_mlp.onnx", "--calibration", "all_nan.npy", "-o", "o"],
            stdin: None,
            expect: Error(&["all 128 values are NaN or infinite"]),
        },
        // ---- malformed files
        Case {
            name: "garbage ONNX",
            setup: |_, d| write(d, "g.onnx", b"\xff\xfe garbage, not protobuf".to_vec()),
            args: &["compile", "g.onnx", "-o", "o"],
            stdin: None,
            expect: Error(&["`g.onnx` is not a valid ONNX model"]),
        },
        Case {
            name: "truncated ONNX",
            setup: |c, d| {
                let onnx = std::fs::read(c.models.join("digits_cnn.onnx")).unwrap();
                write(d, "cut.onnx", onnx[..onnx.len() / 2].to_vec());
            },
            args: &["compile", "cut.onnx", "-o", "o"],
            stdin: None,
            expect: Error(&["`cut.onnx` is not a valid ONNX model"]),
        },
        Case {
            name: "an empty ONNX file",
            setup: |_, d| write(d, "empty.onnx", vec![]),
            args: &["compile", "empty.onnx", "-o", "o"],
            stdin: None,
            expect: Error(&["empty.onnx"]),
        },
        Case {
            name: "a missing ONNX file",
            setup: none,
            args: &["compile", "missing.onnx", "-o", "o"],
            stdin: None,
            expect: Error(&["cannot read `missing.onnx`: No such file or directory"]),
        },
        Case {
            name: "a truncated artifact header",
            setup: |_, d| write(d, "bad.smodel", b"SOLIDML\0\x01\x00\xff\xff".to_vec()),
            args: &["run", "bad.smodel", "--input", "{M}/digits_calib.npy", "-o", "r"],
            stdin: None,
            expect: Error(&["`bad.smodel` is not a valid SolidML artifact", "truncated or malformed"]),
        },
        Case {
            name: "an artifact cut in half",
            setup: |c, d| {
                let a = std::fs::read(c.shared.join("digits_mlp.smodel")).unwrap();
                write(d, "half.smodel", a[..a.len() / 2].to_vec());
            },
            args: &["run", "half.smodel", "--input", "{M}/digits_calib.npy", "-o", "r"],
            stdin: None,
            expect: Error(&["`half.smodel` is not a valid SolidML artifact"]),
        },
        Case {
            name: "inspect of an artifact cut in half",
            setup: |c, d| {
                let a = std::fs::read(c.shared.join("digits_mlp.smodel")).unwrap();
                write(d, "half.smodel", a[..a.len() / 2].to_vec());
            },
            args: &["inspect", "half.smodel"],
            stdin: None,
            expect: Error(&["`half.smodel` is not a valid SolidML artifact"]),
        },
        Case {
            name: "a missing artifact",
            setup: none,
            args: &["run", "missing.smodel", "--input", "{M}/digits_calib.npy", "-o", "r"],
            stdin: None,
            expect: Error(&["cannot read or write `missing.smodel`"]),
        },
        Case {
            name: "run on input of the wrong width",
            setup: |_, d| write(d, "x.json", b"[[1, 2, 3]]".to_vec()),
            args: &["run", "{S}/digits_mlp.smodel", "--input", "x.json", "-o", "r"],
            stdin: None,
            expect: Error(&["[1, 3]"]),
        },
        Case {
            name: "run on a ragged JSON array",
            setup: |_, d| write(d, "x.json", b"[[1, 2], [3]]".to_vec()),
            args: &["run", "{S}/digits_mlp.smodel", "--input", "x.json", "-o", "r"],
            stdin: None,
            expect: Error(&["`x.json` is not usable data", "ragged array"]),
        },
        // ---- precompile and its store
        Case {
            name: "--store with a missing directory (created an empty one)",
            setup: none,
            args: &["precompile", "{CALL}", "--store", "no-such-dir"],
            stdin: None,
            expect: Error(&["store directory `no-such-dir`: No such file or directory"]),
        },
        Case {
            name: "precompile @FILE holding no hex",
            setup: |_, d| write(d, "bad.hex", b"0xzz".to_vec()),
            args: &["precompile", "@bad.hex", "--model", "{S}/digits_mlp.smodel"],
            stdin: None,
            expect: Error(&["`bad.hex` is not hex"]),
        },
        Case {
            name: "precompile @FILE that does not exist",
            setup: none,
            args: &["precompile", "@no-such.hex", "--model", "{S}/digits_mlp.smodel"],
            stdin: None,
            expect: Error(&["cannot read or write `no-such.hex`"]),
        },
        Case {
            name: "precompile of an odd number of hex digits",
            setup: none,
            args: &["precompile", "0x1", "--model", "{S}/digits_mlp.smodel"],
            stdin: None,
            expect: Error(&["the input is not hex"]),
        },
        Case {
            name: "precompile - with no hex on standard input",
            setup: |_, d| write(d, "bad.hex", b"not hex\n".to_vec()),
            args: &["precompile", "-", "--model", "{S}/digits_mlp.smodel"],
            stdin: Some("bad.hex"),
            expect: Error(&["standard input is not hex"]),
        },
        Case {
            name: "precompile of an empty input",
            setup: |_, d| write(d, "empty.hex", vec![]),
            args: &["precompile", "@empty.hex", "--model", "{S}/digits_mlp.smodel"],
            stdin: None,
            expect: Error(&["precompile error (code 1"]),
        },
        Case {
            name: "precompile @FILE without end (/dev/zero): refused past the input limit, unread",
            setup: none,
            args: &["precompile", "@/dev/zero", "--model", "{S}/digits_mlp.smodel"],
            stdin: None,
            expect: Error(&["`/dev/zero` holds more than 33558532 bytes", "at most 16777216 bytes"]),
        },
        Case {
            name: "precompile - with standard input without end (/dev/zero)",
            setup: none,
            args: &["precompile", "-", "--model", "{S}/digits_mlp.smodel"],
            stdin: Some("/dev/zero"),
            expect: Error(&["standard input holds more than 33558532 bytes"]),
        },
        Case {
            name: "precompile @FILE that is not text",
            setup: |_, d| write(d, "bin.hex", b"\xff\xfe\x00".to_vec()),
            args: &["precompile", "@bin.hex", "--model", "{S}/digits_mlp.smodel"],
            stdin: None,
            expect: Error(&["`bin.hex` is not hex: it is not UTF-8 text"]),
        },
        // ---- behaviours (exit 0)
        Case {
            name: "run writes outputs named `a/b` and `a_b` to distinct files (one overwrote the other)",
            setup: |_, d| {
                write(d, "two.onnx", two_outputs_model());
                compile_in(d, &["compile", "two.onnx", "-o", "m"]);
                write(d, "x.json", b"[[-1, 0.5, 2, -3]]".to_vec());
            },
            args: &["run", "m/two.smodel", "--input", "x.json", "-o", "r"],
            stdin: None,
            expect: Writes {
                output: &["r/a_b.npy", "r/a_b_2.npy"],
                files: &["r/a_b.npy", "r/a_b_2.npy"],
                then: Some(|_, d| {
                    // Relu and Sigmoid of the same input: two different files
                    let (a, b) = (std::fs::read(d.join("r/a_b.npy")).unwrap(), std::fs::read(d.join("r/a_b_2.npy")).unwrap());
                    if a == b { Err("r/a_b.npy and r/a_b_2.npy hold the same array".into()) } else { Ok(()) }
                }),
            },
        },
        Case {
            name: "run -o DIR",
            setup: none,
            args: &["run", "{S}/digits_mlp.smodel", "--input", "{M}/digits_calib.npy", "-o", "r"],
            stdin: None,
            expect: Writes { output: &["r/label.npy", "r/probabilities.npy"], files: &["r/label.npy", "r/probabilities.npy"], then: None },
        },
        Case {
            name: "compile --name: the printed .sol paths are the files written",
            setup: none,
            args: &["compile", "{M}/digits_mlp.onnx", "--calibration", "{M}/digits_calib.npy", "--name", "Digits_2", "-o", "o"],
            stdin: None,
            expect: Writes {
                output: &["solidity     o/Digits_2.sol", "precompile   o/Digits_2Precompile.sol", "o/Digits_2.smodel"],
                files: &["o/Digits_2.sol", "o/Digits_2Precompile.sol", "o/Digits_2.smodel", "o/Digits_2.json"],
                then: None,
            },
        },
        Case {
            name: "compile --eval with --labels of the right length: the accuracies, then the files",
            setup: none,
            args: &[
                "compile",
                "{M}/digits_mlp.onnx",
                "--calibration",
                "{M}/digits_calib.npy",
                "--eval",
                "{M}/digits_eval.npy",
                "--labels",
                "{M}/digits_eval_labels.npy",
                "-o",
                "o",
            ],
            stdin: None,
            expect: Writes { output: &["top-1 agr", "acc int8"], files: &["o/digits_mlp.smodel", "o/digits_mlp.json"], then: None },
        },
        Case {
            name: "calibration with NaN and inf: reported, how many and which input (dropped silently)",
            setup: |c, d| {
                // the real calibration data (float32 [200, 64] after a 128-byte header), one
                // NaN and one inf in it
                let mut b = std::fs::read(c.models.join("digits_calib.npy")).unwrap();
                assert_eq!(b.len(), 128 + 200 * 64 * 4, "digits_calib.npy changed");
                b[128 + 5 * 4..][..4].copy_from_slice(&f32::NAN.to_le_bytes());
                b[128 + 70 * 4..][..4].copy_from_slice(&f32::INFINITY.to_le_bytes());
                write(d, "some_nan.npy", b);
            },
            args: &["compile", "{M}/digits_mlp.onnx", "--calibration", "some_nan.npy", "-o", "o"],
            stdin: None,
            expect: Writes {
                output: &["calibration input `input`: 2 of 12800 values are NaN or infinite"],
                files: &["o/digits_mlp.smodel"],
                then: None,
            },
        },
        Case {
            name: "a model file named contract.onnx: the contract is Mcontract (was `contract contract`, invalid Solidity)",
            setup: |c, d| {
                std::fs::copy(c.models.join("digits_mlp.onnx"), d.join("contract.onnx")).unwrap();
            },
            args: &["compile", "contract.onnx", "--calibration", "{M}/digits_calib.npy", "-o", "o"],
            stdin: None,
            expect: Writes {
                output: &["solidity     o/Mcontract.sol", "precompile   o/McontractPrecompile.sol"],
                files: &["o/contract.smodel", "o/Mcontract.sol", "o/McontractPrecompile.sol"],
                then: None,
            },
        },
        Case {
            name: "a model file named SolidML.onnx: the contract is MSolidML (its SolidML.sol overwrote the library)",
            setup: |c, d| {
                std::fs::copy(c.models.join("digits_mlp.onnx"), d.join("SolidML.onnx")).unwrap();
            },
            args: &["compile", "SolidML.onnx", "--calibration", "{M}/digits_calib.npy", "-o", "o"],
            stdin: None,
            expect: Writes {
                output: &["solidity     o/MSolidML.sol", "precompile   o/MSolidMLPrecompile.sol"],
                files: &["o/SolidML.smodel", "o/MSolidML.sol", "o/MSolidMLPrecompile.sol", "o/SolidML.sol"],
                then: Some(|c, d| {
                    let library = std::fs::read(c.models.join("../../stdlib-sol/src/SolidML.sol")).unwrap();
                    if std::fs::read(d.join("o/SolidML.sol")).unwrap() == library {
                        Ok(())
                    } else {
                        Err("o/SolidML.sol is not the library".into())
                    }
                }),
            },
        },
        Case {
            name: "precompile input on the command line",
            setup: none,
            args: &["precompile", "{CALL}", "--model", "{S}/digits_mlp.smodel"],
            stdin: None,
            expect: Writes { output: &["output 0x", "gas "], files: &[], then: None },
        },
        Case {
            name: "precompile input from @FILE (past the command line's ~128 KiB)",
            setup: |c, d| write(d, "call.hex", format!("{}\n", c.call()).into_bytes()),
            args: &["precompile", "@call.hex", "--model", "{S}/digits_mlp.smodel"],
            stdin: None,
            expect: Writes { output: &["output 0x", "gas "], files: &[], then: None },
        },
        Case {
            name: "precompile input from standard input (-)",
            setup: |c, d| write(d, "call.hex", c.call().into_bytes()),
            args: &["precompile", "-", "--model", "{S}/digits_mlp.smodel"],
            stdin: Some("call.hex"),
            expect: Writes { output: &["output 0x", "gas "], files: &[], then: None },
        },
        Case {
            name: "a store file named 0x<id>.smodel, as printed (was not found)",
            setup: |c, d| {
                std::fs::create_dir(d.join("store")).unwrap();
                std::fs::copy(c.shared.join("digits_mlp.smodel"), d.join(format!("store/{}.smodel", c.model_id))).unwrap();
            },
            args: &["precompile", "{CALL}", "--store", "store"],
            stdin: None,
            expect: Writes { output: &["output 0x", "gas "], files: &[], then: None },
        },
    ]
}

impl Ctx {
    /// A valid call of the shared model: its id, then 64 input bytes.
    fn call(&self) -> String {
        format!("{}{}", self.model_id, "05".repeat(64))
    }
}

/// The issue's `.npy`: a header claiming 1e9×64 float32, then 256 bytes.
fn lying_npy() -> Vec<u8> {
    npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000, 64), }", 256)
}

/// `x` [1, 4] → Relu → `a/b`, and → Sigmoid → `a_b`: two outputs whose names map to one file
/// name.
fn two_outputs_model() -> Vec<u8> {
    let mut g = onnx_protobuf::GraphProto::new();
    g.name = "g".into();
    g.input.push(value_info("x", &[1, 4]));
    g.node.push(node("relu", "Relu", &["x"], &["a/b"]));
    g.node.push(node("sigmoid", "Sigmoid", &["x"], &["a_b"]));
    g.output.push(value_info("a/b", &[1, 4]));
    g.output.push(value_info("a_b", &[1, 4]));
    onnx_bytes(g)
}

fn write(dir: &Path, name: &str, bytes: Vec<u8>) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

/// A compile a case's setup needs, under the same limits; it must succeed.
fn compile_in(dir: &Path, args: &[&str]) {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let r = run_limited(dir, &args, None).unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert_eq!(r.code, Some(0), "{args:?}: {}", r.stderr);
}

/// What one run of the binary gave.
struct Ran {
    /// The exit code; `None` when a signal ended it.
    code: Option<i32>,
    stdout: String,
    stderr: String,
    took: Duration,
}

/// Run `solidml args` in `dir` under [`MEMORY_KIB`] and [`DEADLINE`] (killed past it: an error).
fn run_limited(dir: &Path, args: &[String], stdin: Option<&Path>) -> Result<Ran, String> {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("ulimit -v {MEMORY_KIB} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_solidml"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    match stdin {
        Some(p) => cmd.stdin(std::fs::File::open(p).map_err(|e| e.to_string())?),
        None => cmd.stdin(Stdio::null()),
    };
    let started = Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("spawn: {e}"))?;
    // drained while it runs: a full pipe would stall the child
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = vec![];
            let _ = r.read_to_end(&mut s);
            String::from_utf8_lossy(&s).into_owned()
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break s;
        }
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("still running after {DEADLINE:?}: killed\nstderr: {}", err.join().unwrap()));
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let took = started.elapsed();
    Ok(Ran { code: status.code(), stdout: out.join().unwrap(), stderr: err.join().unwrap(), took })
}

/// Every file and directory under `dir`, relative, directories with a trailing `/`.
fn listing(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, at: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(at).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if p.is_dir() {
                out.push(format!("{rel}/"));
                walk(root, &p, out);
            } else {
                out.push(rel);
            }
        }
    }
    let mut out = vec![];
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// miette wraps long messages in a frame: compare with the frame and line breaks taken out.
fn unwrap_report(s: &str) -> String {
    s.replace(['│', '×'], " ").split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A cause of a miette report (`╰─▶ …`, `├─▶ …`) that its message, or an earlier cause,
/// already says ("cannot read `x`: No such file … ╰─▶ No such file …").
fn repeated_cause(stderr: &str) -> Option<String> {
    let flat = unwrap_report(stderr);
    let report = flat.split(" help: ").next().unwrap_or("");
    let parts: Vec<&str> = report.split(['╰', '├']).map(|p| p.trim_start_matches(['─', '▶']).trim()).collect();
    (1..parts.len()).find(|&i| !parts[i].is_empty() && parts[..i].iter().any(|p| p.contains(parts[i]))).map(|i| parts[i].to_string())
}

/// Run one case in `dir`: `Err` says what went wrong.
fn check(ctx: &Ctx, case: &Case, dir: &Path) -> Result<String, String> {
    (case.setup)(ctx, dir);
    let before = listing(dir);
    let args: Vec<String> = case
        .args
        .iter()
        .map(|a| {
            a.replace("{M}", &ctx.models.to_string_lossy()).replace("{S}", &ctx.shared.to_string_lossy()).replace("{CALL}", &ctx.call())
        })
        .collect();
    let r = run_limited(dir, &args, case.stdin.map(|f| dir.join(f)).as_deref())?;
    let report = format!("exit {:?} in {:?}\n--- stdout\n{}--- stderr\n{}", r.code, r.took, r.stdout, r.stderr);
    let fail = |why: String| Err(format!("{why}\n{report}"));
    if r.stderr.contains("panicked") || r.stderr.contains("RUST_BACKTRACE") {
        return fail("a panic".into());
    }
    let Some(code) = r.code else { return fail("ended by a signal (past the 2 GiB limit?)".into()) };
    let after = listing(dir);
    match case.expect {
        Expect::Error(expected) => {
            if code == 0 {
                return fail("exit 0 on a bad input".into());
            }
            let flat = unwrap_report(&r.stderr);
            for e in expected {
                match flat.matches(e).count() {
                    1 => {}
                    0 => return fail(format!("no `{e}` in the error")),
                    n => return fail(format!("`{e}` printed {n} times")),
                }
            }
            if let Some(cause) = repeated_cause(&r.stderr) {
                return fail(format!("the reason `{cause}` printed twice"));
            }
            // one report: miette's `Error:` header or clap's `error:`, once
            let headers = r.stderr.lines().filter(|l| l.starts_with("Error:") || l.starts_with("error:")).count();
            if headers != 1 {
                return fail(format!("{headers} error reports (one expected)"));
            }
            if after != before {
                let new: Vec<&String> = after.iter().filter(|f| !before.contains(f)).collect();
                return fail(format!("files left behind: {new:?}"));
            }
        }
        Expect::Writes { output, files, then } => {
            if code != 0 {
                return fail(format!("exit {code}"));
            }
            let both = format!("{}\n{}", r.stdout, unwrap_report(&r.stderr));
            if let Some(e) = output.iter().find(|e| !both.contains(*e)) {
                return fail(format!("no `{e}` in the output"));
            }
            if let Some(f) = files.iter().find(|f| !dir.join(f).is_file()) {
                return fail(format!("`{f}` not written"));
            }
            // written only under the listed files' directories
            let dirs: Vec<String> = files.iter().filter_map(|f| f.split_once('/').map(|(d, _)| format!("{d}/"))).collect();
            let stray: Vec<&String> =
                after.iter().filter(|f| !before.contains(f) && !dirs.iter().any(|d| f.starts_with(d.as_str()))).collect();
            if !stray.is_empty() {
                return fail(format!("files written outside the output directory: {stray:?}"));
            }
            if let Some(staging) = after.iter().find(|f| f.contains(".solidml-staging")) {
                return fail(format!("the staging directory is left: {staging}"));
            }
            if let Some(Err(why)) = then.map(|f| f(ctx, dir)) {
                return fail(why);
            }
        }
    }
    if r.took > DEADLINE {
        return fail(format!("took {:?}", r.took));
    }
    // the whole report, shown with --nocapture (or when the test fails)
    eprintln!("--- {} ({:?})\n{}{}", case.name, r.took, r.stdout, r.stderr);
    Ok(r.stdout)
}

#[test]
fn a_reason_printed_twice_is_found() {
    let twice = "Error: solidml::compile\n\n  × cannot read `m.onnx`: No such file or directory (os\n  │ error 2)\n  ╰─▶ No such file or directory (os error 2)\n";
    assert_eq!(repeated_cause(twice).as_deref(), Some("No such file or directory (os error 2)"));
    let once = "Error: solidml::artifact\n\n  × `b.smodel` is not a valid SolidML artifact\n  ╰─▶ artifact is truncated or malformed\n  help: artifacts are written by `solidml compile`\n";
    assert_eq!(repeated_cause(once), None);
}

#[test]
fn bad_inputs_fail_cleanly_within_2_gib_and_10_s() {
    let root = std::env::temp_dir().join(format!("solidml-bad-inputs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();

    // the limit is in force: `sh` under the same wrapper reports it
    let r = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {MEMORY_KIB} && exec \"$0\" \"$@\""))
        .args(["sh", "-c", "ulimit -v"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&r.stdout).trim(), MEMORY_KIB.to_string(), "ulimit -v is not applied");

    // a legitimate compile fits in the same limits (the cases' shared artifact)
    let models = PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().join("examples/models");
    let shared = root.join("shared");
    std::fs::create_dir_all(&shared).unwrap();
    let args: Vec<String> = ["compile", "digits_mlp.onnx", "--calibration", "digits_calib.npy", "-o"]
        .iter()
        .map(|s| s.to_string())
        .chain([shared.to_string_lossy().into_owned()])
        .collect();
    let r = run_limited(&models, &args, None).unwrap();
    assert_eq!(r.code, Some(0), "the digits MLP does not compile under the limits: {}", r.stderr);
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(shared.join("digits_mlp.json")).unwrap()).unwrap();
    let ctx = Ctx { models, shared: shared.clone(), model_id: json["modelId"].as_str().unwrap().to_string() };
    let shared_files = listing(&shared);

    let started = Instant::now();
    let mut failures = vec![];
    let mut stdouts = BTreeMap::new();
    for (i, case) in cases().iter().enumerate() {
        let dir = root.join(format!("case{i:02}"));
        std::fs::create_dir_all(&dir).unwrap();
        match check(&ctx, case, &dir) {
            Ok(stdout) => {
                stdouts.insert(case.name, stdout);
            }
            Err(why) => failures.push(format!("case {i} ({}): {why}", case.name)),
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n\n{}", failures.len(), cases().len(), failures.join("\n\n"));
    assert_eq!(listing(&shared), shared_files, "a case wrote into the shared directory");
    // the precompile's answer is the same whichever way its input came
    let answers: Vec<&String> =
        stdouts.iter().filter(|(n, _)| n.starts_with("precompile input") || n.contains("0x<id>")).map(|(_, s)| s).collect();
    assert_eq!(answers.len(), 4);
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    eprintln!("{} cases in {:?}", cases().len(), started.elapsed());
    let _ = std::fs::remove_dir_all(&root);
}
