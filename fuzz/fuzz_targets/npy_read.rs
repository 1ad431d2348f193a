//! The `.npy` reader on arbitrary bytes: errors, never panics, and never allocates more than
//! the bytes hold (the declared size is checked first); a success has exactly as many
//! elements as the header declares.
#![no_main]

use libfuzzer_sys::fuzz_target;
use solidml_compiler::npy;

fuzz_target!(|data: &[u8]| {
    let declared = npy::check_size(data).ok().map(|h| h.shape.iter().product::<usize>());
    if let Ok(a) = npy::read_f32(data) {
        assert_eq!(Some(a.len()), declared, "read_f32: elements differ from the header's shape");
        assert_eq!(Some(a.shape()), npy::header(data).ok().as_ref().map(|h| &h.shape[..]));
    }
    if let Ok(a) = npy::read_i64(data) {
        assert_eq!(Some(a.len()), declared, "read_i64: elements differ from the header's shape");
        assert_eq!(Some(a.shape()), npy::header(data).ok().as_ref().map(|h| &h.shape[..]));
    }
});
