//! A theme file (`Theme::from_yaml`) on top of its built-in base, resolved for every colour
//! support (hex → 256 → 16 colours, NO_COLOR).
#![no_main]

mod common;

use std::path::Path;

use fleetdeck::config::{ColorSupport, Role, Theme};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if common::names_special_file(text) {
        return;
    }
    match Theme::from_yaml(text, Path::new("/fuzz/themes/custom.yaml")) {
        Err(e) => common::check_config_error(&e, text),
        Ok(theme) => {
            for support in [
                ColorSupport::TrueColor,
                ColorSupport::Ansi256,
                ColorSupport::Ansi16,
                ColorSupport::NoColor,
            ] {
                let t = theme.resolve(support);
                for role in Role::ALL {
                    let _ = t.style(*role);
                }
                for n in 0..20 {
                    let _ = t.prefix_style(n);
                }
            }
        }
    }
});
