//! The words kept of a Python file not parsed (see
//! covdoctor::fuzzing::python_words).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| covdoctor::fuzzing::python_words(data));
