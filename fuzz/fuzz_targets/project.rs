//! A one-test project: a conftest.py from the input, checked and fixed
//! (see covdoctor::fuzzing::project).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // The first line is the pyproject.toml's coverage table, the rest the
    // test module.
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let (config, module) = data.split_at(split);
    let mut pyproject = b"[tool.pytest.ini_options]\naddopts = \"--cov\"\n[tool.coverage.run]\n".to_vec();
    pyproject.extend_from_slice(config);
    covdoctor::fuzzing::project(&[
        ("pyproject.toml".to_string(), pyproject),
        ("tests/test_a.py".to_string(), module.to_vec()),
    ]);
});
