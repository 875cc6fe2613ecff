//! Catalog files: any bytes must parse under the YAML budgets (or be refused), and every parsed
//! document must validate or be refused, without a panic, a hang or an unbounded allocation.
#![no_main]

use fawkes_portal::catalog::parse::parse_documents;
use fawkes_portal::catalog::validate::validate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(documents) = parse_documents(data) else {
        return;
    };
    let kinds = vec!["component".to_owned(), "location".to_owned(), "user".to_owned()];
    for (_, document) in documents {
        if let Ok(entity) = validate(document, &kinds) {
            let _ = fawkes_portal::catalog::relations::relations_of(&entity);
        }
    }
});
