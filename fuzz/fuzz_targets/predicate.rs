//! The JSON predicate of `POST /entities/by-query`: any JSON must become a bounded filter or a
//! message, never a panic, a hang or an unbounded expansion.
#![no_main]

use fawkes_portal::catalog::filter::limits;
use fawkes_portal::catalog::predicate::predicate_filter;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(predicate) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    if let Ok(filter) = predicate_filter(&predicate) {
        assert!(filter.any_of.len() <= limits::MAX_ALTERNATIVES);
        assert!(filter.terms() <= limits::MAX_TERMS);
        let _ = filter.matches(&[]);
    }
});
