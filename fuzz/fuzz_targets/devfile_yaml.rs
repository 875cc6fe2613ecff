//! Devfiles: any text must be accepted or refused with a message naming what is wrong, never a
//! panic, a hang or an unbounded allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = fawkes_portal::workspaces::devfile::parse(text);
});
