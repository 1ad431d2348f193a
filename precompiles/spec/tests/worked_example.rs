//! The byte-by-byte artifact example of `docs/spec.md` §Artifact format: this model encodes to
//! exactly the bytes the text lists (a fixed model, so regenerating the vectors never moves it).

use solidml_spec::{CumSum, DType, Model, Node, Op, Quant, TensorInfo, arith::Multiplier, artifact::encode};

#[test]
fn the_spec_worked_example_encodes_to_the_listed_bytes() {
    let t = |name: &str, scale_bits: u32, zero_point: i32| TensorInfo {
        name: name.into(),
        shape: vec![1, 3, 1],
        dtype: DType::I8,
        quant: Some(Quant { scale: f32::from_bits(scale_bits), zero_point }),
    };
    let model = Model {
        name: "vector".into(),
        tensors: vec![t("x", 0x3dc4_6208, -11), t("y", 0x3d15_c12c, -72)],
        constants: vec![],
        inputs: vec![0],
        outputs: vec![1],
        nodes: vec![Node {
            name: "op".into(),
            op: Op::CumSum(CumSum {
                axis: 1,
                exclusive: false,
                reverse: false,
                input_zero_point: -11,
                multiplier: Multiplier { multiplier: 1_408_067_611, shift: 2 },
                output_zero_point: -72,
            }),
            inputs: vec![0],
            outputs: vec![1],
        }],
        input_quant: vec![],
    };
    let listed = "534f4c49444d4c00 0100 06766563746f72 02 0178 03010301 00 010862c43d 15 0179 03010301 00 012cc1153d 8f01 \
                  00 0100 0101 01 026f70 18 010000 15 b6a0ebbe0a04 8f01 0100 0101";
    let listed = hex::decode(listed.replace(' ', "")).unwrap();
    assert_eq!(encode(&model).unwrap(), listed);
    // and the text's bytes are in docs/spec.md, in that order
    let spec = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/spec.md")).unwrap();
    for line in ["01 78  03 01 03 01  00  01 08 62 c4 3d  15", "01 79  03 01 03 01  00  01 2c c1 15 3d  8f 01", "b6 a0 eb be 0a  04"] {
        assert!(spec.contains(line), "docs/spec.md lists `{line}`");
    }
}
