//! A fleet file (`FleetFile::from_yaml`): devices, defaults, sandboxes, the `update:` block.
#![no_main]

mod common;

use std::path::Path;

use fleetdeck::backend::fleet::file::FleetFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match FleetFile::from_yaml(text, Path::new("/fuzz/site.yaml")) {
        Err(e) => common::check_config_error(&e, text),
        Ok(fleet) => {
            // Device names become file names (update state) and table cells.
            for d in &fleet.devices {
                assert!(!d.name.is_empty() && !d.name.contains('/'), "{:?}", d.name);
                // Review L6: one word of printable characters.
                assert!(
                    !d.name
                        .chars()
                        .any(|c| c.is_whitespace() || fleetdeck::term::sanitize::is_hidden(c)),
                    "{:?}",
                    d.name
                );
            }
        }
    }
});
