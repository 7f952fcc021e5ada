//! `config.yaml` (`Config::from_yaml`): every error is `file:line:col: message` with a message
//! that is safe to print and of bounded size, and nothing panics.
#![no_main]

mod common;

use std::path::Path;

use fleetdeck::config::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The loader refuses non-UTF-8 before parsing (`read_text`).
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = Config::from_yaml(text, Path::new("/fuzz/config.yaml")) {
        common::check_config_error(&e, text);
    }
});
