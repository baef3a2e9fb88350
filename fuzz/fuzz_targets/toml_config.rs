//! The TOML configuration model (see covdoctor::fuzzing::toml_config).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| covdoctor::fuzzing::toml_config(data));
