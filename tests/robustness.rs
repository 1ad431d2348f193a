//! Bad input gets an error, never a panic: mutated artifacts through the decoder and the
//! CPU executor, truncated and corrupted ONNX files through import and compilation.
//! (Coverage-guided fuzz targets for the same entry points are in `fuzz/`.)

use std::panic::{AssertUnwindSafe, catch_unwind};

use solidml_compiler::CompileOptions;
use solidml_tests::*;

fn artifact() -> Vec<u8> {
    let path = examples().join("digits_cnn.onnx");
    solidml_compiler::compile(&path, &CompileOptions::default().with_calibration(vec![npy_f32("digits_cnn_calib.npy")])).unwrap().artifact
}

#[test]
fn mutated_artifacts_never_panic() {
    let good = artifact();
    let mut r = Rng(0xA11CE);
    let (mut accepted, mut rejected) = (0, 0);
    for i in 0..20_000 {
        let mut b = good.clone();
        match i % 4 {
            0 => b.truncate(r.range(0, good.len() as i64 - 1) as usize),
            1 => {
                for _ in 0..r.range(1, 4) {
                    let at = r.range(0, b.len() as i64 - 1) as usize;
                    b[at] = r.next_u32() as u8;
                }
            }
            2 => {
                let at = r.range(10, b.len() as i64 - 1) as usize;
                b.insert(at, r.next_u32() as u8);
            }
            _ => {
                let at = r.range(10, b.len() as i64 - 1) as usize;
                b[at] ^= 1 << r.range(0, 7);
            }
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| match solidml_spec::decode(&b) {
            Ok(model) => {
                // an accepted artifact must also run without panicking
                let inputs: Vec<solidml_exec::Value> =
                    model.inputs.iter().map(|&t| solidml_exec::Value::I8(vec![3; model.tensor(t).len()])).collect();
                let _ = solidml_cpu::CpuExecutor::new(&model).and_then(|e| e.run(&inputs));
                true
            }
            Err(_) => false,
        }));
        match outcome {
            Ok(true) => accepted += 1,
            Ok(false) => rejected += 1,
            Err(_) => panic!("mutation {i} panicked"),
        }
    }
    assert!(rejected > 10_000, "most mutations must be rejected ({accepted} accepted)");
}

#[test]
fn damaged_onnx_files_get_errors_not_panics() {
    for model in ["digits_mlp.onnx", "digits_cnn.onnx", "digits_logreg.onnx", "digits_cnn_qdq.onnx"] {
        let good = std::fs::read(examples().join(model)).unwrap();
        let mut r = Rng(0xBAD);
        let dir = std::env::temp_dir().join(format!("solidml-robust-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for i in 0..300 {
            let mut b = good.clone();
            if i % 2 == 0 {
                b.truncate(r.range(0, good.len() as i64 - 1) as usize);
            } else {
                for _ in 0..r.range(1, 8) {
                    let at = r.range(0, b.len() as i64 - 1) as usize;
                    b[at] = r.next_u32() as u8;
                }
            }
            let path = dir.join(format!("{i}.onnx"));
            std::fs::write(&path, &b).unwrap();
            let res = catch_unwind(AssertUnwindSafe(|| solidml_compiler::compile(&path, &CompileOptions::default()).map(|_| ())));
            assert!(res.is_ok(), "{model} mutation {i} panicked");
        }
    }
}

#[test]
fn fuzz_findings_stay_fixed() {
    // inputs cargo fuzz found (fuzz/): each must give an error, not a panic
    let dir = repo().join("tests/fuzz-regressions");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let res = catch_unwind(AssertUnwindSafe(|| solidml_compiler::compile(&path, &CompileOptions::default()).map(|_| ())));
        assert!(matches!(res, Ok(Err(_))), "{} must be rejected with an error", path.display());
        n += 1;
    }
    assert!(n >= 1);
}
