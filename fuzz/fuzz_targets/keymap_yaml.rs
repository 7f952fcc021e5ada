//! A keymap file (`Keymap::from_yaml`) on top of its built-in base, then every lookup the help
//! screen and the key dispatcher make.
#![no_main]

mod common;

use std::path::Path;

use fleetdeck::config::{KeyContext, Keymap};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if common::names_special_file(text) {
        return;
    }
    match Keymap::from_yaml(text, Path::new("/fuzz/keymaps/custom.yaml")) {
        Err(e) => common::check_config_error(&e, text),
        Ok(km) => {
            for ctx in KeyContext::ALL {
                for (label, action) in km.bindings(*ctx) {
                    assert!(!label.is_empty());
                    let _ = km.keys_for(*ctx, action);
                }
                let _ = km.own_bindings(*ctx);
            }
        }
    }
});
