//! The INI reader and editor (see covdoctor::fuzzing::ini_round_trip).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| covdoctor::fuzzing::ini_round_trip(data));
