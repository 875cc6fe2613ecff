//! The query-string filter grammar: `filter` parameters (split on `&` from the input) must parse
//! or be refused, never panic, and a parsed filter stays within its bounds and can be matched.
#![no_main]

use fawkes_portal::catalog::filter::{Filter, limits, parse_fields};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let params: Vec<String> = text.split('&').map(str::to_owned).collect();
    if let Ok(filter) = Filter::parse(&params) {
        assert!(filter.any_of.len() <= limits::MAX_ALTERNATIVES);
        assert!(filter.terms() <= limits::MAX_TERMS);
        let _ = filter.matches(&[]);
        let _ = filter.clone().and(filter);
    }
    if let Ok(fields) = parse_fields(&params) {
        assert!(fields.len() <= limits::MAX_FIELDS);
    }
});
